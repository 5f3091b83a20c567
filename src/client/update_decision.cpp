// The update decisions of the maintenance tool: which repository's package counts for a name,
// and whether it updates what is installed (rules in update_decision.hpp).
#include "client/update_decision.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "core/version.hpp"

namespace ferry::client {

namespace {

constexpr std::string_view kAnyApplication = "{AnyApplication}";

// A package and where it comes from, while the winner for its name is chosen.
struct Candidate {
    const formats::PackageUpdate* package;
    const RemoteRepository* repository;
};

// Whether candidate should replace the component already chosen for its name.
bool beats(const Candidate& candidate, const Candidate& chosen) {
    const int order = core::compare_versions(candidate.package->component.version,
                                             chosen.package->component.version);
    if (order != 0) {
        return order > 0;
    }
    return candidate.repository->priority > chosen.repository->priority;
}

}  // namespace

const RemoteComponent* MergedComponents::find(std::string_view name) const {
    auto it = std::lower_bound(
        components.begin(), components.end(), name,
        [](const RemoteComponent& c, std::string_view n) { return c.update.component.name < n; });
    if (it == components.end() || it->update.component.name != name) {
        return nullptr;
    }
    return &*it;
}

MergedComponents merge_repositories(const std::vector<RemoteRepository>& repositories,
                                    std::string_view application_name) {
    MergedComponents merged;
    // The winners are chosen first and copied once: a package is large, and an index can list
    // thousands.
    std::map<std::string_view, Candidate> by_name;
    for (const RemoteRepository& repository : repositories) {
        const std::string& name = repository.index.application_name;
        if (!application_name.empty() && name != kAnyApplication && name != application_name) {
            merged.skipped.push_back(
                {repository.url, fmt::format("made for the application \"{}\", not \"{}\"", name,
                                             application_name)});
            continue;
        }
        for (const formats::PackageUpdate& package : repository.index.packages) {
            const Candidate candidate{&package, &repository};
            auto [it, added] = by_name.try_emplace(package.component.name, candidate);
            if (!added && beats(candidate, it->second)) {
                it->second = candidate;
            }
        }
    }
    merged.components.reserve(by_name.size());
    for (const auto& [name, chosen] : by_name) {
        merged.components.push_back(
            {*chosen.package, chosen.repository->url, chosen.repository->priority});
    }
    return merged;
}

UpdateReason update_reason(const formats::InstalledComponent& installed,
                           const formats::PackageUpdate& remote) {
    const formats::ComponentDescription& c = remote.component;
    if (core::compare_versions(c.version, installed.version) > 0) {
        return UpdateReason::newer_version;
    }
    if (!c.content_sha1.empty() && c.content_sha1 != installed.content_sha1) {
        return UpdateReason::content_changed;
    }
    return UpdateReason::none;
}

std::string explain_update(const formats::InstalledComponent& installed,
                           const formats::PackageUpdate& remote) {
    const formats::ComponentDescription& c = remote.component;
    const int order = core::compare_versions(c.version, installed.version);
    const std::string_view relation = order > 0    ? "greater than"
                                      : order == 0 ? "the same as"
                                                   : "less than";
    std::string text;
    switch (update_reason(installed, remote)) {
        case UpdateReason::newer_version:
            text = fmt::format(
                "offered: the repository's version {} is greater than the "
                "installed {}",
                c.version, installed.version);
            break;
        case UpdateReason::content_changed:
            text = fmt::format(
                "offered: the repository's ContentSha1 {} differs from the "
                "installed {} (version {}, {} the installed {})",
                c.content_sha1, installed.content_sha1.empty() ? "(none)" : installed.content_sha1,
                c.version, relation, installed.version);
            break;
        default:
            text = fmt::format("not offered: the repository's version {} is {} the installed {}",
                               c.version, relation, installed.version);
            if (!c.content_sha1.empty()) {
                text += " and its ContentSha1 is the same";
            }
            return text;
    }
    // IFW's maintenance tool hides such an update (its code, not its documentation); saying so
    // explains why an IFW installation of the same repository would show nothing.
    if (formats::is_iso_date(installed.last_update_date) && formats::is_iso_date(c.release_date) &&
        installed.last_update_date > c.release_date) {
        text += fmt::format(
            "; its ReleaseDate {} is before the installed LastUpdateDate {}, so IFW's "
            "maintenance tool would not offer it",
            c.release_date, installed.last_update_date);
    }
    return text;
}

UpdateCheck check_updates(const formats::InstalledComponents& installed,
                          const MergedComponents& remote) {
    UpdateCheck check;
    // By name, so that large installations are checked in linear time.
    std::unordered_map<std::string_view, const formats::InstalledComponent*> by_name;
    by_name.reserve(installed.components.size());
    for (const formats::InstalledComponent& component : installed.components) {
        by_name.emplace(component.name, &component);
    }
    for (const RemoteComponent& r : remote.components) {
        const formats::ComponentDescription& c = r.update.component;
        auto found = by_name.find(c.name);
        const formats::InstalledComponent* local = found != by_name.end() ? found->second : nullptr;
        AvailableUpdate update{
            c.name,          "", c.version, UpdateReason::none, c.essential, c.forced_update,
            r.repository_url};
        if (local != nullptr) {
            update.installed_version = local->version;
            update.reason = update_reason(*local, r.update);
        } else if (c.essential) {
            update.reason = UpdateReason::new_essential;
        }
        if (update.reason == UpdateReason::none) {
            continue;
        }
        if (update.essential || update.forced_update) {
            check.mandatory_pending = true;
            check.mandatory_names.push_back(update.name);
        }
        check.updates.push_back(std::move(update));
    }
    return check;
}

std::string_view to_string(UpdateReason reason) {
    switch (reason) {
        case UpdateReason::none:
            return "none";
        case UpdateReason::content_changed:
            return "content changed";
        case UpdateReason::newer_version:
            return "newer version";
        case UpdateReason::new_essential:
            return "new essential component";
    }
    return "unknown";
}

}  // namespace ferry::client
