#include "client/operations.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "archive/archive.hpp"
#include "client/services.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/parallel.hpp"
#include "core/program.hpp"
#include "core/version.hpp"
#include "net/url.hpp"
#include "repo/repository_dir.hpp"

namespace ferry::client {

namespace {

// SOURCE_DATE_EPOCH when set, as for repogen's release dates, so that reproducible runs write
// the same components.xml (IFW's tools read its install and update dates).
std::string today() {
    return core::default_release_date();
}

std::string title_of(const formats::ComponentDescription& component) {
    for (const auto& text : component.display_names) {
        if (text.lang.empty()) {
            return text.text;
        }
    }
    return component.display_names.empty() ? component.name : component.display_names[0].text;
}

std::string description_of(const formats::ComponentDescription& component) {
    for (const auto& text : component.descriptions) {
        if (text.lang.empty()) {
            return text.text;
        }
    }
    return component.descriptions.empty() ? "" : component.descriptions[0].text;
}

// The components.xml entry of a component installed from the remote package.
formats::InstalledComponent installed_entry(const formats::PackageUpdate& package,
                                            const FileRecord& record,
                                            const formats::InstalledComponent* previous) {
    const formats::ComponentDescription& c = package.component;
    formats::InstalledComponent entry;
    entry.name = c.name;
    entry.title = title_of(c);
    entry.description = description_of(c);
    entry.version = c.version;
    entry.last_update_date = today();
    entry.install_date = previous != nullptr && !previous->install_date.empty()
                             ? previous->install_date
                             : entry.last_update_date;
    for (const auto& file : record.files) {
        entry.size += file.size;
    }
    entry.sorting_priority = c.sorting_priority;
    entry.tree_name = c.tree_name;
    entry.dependencies = c.dependencies;
    entry.auto_depend_on = c.auto_depend_on;
    entry.forced_installation = c.forced_installation;
    entry.is_virtual = c.is_virtual;
    entry.checkable = c.checkable.value_or(true);
    entry.expanded_by_default = c.expanded_by_default;
    entry.content_sha1 = c.content_sha1;
    return entry;
}

// Downloads, checks and stages the components: their files extracted into a staging directory
// inside the target, licences copied to Licenses/, a record of each.
struct StagedComponent {
    const RemoteComponent* remote = nullptr;
    fs::path source;
    FileRecord record;
    std::vector<std::string> licenses;  // target-relative licence files among its files
};

class StagingArea {
  public:
    explicit StagingArea(const TargetPaths& paths) : dir_(new_staging_dir(paths)) {}
    ~StagingArea() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    const fs::path& dir() const { return dir_; }

  private:
    fs::path dir_;
};

// An archive may write only the component's own files, never the installation's (ferry's state,
// components.xml): those decide what later commands delete.
void refuse_reserved_entries(const std::string& component, const fs::path& archive,
                             const std::vector<archive::ExtractedEntry>& entries) {
    for (const auto& entry : entries) {
        if (is_reserved(core::RelativePath::parse(entry.path))) {
            throw Error::format(
                "{}: {}: entry \"{}\": {}/ and {} are the installation's own files; an archive "
                "may not write them",
                component, archive.string(), entry.path, kStateDirName, kComponentsXmlName);
        }
    }
}

void stop_if_cancelled(const Reporter& reporter) {
    if (reporter.cancelled && reporter.cancelled()) {
        throw OperationError(kCanceled, "cancelled; nothing was changed");
    }
}

std::vector<StagedComponent> stage(Session& session, const StagingArea& area,
                                   const std::vector<const RemoteComponent*>& components,
                                   OperationResult& result) {
    const Reporter& reporter = session.reporter();
    std::vector<DownloadedComponent> downloaded = with_context("downloading", [&] {
        return download_components(components, session.indexes().repositories, session.settings(),
                                   session.remote_options(),
                                   [&](std::uint64_t done, std::uint64_t total) {
                                       result.downloaded_bytes = done;
                                       if (reporter.progress) {
                                           reporter.progress("downloading", done, total);
                                       }
                                   });
    });
    if (reporter.progress_done) {
        reporter.progress_done();
    }
    std::vector<StagedComponent> staged(components.size());
    std::mutex report_mutex;  // the reporter is not thread-safe
    std::size_t finished = 0;
    // Each component goes into its own directory, so components are extracted side by side.
    core::parallel_for(
        components.size(), std::max(1u, std::thread::hardware_concurrency()), [&](std::size_t i) {
            stop_if_cancelled(reporter);
            const DownloadedComponent& files = downloaded.at(i);
            const formats::ComponentDescription& c = components[i]->update.component;
            StagedComponent& item = staged[i];
            item.remote = components[i];
            item.source = area.dir() / c.name;
            fs::create_directories(item.source);
            std::vector<archive::ExtractedEntry> entries;
            for (const fs::path& archive_path : files.archives) {
                auto extracted = archive::extract_archive(archive_path, item.source);
                refuse_reserved_entries(c.name, archive_path, extracted);
                entries.insert(entries.end(), extracted.begin(), extracted.end());
            }
            item.record = record_extraction(c.name, c.version, entries);
            // Licences go where IFW puts them, <target>/Licenses/<file>, as the component's.
            std::vector<archive::ExtractedEntry> own_entries;
            for (const formats::License& licence : c.licenses) {
                const fs::path from = files.meta_dir / licence.file;
                const std::string relative =
                    "Licenses/" + fs::path(licence.file).filename().string();
                if (files.meta_dir.empty() || !fs::is_regular_file(from)) {
                    throw Error::format("{}: the licence file {} is missing from its metadata",
                                        c.name, licence.file);
                }
                fs::create_directories(item.source / "Licenses");
                const std::string text = core::read_file(from);
                core::write_file_atomic(item.source / relative, text);
                own_entries.push_back({relative, archive::ExtractedEntry::Type::file, text.size(),
                                       false, core::sha256_hex(text), ""});
                item.licenses.push_back(relative);
            }
            if (!files.service_file.empty()) {
                // A service's description and image manifest are files the component owns.
                const auto& service = *components[i]->update.service;
                const fs::path manifest = session.installation().paths().images() /
                                          repo::image_blob_path(service.manifest.digest)
                                              .substr(std::string_view("images/").size());
                for (const auto& [relative, from] :
                     {std::pair{service_description_path(c.name), files.service_file},
                      std::pair{service_image_path(c.name), manifest}}) {
                    const std::string text = core::read_file(from);
                    fs::create_directories((item.source / relative).parent_path());
                    core::write_file_atomic(item.source / relative, text);
                    own_entries.push_back({relative, archive::ExtractedEntry::Type::file,
                                           text.size(), false, core::sha256_hex(text), ""});
                }
            }
            if (!own_entries.empty()) {
                merge_record(item.record, record_extraction(c.name, c.version, own_entries));
            }
            std::lock_guard lock(report_mutex);
            ++finished;
            if (reporter.detail) {
                reporter.detail(fmt::format("extracted {} {} ({} files)", c.name, c.version,
                                            item.record.files.size()));
            }
            if (reporter.progress) {
                reporter.progress("extracting", finished, components.size());
            }
        });
    for (const StagedComponent& item : staged) {
        const formats::ComponentDescription& c = item.remote->update.component;
        result.licenses.insert(result.licenses.end(), item.licenses.begin(), item.licenses.end());
        if (!c.script.empty() || !c.operations.empty()) {
            result.scripts_skipped.push_back(c.name);
        }
    }
    if (reporter.progress_done) {
        reporter.progress_done();
    }
    return staged;
}

// The Compose project follows the installed service components (client/services.hpp): after
// every transaction, and when asked to start services that are installed already.
void settle_services(Session& session, OperationResult& result) {
    result.services =
        apply_services(session.installation(), session.service_run(), session.reporter());
}

// Applies staged installs and updates plus removals as one transaction, and fills the result.
void apply(Session& session, std::vector<StagedComponent> staged,
           const std::vector<std::string>& removals,
           const std::map<std::string, std::string>& reasons, bool overwrite,
           OperationResult& result) {
    const Installation& installation = session.installation();
    formats::InstalledComponents state = installation.components();
    if (state.application_name.empty()) {
        for (const auto& repository : session.indexes().repositories) {
            state.application_name = repository.index.application_name;
            state.application_version = repository.index.application_version;
            break;
        }
    }
    std::vector<ComponentChange> changes;
    for (const auto& name : removals) {
        const auto* entry = state.find(name);
        changes.push_back({ComponentChange::Kind::remove, name, {}, std::nullopt, std::nullopt});
        result.changes.push_back({ComponentChange::Kind::remove, name, entry ? entry->version : "",
                                  "", reasons.count(name) ? reasons.at(name) : ""});
    }
    for (auto& item : staged) {
        const std::string& name = item.record.component;
        const auto* previous = state.find(name);
        formats::InstalledComponent entry =
            installed_entry(item.remote->update, item.record, previous);
        const auto kind = previous ? ComponentChange::Kind::update : ComponentChange::Kind::install;
        result.changes.push_back({kind, name, previous ? previous->version : "", entry.version,
                                  reasons.count(name) ? reasons.at(name) : ""});
        changes.push_back({kind, name, item.source, item.record, entry, overwrite});
    }
    formats::InstalledComponents new_state{state.application_name, state.application_version, {}};
    std::set<std::string> dropped(removals.begin(), removals.end());
    for (const auto& component : state.components) {
        if (dropped.count(component.name) == 0) {
            new_state.components.push_back(component);
        }
    }
    for (const auto& change : changes) {
        if (!change.new_entry) {
            continue;
        }
        auto existing = std::find_if(
            new_state.components.begin(), new_state.components.end(),
            [&](const formats::InstalledComponent& c) { return c.name == change.name; });
        if (existing != new_state.components.end()) {
            *existing = *change.new_entry;
        } else {
            new_state.components.push_back(*change.new_entry);
        }
    }
    const Reporter& reporter = session.reporter();
    stop_if_cancelled(reporter);
    TransactionObserver observer;
    observer.progress = [&](std::string_view, std::size_t done, std::size_t total) {
        if (reporter.progress) {
            reporter.progress("applying", done, total);
        }
    };
    run_transaction(installation, std::move(changes), new_state, observer);
    if (reporter.progress_done) {
        reporter.progress_done();
    }
    // The archives are installed; keeping them would only double the disk space used.
    std::error_code ec;
    fs::remove_all(installation.paths().downloads(), ec);
    settle_services(session, result);
}

void refuse_when_mandatory_pending(Session& session, std::string_view what) {
    const UpdateCheck pending = check_updates(session.installed(), session.remote());
    if (pending.mandatory_pending) {
        throw OperationError(
            kForceUpdate,
            fmt::format("cannot {} while essential or forced updates are pending ({}); run {} "
                        "first",
                        what, fmt::join(pending.mandatory_names, ", "),
                        core::suggested_command("update", session.installation().root())));
    }
}

// A licence needs accepting unless the component is installed with that licence file already
// (accepted at its install; an update that keeps its licences does not ask again).
void require_licences_accepted(Session& session,
                               const std::vector<const RemoteComponent*>& components,
                               bool accepted) {
    if (accepted) {
        return;
    }
    std::vector<std::string> named;
    for (const RemoteComponent* component : components) {
        const auto record = session.installation().record(component->update.component.name);
        for (const auto& licence : component->update.component.licenses) {
            const std::string installed_as =
                "Licenses/" + fs::path(licence.file).filename().string();
            if (record && record->find(installed_as) != nullptr) {
                continue;
            }
            named.push_back(fmt::format("{} ({}, for {})", licence.name, licence.file,
                                        component->update.component.name));
        }
    }
    if (!named.empty()) {
        throw Error::format(
            "these components come with licences that must be accepted: {}; read them and run "
            "again with --accept-licenses",
            fmt::join(named, ", "));
    }
}

const RemoteComponent& remote_component(Session& session, const std::string& name) {
    const RemoteComponent* component = session.remote().find(name);
    if (component == nullptr) {
        throw OperationError(kNoPackagesFound,
                             fmt::format("no repository has a component named \"{}\"", name));
    }
    return *component;
}

}  // namespace

OperationResult install(Session& session, const InstallOptions& options) {
    OperationResult result;
    for (const auto& name : options.names) {
        remote_component(session, name);
    }
    refuse_when_mandatory_pending(session, "install");
    const InstallPlan plan =
        resolve_install(session.remote(), session.installed(), {options.names});
    result.already_installed = plan.already_installed;
    if (plan.install.empty()) {
        if (session.service_run().start) {
            settle_services(session, result);
        }
        return result;
    }
    std::vector<const RemoteComponent*> components;
    std::map<std::string, std::string> reasons;
    for (const auto& planned : plan.install) {
        check_component_name(planned.name);
        components.push_back(session.remote().find(planned.name));
        reasons[planned.name] =
            planned.required_by.empty()
                ? std::string(to_string(planned.reason))
                : fmt::format("{} of {}", to_string(planned.reason), planned.required_by);
    }
    for (const auto& name : plan.remove) {
        reasons[name] = "replaced";
    }
    require_licences_accepted(session, components, options.accept_licenses);
    StagingArea area(session.installation().paths());
    apply(session, stage(session, area, components, result), plan.remove, reasons,
          options.overwrite, result);
    return result;
}

OperationResult update(Session& session, const std::vector<std::string>& names,
                       bool accept_licenses, bool overwrite) {
    OperationResult result;
    const formats::InstalledComponents& installed = session.installed();
    for (const auto& name : names) {
        if (installed.find(name) == nullptr) {
            throw Error::format("\"{}\" is not installed in {}", name,
                                session.installation().root().string());
        }
    }
    const UpdateCheck check = check_updates(installed, session.remote());
    std::vector<const AvailableUpdate*> chosen;
    for (const auto& available : check.updates) {
        const bool mandatory = std::binary_search(check.mandatory_names.begin(),
                                                  check.mandatory_names.end(), available.name);
        if (check.mandatory_pending ? mandatory
                                    : names.empty() || std::find(names.begin(), names.end(),
                                                                 available.name) != names.end()) {
            chosen.push_back(&available);
        }
    }
    if (check.mandatory_pending && chosen.size() < check.updates.size()) {
        result.exit_code = kEssentialUpdated;
    }
    if (chosen.empty()) {
        return result;
    }
    std::vector<const RemoteComponent*> components;
    std::map<std::string, std::string> reasons;
    std::set<std::string> planned;
    for (const AvailableUpdate* available : chosen) {
        check_component_name(available->name);
        components.push_back(session.remote().find(available->name));
        reasons[available->name] = std::string(to_string(available->reason));
        planned.insert(available->name);
    }
    // Dependencies a new version brings that are not installed yet are installed with it.
    std::vector<std::string> missing;
    for (const RemoteComponent* component : std::vector(components)) {
        for (const auto& expression : component->update.component.dependencies) {
            const std::string name = core::parse_dependency(expression).name;
            if (installed.find(name) == nullptr && planned.insert(name).second) {
                missing.push_back(name);
            }
        }
    }
    if (!missing.empty()) {
        const InstallPlan extra = resolve_install(session.remote(), installed, {missing});
        for (const auto& item : extra.install) {
            if (std::none_of(components.begin(), components.end(), [&](const auto* c) {
                    return c->update.component.name == item.name;
                })) {
                check_component_name(item.name);
                components.push_back(session.remote().find(item.name));
                reasons[item.name] = "new dependency";
            }
        }
    }
    require_licences_accepted(session, components, accept_licenses);
    StagingArea area(session.installation().paths());
    apply(session, stage(session, area, components, result), {}, reasons, overwrite, result);
    return result;
}

OperationResult remove(Session& session, const std::vector<std::string>& names) {
    OperationResult result;
    const formats::InstalledComponents& installed = session.installed();
    if (names.empty()) {
        throw Error("name the components to remove");
    }
    std::map<std::string, std::string> reasons;
    std::vector<std::string> order;
    for (const auto& name : names) {
        const auto* entry = installed.find(name);
        if (entry == nullptr) {
            throw OperationError(kNoPackagesFound,
                                 fmt::format("\"{}\" is not installed in {}", name,
                                             session.installation().root().string()));
        }
        if (entry->forced_installation) {
            throw Error::format("\"{}\" is a forced component and cannot be removed", name);
        }
        if (reasons.emplace(name, "requested").second) {
            order.push_back(name);
        }
    }
    // Dependents and auto-dependent components go with what they need, repeatedly.
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& component : installed.components) {
            if (reasons.count(component.name) != 0) {
                continue;
            }
            std::string because;
            for (const auto& expression : component.dependencies) {
                const std::string needed = core::parse_dependency(expression).name;
                if (reasons.count(needed) != 0) {
                    because = "depends on " + needed;
                }
            }
            for (const auto& needed : component.auto_depend_on) {
                if (reasons.count(needed) != 0) {
                    because = "installed automatically with " + needed;
                }
            }
            if (!because.empty()) {
                if (component.forced_installation) {
                    throw Error::format("cannot remove {}: the forced component {} {}",
                                        fmt::join(names, ", "), component.name, because);
                }
                reasons.emplace(component.name, because);
                order.push_back(component.name);
                grew = true;
            }
        }
    }
    for (const auto& name : order) {
        if (!session.installation().record(name) && session.reporter().warning) {
            session.reporter().warning(fmt::format(
                "{} was not installed by ferry: its entry is removed, its files are left", name));
        }
    }
    apply(session, {}, order, reasons, false, result);
    return result;
}

OperationResult rollback(Session& session, const std::vector<std::string>& names, bool overwrite) {
    OperationResult result;
    const Installation& installation = session.installation();
    const std::vector<std::string> kept = installation.rollback_names();
    std::vector<std::string> chosen = names.empty() ? kept : names;
    if (chosen.empty()) {
        throw OperationError(kNoPackagesFound,
                             fmt::format("{}: no earlier versions are kept; nothing to roll back",
                                         installation.root().string()));
    }
    formats::InstalledComponents state = installation.components();
    std::vector<ComponentChange> changes;
    for (const auto& name : chosen) {
        check_component_name(name);
        const auto entry = installation.rollback_entry(name);
        if (!entry || !std::binary_search(kept.begin(), kept.end(), name)) {
            throw OperationError(kNoPackagesFound,
                                 fmt::format("no earlier version of \"{}\" is kept in {}", name,
                                             installation.root().string()));
        }
        const fs::path copy = installation.paths().rollback_of(name);
        FileRecord record =
            parse_file_record(core::read_file(kept_record(copy)), kept_record(copy).string());
        const auto* current = state.find(name);
        result.changes.push_back({ComponentChange::Kind::rollback, name,
                                  current ? current->version : "", entry->version, "requested"});
        changes.push_back({ComponentChange::Kind::rollback, name, kept_files(copy),
                           std::move(record), *entry, overwrite});
        auto existing = std::find_if(state.components.begin(), state.components.end(),
                                     [&](const auto& c) { return c.name == name; });
        if (existing != state.components.end()) {
            *existing = *entry;
        } else {
            state.components.push_back(*entry);
        }
    }
    run_transaction(installation, std::move(changes), state);
    settle_services(session, result);
    return result;
}

VerifyResult verify(Session& session, const std::vector<std::string>& names) {
    VerifyResult result;
    const formats::InstalledComponents& installed = session.installed();
    for (const auto& name : names) {
        if (installed.find(name) == nullptr) {
            throw OperationError(kNoPackagesFound,
                                 fmt::format("\"{}\" is not installed in {}", name,
                                             session.installation().root().string()));
        }
    }
    for (const auto& component : installed.components) {
        if (!names.empty() &&
            std::find(names.begin(), names.end(), component.name) == names.end()) {
            continue;
        }
        auto record = session.installation().record(component.name);
        if (!record) {
            result.unrecorded.push_back(component.name);
            continue;
        }
        result.checked.push_back(component.name);
        result.files += record->files.size();
        auto problems = verify_record(session.installation().root(), *record);
        result.problems.insert(result.problems.end(), problems.begin(), problems.end());
    }
    return result;
}

UpdateCheck check(Session& session) {
    return check_updates(session.installed(), session.remote());
}

}  // namespace ferry::client
