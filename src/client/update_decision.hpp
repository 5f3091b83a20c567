// IFW's update rules as pure functions: merging the indexes of several repositories into one
// component list, and deciding which installed components have an update.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "formats/components_xml.hpp"
#include "formats/updates_xml.hpp"

namespace ferry::client {

// One component as the merged remote side offers it, with the repository it comes from.
struct RemoteComponent {
    formats::PackageUpdate update;
    std::string repository_url;
    int priority = 0;
};

// A fetched repository: its URL, the priority the user gave it and its parsed Updates.xml.
struct RemoteRepository {
    std::string url;
    int priority = 0;
    formats::RepositoryIndex index;
};

struct SkippedRepository {
    std::string url;
    std::string reason;
    bool operator==(const SkippedRepository&) const = default;
};

struct MergedComponents {
    std::vector<RemoteComponent> components;  // one per name, sorted by name
    std::vector<SkippedRepository> skipped;   // repositories made for another application

    const RemoteComponent* find(std::string_view name) const;
};

// Merges the repositories' components. A repository whose ApplicationName is neither
// "{AnyApplication}" nor application_name is skipped with a reason (an empty application_name
// accepts every repository). The same name in several repositories: the higher version wins
// (core::compare_versions), then the higher priority, then the repository listed first.
MergedComponents merge_repositories(const std::vector<RemoteRepository>& repositories,
                                    std::string_view application_name);

enum class UpdateReason {
    none,
    content_changed,  // the remote ContentSha1 differs from the installed one
    newer_version,    // the remote version is greater
    new_essential,    // an Essential component that is not installed yet
};

// Why the remote package updates the installed component, by the rule IFW documents ("if the
// online version number is greater than the local one, the installer displays it"):
// - a remote version that compares greater (core::compare_versions) is an update;
// - so is a remote ContentSha1 that is non-empty and differs from the installed one (even when
//   the version is lower or the same);
// - dates play no part. IFW's own code also hides an update whose ReleaseDate is before the
//   installed LastUpdateDate, so a publisher who raises Version and forgets ReleaseDate ships
//   an update nobody sees; ferry offers it (explain_update says IFW would not).
UpdateReason update_reason(const formats::InstalledComponent& installed,
                           const formats::PackageUpdate& remote);

// The decision in words, for check-updates -v: "offered: ..." or "not offered: ...", with the
// versions, ContentSha1 and dates it rests on.
std::string explain_update(const formats::InstalledComponent& installed,
                           const formats::PackageUpdate& remote);

inline bool needs_update(const formats::InstalledComponent& installed,
                         const formats::PackageUpdate& remote) {
    return update_reason(installed, remote) != UpdateReason::none;
}

struct AvailableUpdate {
    std::string name;
    std::string installed_version;  // empty for a new essential component
    std::string new_version;
    UpdateReason reason = UpdateReason::none;
    bool essential = false;
    bool forced_update = false;
    std::string repository_url;
    bool operator==(const AvailableUpdate&) const = default;
};

// The result of check-updates, as data for the CLI.
//
// IFW makes an Essential or ForcedUpdate update mandatory: while one is pending, the
// maintenance tool refuses to install or remove anything else and exits with code 5 until the
// user updates. `mandatory_pending` and `mandatory_names` carry exactly that: when the flag is
// set, `ferry install` and `ferry remove` must refuse (exit code 5) and name the components
// `ferry update` has to bring up to date first. Essential components that a repository offers
// but that are not installed yet are part of the mandatory updates, as IFW installs them with
// the next update.
struct UpdateCheck {
    std::vector<AvailableUpdate> updates;  // sorted by name
    bool mandatory_pending = false;
    std::vector<std::string> mandatory_names;  // sorted

    static constexpr int kMandatoryUpdateExitCode = 5;
};

UpdateCheck check_updates(const formats::InstalledComponents& installed,
                          const MergedComponents& remote);

std::string_view to_string(UpdateReason reason);

}  // namespace ferry::client
