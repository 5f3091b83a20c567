// The journal and its two directions. Every step is written so that doing it twice is the same
// as doing it once: recovery may itself be interrupted and run again.
#include "client/transaction.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>

#include "client/journal.hpp"
#include "core/confined_dir.hpp"
#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/files.hpp"

namespace ferry::client {

namespace {

using core::ConfinedDir;
using core::RelativePath;

void sync_file_system(const fs::path& path) {
    core::FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) {
        ::syncfs(fd.get());
    }
}

std::vector<RelativePath> parents_first(std::vector<RelativePath> dirs) {
    std::sort(dirs.begin(), dirs.end());
    return dirs;
}

std::vector<RelativePath> deepest_first(std::vector<RelativePath> dirs) {
    std::sort(dirs.rbegin(), dirs.rend());
    return dirs;
}

// The state's files as paths beneath the root, for moves that must not follow symlinks.
RelativePath state_file(std::string_view relative) {
    return RelativePath::parse(kStateDirName) / RelativePath::parse(relative);
}
RelativePath record_file(std::string_view component) {
    return state_file("files") / (std::string(component) + ".json");
}
RelativePath staging_of(const Journal& journal) {
    return state_path("staging/" + journal.id);
}

// The transaction files the staging directory holds besides the new component files.
fs::path staged_components_xml(const fs::path& staging) {
    return staging / "components.xml";
}
fs::path staged_record(const fs::path& staging, std::string_view name) {
    return staging / "records" / (std::string(name) + ".json");
}

// Moves from to to, creating to's missing parents.
void move_into(const ConfinedDir& target, const RelativePath& from, const RelativePath& to) {
    if (to.has_parent()) {
        target.create_directories(to.parent());
    }
    target.rename(from, to);
}

void undo(const ConfinedDir& target, const TargetPaths& paths, const Journal& journal) {
    for (auto change = journal.changes.rbegin(); change != journal.changes.rend(); ++change) {
        for (auto path = change->move_in.rbegin(); path != change->move_in.rend(); ++path) {
            const RelativePath staged = state_path(change->source) / *path;
            if (!target.exists(staged) && target.exists(*path)) {
                move_into(target, *path, staged);
                crash_point("undo: move a new file back");
            }
        }
    }
    for (const auto& change : journal.changes) {
        for (const auto& dir : deepest_first(change.create_dirs)) {
            target.remove_if_empty(dir);
        }
    }
    for (const auto& change : journal.changes) {
        for (const auto& path : change.move_out) {
            const RelativePath saved = state_path(change.backup) / "files" / path;
            if (target.exists(saved)) {
                move_into(target, saved, path);
                crash_point("undo: restore an old file");
            }
        }
    }
    target.remove_all(staging_of(journal));
    std::error_code ec;
    fs::remove(paths.journal(), ec);
}

void finish(const ConfinedDir& target, const TargetPaths& paths, const Journal& journal) {
    const RelativePath staging = staging_of(journal);
    for (const auto& change : journal.changes) {
        const RelativePath staged = staging / "records" / (change.name + ".json");
        if (change.kind == ComponentChange::Kind::remove) {
            target.remove_all(record_file(change.name));
        } else if (target.exists(staged)) {
            target.rename(staged, record_file(change.name));
        }
        crash_point("finish: record");
    }
    const RelativePath components_xml = RelativePath::parse(kComponentsXmlName);
    if (target.exists(staging / components_xml)) {
        target.rename(staging / components_xml, components_xml);
        crash_point("finish: components.xml");
    }
    for (const auto& change : journal.changes) {
        const RelativePath kept = state_file("rollback") / change.name;
        const RelativePath backup = state_path(change.backup);
        if (change.keep && target.exists(backup)) {
            target.remove_all(kept);
            crash_point("finish: drop the older rollback copy");
            target.rename(backup, kept);
            crash_point("finish: keep the rollback copy");
        } else if (change.kind == ComponentChange::Kind::remove) {
            target.remove_all(kept);
        }
    }
    for (const auto& change : journal.changes) {
        for (const auto& dir : change.remove_dirs) {
            target.remove_if_empty(dir);
        }
    }
    sync_file_system(paths.root);
    target.remove_all(staging);
    crash_point("finish: staging removed");
    std::error_code ec;
    fs::remove(paths.journal(), ec);
}

void save_journal(const TargetPaths& paths, const Journal& journal) {
    core::write_file_atomic(paths.journal(), write_journal(journal));
}

std::map<std::string, FileRecord> all_records(const Installation& installation) {
    std::map<std::string, FileRecord> records;
    const fs::path dir = installation.paths().records();
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() == ".json") {
            const std::string name = it->path().stem().string();
            if (auto record = installation.record(name)) {
                records.emplace(name, std::move(*record));
            }
        }
    }
    if (ec) {
        throw Error::format(ErrorKind::storage, "{}: cannot read the file records: {}",
                            dir.string(), ec.message());
    }
    return records;
}

std::string relative_to_state(const TargetPaths& paths, const fs::path& path) {
    return path.lexically_relative(paths.state()).string();
}

// Who owns which path: the installed components outside this transaction, and the new files of
// the changes. Two changes installing one path, or a change taking an installed component's
// file, are refused with both names.
class Owners {
  public:
    Owners(const std::map<std::string, FileRecord>& records,
           const std::vector<ComponentChange>& changes) {
        std::set<std::string> changing;
        for (const auto& change : changes) {
            changing.insert(change.name);
        }
        for (const auto& [name, record] : records) {
            for (const auto& file : record.files) {
                recorded_.insert(file.path);
                if (changing.count(name) == 0 || file.type == InstalledFile::Type::directory) {
                    owners_.emplace(file.path, Owner{name, file.type, true});
                }
            }
        }
        for (const auto& change : changes) {
            if (change.new_record) {
                for (const auto& file : change.new_record->files) {
                    claim(change.name, file);
                }
            }
        }
    }

    // Whether some installed component's record has path (a file nobody installed has none).
    bool recorded(const std::string& path) const { return recorded_.count(path) != 0; }

    // The component owning path other than self, if any.
    const std::string* other_than(const std::string& path, const std::string& self) const {
        auto it = owners_.find(path);
        return it != owners_.end() && it->second.name != self ? &it->second.name : nullptr;
    }

  private:
    struct Owner {
        std::string name;
        InstalledFile::Type type;
        bool installed;
    };

    void claim(const std::string& component, const InstalledFile& file) {
        auto [it, added] = owners_.emplace(file.path, Owner{component, file.type, false});
        const Owner& owner = it->second;
        const bool shared_directory = owner.type == InstalledFile::Type::directory &&
                                      file.type == InstalledFile::Type::directory;
        if (added || owner.name == component || shared_directory) {
            return;
        }
        if (owner.installed) {
            throw Error::format(ErrorKind::conflict,
                                "{}: {} belongs to the installed component {}", component,
                                file.path, owner.name);
        }
        throw Error::format(ErrorKind::conflict,
                            "{} and {} both install {}; a path can belong to one component only",
                            owner.name, component, file.path);
    }

    std::map<std::string, Owner> owners_;
    std::set<std::string> recorded_;
};

// Works out the journal entry of one change from the records and what is on disk now. Files in
// the way that no component installed are added to unowned.
JournalChange plan_change(const ConfinedDir& target, const ComponentChange& change,
                          const std::optional<FileRecord>& old_record, const Owners& owners,
                          const TargetPaths& paths, const fs::path& staging,
                          std::vector<std::string>& unowned) {
    JournalChange planned;
    planned.kind = change.kind;
    planned.name = change.name;
    planned.keep = change.kind == ComponentChange::Kind::update ||
                   change.kind == ComponentChange::Kind::rollback;
    planned.backup = relative_to_state(paths, staging / (change.name + ".old"));
    if (change.new_record) {
        planned.source = relative_to_state(paths, change.source);
    }
    std::set<std::string> old_dirs;
    std::set<std::string> old_paths;
    if (old_record) {
        for (const auto& file : old_record->files) {
            if (file.type == InstalledFile::Type::directory) {
                old_dirs.insert(file.path);
            } else {
                old_paths.insert(file.path);
                planned.move_out.push_back(installable_path(file.path));
            }
        }
    }
    std::set<std::string> new_dirs;
    if (change.new_record) {
        for (const auto& file : change.new_record->files) {
            const RelativePath at = installable_path(file.path);
            const auto existing = target.status(at);
            if (file.type == InstalledFile::Type::directory) {
                new_dirs.insert(file.path);
                if (existing && S_ISDIR(existing->st_mode)) {
                    continue;
                }
                if (existing && old_paths.count(file.path) == 0) {
                    throw Error::format(ErrorKind::conflict,
                                        "{}: {} is in the way of the directory {} installs",
                                        change.name, target.show(at), file.path);
                }
                planned.create_dirs.push_back(at);  // an old file there moves out first
                continue;
            }
            planned.move_in.push_back(at);
            if (old_paths.count(file.path) == 0 && existing) {
                if (S_ISDIR(existing->st_mode)) {
                    throw Error::format(ErrorKind::conflict,
                                        "{}: {} is a directory where {} installs a file",
                                        change.name, target.show(at), file.path);
                }
                // A component installed by another tool has no record: what its update replaces
                // is taken to be its own.
                const bool installed_elsewhere =
                    !old_record && change.kind == ComponentChange::Kind::update;
                if (!owners.recorded(file.path) && !installed_elsewhere) {
                    unowned.push_back(file.path);
                }
                planned.move_out.push_back(at);  // replaced (--overwrite), or refused below
            }
        }
    }
    planned.create_dirs = parents_first(planned.create_dirs);
    for (const auto& dir : old_dirs) {
        const std::string* owner = owners.other_than(dir, change.name);
        if (new_dirs.count(dir) == 0 && owner == nullptr) {
            planned.remove_dirs.push_back(installable_path(dir));
        }
    }
    planned.remove_dirs = deepest_first(planned.remove_dirs);
    return planned;
}

void apply(const ConfinedDir& target, const Journal& journal,
           const TransactionObserver& observer) {
    std::size_t total = 0;
    for (const auto& change : journal.changes) {
        total += change.move_out.size() + change.move_in.size();
    }
    std::size_t done = 0;
    auto step = [&](std::string_view what) {
        ++done;
        if (observer.progress) {
            observer.progress(what, done, total);
        }
        crash_point(what);
    };
    for (const auto& change : journal.changes) {
        for (const auto& path : change.move_out) {
            if (target.exists(path)) {
                move_into(target, path, state_path(change.backup) / "files" / path);
            }
            step("move an old file aside");
        }
    }
    for (const auto& change : journal.changes) {
        for (const auto& dir : change.create_dirs) {
            target.create_directory(dir);
        }
    }
    for (const auto& change : journal.changes) {
        for (const auto& path : change.move_in) {
            if (target.is_directory(path)) {
                target.remove_if_empty(path);  // an old directory that a file replaces
            }
            target.rename(state_path(change.source) / path, path);
            step("move a new file in");
        }
    }
}

int crash_countdown() {
    const char* value = std::getenv("FERRY_CRASH_AT");
    return value != nullptr ? std::atoi(value) : 0;
}

}  // namespace

void crash_point(std::string_view step) {
    static std::atomic<int> remaining{crash_countdown()};
    if (remaining.load() > 0 && --remaining == 0) {
        std::string message = "ferry: killed at \"" + std::string(step) + "\" (FERRY_CRASH_AT)\n";
        [[maybe_unused]] auto ignored = ::write(2, message.data(), message.size());
        ::raise(SIGKILL);
    }
}

fs::path new_staging_dir(const TargetPaths& paths) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    for (int attempt = 0;; ++attempt) {
        const fs::path dir =
            paths.staging() /
            fmt::format("tx-{}-{}-{}", ::getpid(),
                        std::chrono::duration_cast<std::chrono::milliseconds>(now).count(),
                        attempt);
        std::error_code ec;
        if (fs::create_directory(dir, ec)) {
            return dir;
        }
        if (ec || attempt > 100) {
            throw Error::format("{}: cannot create a staging directory: {}", dir.string(),
                                ec ? ec.message() : "too many attempts");
        }
    }
}

void run_transaction(const Installation& installation, std::vector<ComponentChange> changes,
                     const formats::InstalledComponents& new_state,
                     const TransactionObserver& observer) {
    const TargetPaths& paths = installation.paths();
    const fs::path staging = new_staging_dir(paths);
    Journal journal;
    journal.id = staging.filename().string();
    try {
        const ConfinedDir target(paths.root);
        std::map<std::string, FileRecord> records = all_records(installation);
        const Owners owners(records, changes);
        fs::create_directories(staging / "records");
        for (const auto& change : changes) {
            auto old_record = records.count(change.name) != 0
                                  ? std::optional<FileRecord>(records.at(change.name))
                                  : std::nullopt;
            std::vector<std::string> unowned;
            JournalChange planned =
                plan_change(target, change, old_record, owners, paths, staging, unowned);
            if (!unowned.empty() && !change.overwrite) {
                throw Error::format(
                    ErrorKind::conflict,
                    "{}: {} in {} {} in the way and no installed component owns {}; move {} "
                    "away, or run again with --overwrite to replace {}",
                    change.name, fmt::join(unowned, ", "), paths.root.string(),
                    unowned.size() == 1 ? "is" : "are", unowned.size() == 1 ? "it" : "them",
                    unowned.size() == 1 ? "it" : "them", unowned.size() == 1 ? "it" : "them");
            }
            if (change.new_record) {
                core::write_file_atomic(staged_record(staging, change.name),
                                        write_file_record(*change.new_record));
            }
            if (planned.keep) {
                // The rollback copy describes the version being replaced.
                const fs::path backup = paths.state() / planned.backup;
                fs::create_directories(backup);
                const formats::InstalledComponents current = installation.components();
                formats::InstalledComponents kept{
                    current.application_name, current.application_version, {}};
                if (const auto* entry = current.find(change.name)) {
                    kept.components.push_back(*entry);
                }
                core::write_file_atomic(kept_entry(backup), formats::write_components_xml(kept));
                core::write_file_atomic(
                    kept_record(backup),
                    write_file_record(old_record.value_or(FileRecord{change.name, "", {}})));
            }
            journal.changes.push_back(std::move(planned));
        }
        core::write_file_atomic(staged_components_xml(staging),
                                formats::write_components_xml(new_state));
        save_journal(paths, journal);
    } catch (Error& e) {
        std::error_code ec;
        fs::remove_all(staging, ec);
        e.add_context("preparing the changes (nothing was changed)");
        throw;
    }
    crash_point("journal written");
    const ConfinedDir target(paths.root);
    try {
        apply(target, journal, observer);
        sync_file_system(paths.root);
        crash_point("before commit");
        journal.committed = true;
        save_journal(paths, journal);
    } catch (Error& e) {
        try {
            undo(target, paths, journal);
        } catch (const Error& undo_error) {
            e.add_context(fmt::format(
                "and putting the old files back failed too ({}); the next ferry command on {} "
                "will try again",
                undo_error.what(), paths.root.string()));
            throw;
        }
        e.add_context("applying the changes (everything was put back as it was)");
        throw;
    }
    crash_point("committed");
    with_context("finishing the applied changes (the next ferry command will finish them)",
                 [&] { finish(target, paths, journal); });
}

Recovery recover(const Installation& installation) {
    const TargetPaths& paths = installation.paths();
    const ConfinedDir target(paths.root);
    Recovery result = Recovery::nothing;
    if (const auto text = core::read_file_if_exists(paths.journal())) {
        const Journal journal = parse_journal(*text, paths.journal());
        with_context(
            fmt::format("recovering the interrupted transaction of {}", paths.root.string()), [&] {
                if (journal.committed) {
                    finish(target, paths, journal);
                } else {
                    undo(target, paths, journal);
                }
            });
        result = journal.committed ? Recovery::completed : Recovery::rolled_back;
    }
    // Staging left by a process that died before its journal was written.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(paths.staging(), ec)) {
        target.remove_all(state_file("staging") / entry.path().filename().string());
    }
    return result;
}

std::string_view to_string(ComponentChange::Kind kind) {
    switch (kind) {
        case ComponentChange::Kind::install:
            return "install";
        case ComponentChange::Kind::update:
            return "update";
        case ComponentChange::Kind::remove:
            return "remove";
        case ComponentChange::Kind::rollback:
            return "rollback";
    }
    return "?";
}

}  // namespace ferry::client
