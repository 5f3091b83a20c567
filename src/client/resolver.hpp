// What to install: the full install set for a request, from the merged remote components and
// the installed ones, following IFW's Dependencies, AutoDependOn, Virtual, Forced and Replaces.
#pragma once

#include <string>
#include <vector>

#include "client/update_decision.hpp"
#include "formats/component.hpp"
#include "formats/components_xml.hpp"
#include "formats/updates_xml.hpp"

namespace ferry::client {

// Whether a component shows up in listings: virtual components stay hidden unless --all.
bool is_visible(const formats::ComponentDescription& component, bool all);

struct InstallRequest {
    // Components the user named; empty means the default set: every visible component with
    // Default "true" (Default "script" needs the component's script and does not count) plus
    // every ForcedInstallation component.
    std::vector<std::string> names;
};

struct PlannedComponent {
    enum class Reason { requested, by_default, forced, dependency, auto_dependency };
    std::string name;
    std::string version;
    std::string repository_url;
    Reason reason = Reason::requested;
    std::string required_by;  // for dependency and auto_dependency: the component that pulled it
    bool operator==(const PlannedComponent&) const = default;
};

struct InstallPlan {
    std::vector<PlannedComponent> install;  // dependencies before their dependents
    // Installed components that a planned component Replaces: removed when it is installed.
    std::vector<std::string> remove;  // sorted
    // Requested components that are installed already (and nothing to do for them).
    std::vector<std::string> already_installed;
};

// Computes the install plan. Rules:
// - ForcedInstallation components that are not installed are always added;
// - dependencies ("name", "name:>=1.0", see core::parse_dependency) are met by an installed
//   version or by the remote version, which is then installed too; a dependency that neither
//   meets is an error naming the chain: "com.a -> com.b -> com.c: com.c:>=2.0 is not available
//   (the repositories have 1.5)"; a cycle is "circular dependency: com.a -> com.b -> com.a";
// - a dependency on a name no repository offers and nothing installed has is met by a
//   component that Replaces that name (installed, or planned with its own dependencies);
// - a component whose AutoDependOn names are all installed or planned is added (the first by
//   name each time), until none is left;
// - naming a virtual or uncheckable component, an auto-dependent one (installed only with what
//   it depends on) or an unknown one is an error, as in IFW's command line.
// The order is deterministic: roots in the order named (default set: by name), each after its
// dependencies in the order they are declared, auto-dependent components last.
// Chains in messages longer than a dozen names show their ends and how many are left out.
// Time and memory are near-linear in the components and dependencies, whatever their shape
// (a chain of 20,000 resolves in milliseconds).
InstallPlan resolve_install(const MergedComponents& remote,
                            const formats::InstalledComponents& installed,
                            const InstallRequest& request);

// Whether a client can install each of the components into an empty target: throws the error
// resolve_install would (a dependency that no component meets, a circular dependency, a
// malformed dependency expression) for the first component, by name, that it cannot. For a
// market, so that it never accepts a revision its clients cannot resolve.
void check_resolvable(const MergedComponents& components);
void check_resolvable(const formats::RepositoryIndex& index);

std::string_view to_string(PlannedComponent::Reason reason);

}  // namespace ferry::client
