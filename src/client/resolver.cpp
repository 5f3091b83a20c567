// The install-set computation of the client (rules in resolver.hpp): a depth-first walk over
// Dependencies with the walk's path kept for error messages, then AutoDependOn to a fixed point.
#include "client/resolver.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/version.hpp"

namespace ferry::client {

namespace {

using Reason = PlannedComponent::Reason;

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (const std::string& part : parts) {
        if (!out.empty()) {
            out += separator;
        }
        out += part;
    }
    return out;
}

class Resolver {
  public:
    Resolver(const MergedComponents& remote, const formats::InstalledComponents& installed)
        : remote_(remote), installed_(installed) {}

    void request(const std::string& name) {
        const RemoteComponent* r = remote_.find(name);
        if (r == nullptr) {
            throw Error::format("component \"{}\" is not available (no repository has it)", name);
        }
        const formats::ComponentDescription& c = r->update.component;
        if (c.is_virtual) {
            throw Error::format(
                "cannot install \"{}\": it is virtual (installed only as a dependency)", name);
        }
        if (!c.checkable.value_or(true)) {
            throw Error::format(
                "cannot install \"{}\": it is not checkable (select one of its subcomponents)",
                name);
        }
        if (!c.auto_depend_on.empty()) {
            throw Error::format("cannot install \"{}\": it is installed only automatically with {}",
                                name, join(c.auto_depend_on, ", "));
        }
        if (installed_.find(name) != nullptr) {
            plan_.already_installed.push_back(name);
            return;
        }
        visit(*r, Reason::requested, "");
    }

    void add_defaults(bool default_set) {
        for (const RemoteComponent& r : remote_.components) {
            const formats::ComponentDescription& c = r.update.component;
            if (installed_.find(c.name) != nullptr) {
                continue;
            }
            if (c.forced_installation) {
                visit(r, Reason::forced, "");
            } else if (default_set && c.default_value == "true" && is_visible(c, false)) {
                visit(r, Reason::by_default, "");
            }
        }
    }

    void add_auto_dependencies() {
        bool changed = true;
        while (changed) {
            changed = false;
            for (const RemoteComponent& r : remote_.components) {
                const formats::ComponentDescription& c = r.update.component;
                if (c.auto_depend_on.empty() || planned_.contains(c.name) ||
                    installed_.find(c.name) != nullptr) {
                    continue;
                }
                const bool applies =
                    std::all_of(c.auto_depend_on.begin(), c.auto_depend_on.end(),
                                [&](const std::string& expression) {
                                    return is_present(core::parse_dependency(expression));
                                });
                if (applies) {
                    visit(r, Reason::auto_dependency, join(c.auto_depend_on, ","));
                    changed = true;
                }
            }
        }
    }

    InstallPlan finish() {
        std::set<std::string> removed;
        for (const PlannedComponent& p : plan_.install) {
            for (const std::string& replaced : remote_.find(p.name)->update.component.replaces) {
                if (installed_.find(replaced) != nullptr) {
                    removed.insert(replaced);
                }
            }
        }
        plan_.remove.assign(removed.begin(), removed.end());
        return std::move(plan_);
    }

  private:
    const RemoteComponent* replacement_of(const std::string& name) const {
        for (const RemoteComponent& r : remote_.components) {
            const auto& replaces = r.update.component.replaces;
            if (std::find(replaces.begin(), replaces.end(), name) != replaces.end()) {
                return &r;
            }
        }
        return nullptr;
    }

    // Installed or planned in a version that meets the dependency.
    bool is_present(const core::Dependency& dependency) const {
        if (const formats::InstalledComponent* local = installed_.find(dependency.name);
            local != nullptr && core::satisfies(dependency, local->version)) {
            return true;
        }
        return planned_.contains(dependency.name) &&
               core::satisfies(dependency, remote_.find(dependency.name)->update.component.version);
    }

    void visit(const RemoteComponent& r, Reason reason, std::string required_by) {
        const formats::ComponentDescription& c = r.update.component;
        if (planned_.contains(c.name)) {
            return;
        }
        path_.push_back(c.name);
        for (const std::string& expression : c.dependencies) {
            require(core::parse_dependency(expression));
        }
        path_.pop_back();
        planned_.insert(c.name);
        plan_.install.push_back(
            {c.name, c.version, r.repository_url, reason, std::move(required_by)});
    }

    void require(const core::Dependency& dependency) {
        if (std::find(path_.begin(), path_.end(), dependency.name) != path_.end()) {
            throw Error::format("circular dependency: {} -> {}", join(path_, " -> "),
                                dependency.name);
        }
        if (is_present(dependency)) {
            return;
        }
        const RemoteComponent* r = remote_.find(dependency.name);
        const formats::InstalledComponent* local = installed_.find(dependency.name);
        if (r == nullptr && local == nullptr) {
            // As in IFW, a component that Replaces a name stands in for it: a dependency on a
            // component no repository offers any more is met by its replacement.
            if (const RemoteComponent* replacement = replacement_of(dependency.name)) {
                if (installed_.find(replacement->update.component.name) == nullptr) {
                    visit(*replacement, Reason::dependency, path_.back());
                }
                return;
            }
        }
        if (r == nullptr || planned_.contains(dependency.name) ||
            !core::satisfies(dependency, r->update.component.version)) {
            std::string have =
                r == nullptr ? "no repository has it"
                             : fmt::format("the repositories have {}", r->update.component.version);
            if (local != nullptr) {
                have += fmt::format("; {} is installed", local->version);
            }
            throw Error::format("{} -> {}: {} is not available ({})", join(path_, " -> "),
                                dependency.name, core::to_string(dependency), have);
        }
        visit(*r, Reason::dependency, path_.back());
    }

    const MergedComponents& remote_;
    const formats::InstalledComponents& installed_;
    InstallPlan plan_;
    std::set<std::string> planned_;
    std::vector<std::string> path_;  // the components being visited, outermost first
};

}  // namespace

bool is_visible(const formats::ComponentDescription& component, bool all) {
    return all || !component.is_virtual;
}

InstallPlan resolve_install(const MergedComponents& remote,
                            const formats::InstalledComponents& installed,
                            const InstallRequest& request) {
    Resolver resolver(remote, installed);
    for (const std::string& name : request.names) {
        resolver.request(name);
    }
    resolver.add_defaults(request.names.empty());
    resolver.add_auto_dependencies();
    return resolver.finish();
}

std::string_view to_string(PlannedComponent::Reason reason) {
    switch (reason) {
        case Reason::requested:
            return "requested";
        case Reason::by_default:
            return "default";
        case Reason::forced:
            return "forced installation";
        case Reason::dependency:
            return "dependency";
        case Reason::auto_dependency:
            return "automatic dependency";
    }
    return "unknown";
}

}  // namespace ferry::client
