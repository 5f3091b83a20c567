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

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/files.hpp"
#include "core/json_error.hpp"

namespace ferry::client {

namespace {

using Json = nlohmann::json;

// One change as the journal keeps it: every path is relative (to the target root for target
// paths, to the state directory for source and backup), so that recovery needs nothing else.
struct JournalChange {
    ComponentChange::Kind kind = ComponentChange::Kind::install;
    std::string name;
    std::string source;  // directory of the new files, relative to the state directory
    std::string backup;  // directory the old files move to, relative to the state directory
    bool keep = false;   // the backup becomes the component's rollback copy
    std::vector<std::string> move_out;     // old files and symlinks (and displaced ones)
    std::vector<std::string> create_dirs;  // directories that did not exist, parents first
    std::vector<std::string> move_in;      // new files and symlinks
    std::vector<std::string> remove_dirs;  // old directories no longer used, deepest first
};

struct Journal {
    std::string id;  // the staging directory's name
    bool committed = false;
    std::vector<JournalChange> changes;
};

ComponentChange::Kind parse_kind(const std::string& text) {
    for (auto kind : {ComponentChange::Kind::install, ComponentChange::Kind::update,
                      ComponentChange::Kind::remove, ComponentChange::Kind::rollback}) {
        if (text == to_string(kind)) {
            return kind;
        }
    }
    throw Error::format("unknown change \"{}\"", text);
}

std::string write_journal(const Journal& journal) {
    Json changes = Json::array();
    for (const auto& change : journal.changes) {
        changes.push_back({{"kind", to_string(change.kind)},
                           {"name", change.name},
                           {"source", change.source},
                           {"backup", change.backup},
                           {"keep", change.keep},
                           {"move_out", change.move_out},
                           {"create_dirs", change.create_dirs},
                           {"move_in", change.move_in},
                           {"remove_dirs", change.remove_dirs}});
    }
    Json json = {{"id", journal.id},
                 {"state", journal.committed ? "committed" : "applying"},
                 {"changes", std::move(changes)}};
    return json.dump(1) + "\n";
}

Journal parse_journal(const std::string& text, const fs::path& path) {
    try {
        Json json = Json::parse(text);
        Journal journal;
        journal.id = json.at("id").get<std::string>();
        const std::string state = json.at("state").get<std::string>();
        if (state != "applying" && state != "committed") {
            throw Error::format("unknown state \"{}\"", state);
        }
        journal.committed = state == "committed";
        for (const Json& item : json.at("changes")) {
            JournalChange change;
            change.kind = parse_kind(item.at("kind").get<std::string>());
            change.name = item.at("name").get<std::string>();
            change.source = item.at("source").get<std::string>();
            change.backup = item.at("backup").get<std::string>();
            change.keep = item.at("keep").get<bool>();
            change.move_out = item.at("move_out").get<std::vector<std::string>>();
            change.create_dirs = item.at("create_dirs").get<std::vector<std::string>>();
            change.move_in = item.at("move_in").get<std::vector<std::string>>();
            change.remove_dirs = item.at("remove_dirs").get<std::vector<std::string>>();
            journal.changes.push_back(std::move(change));
        }
        return journal;
    } catch (const Json::exception& e) {
        throw Error::format("{}: the transaction journal is damaged: {}", path.string(),
                            core::json_error_text(e));
    } catch (Error& e) {
        throw Error::format("{}: the transaction journal is damaged: {}", path.string(), e.what());
    }
}

bool lexists(const fs::path& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory_no_follow(const fs::path& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void make_parents(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
        throw Error::format("{}: cannot create: {}", path.parent_path().string(), ec.message());
    }
}

void move(const fs::path& from, const fs::path& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        throw Error::format("cannot move {} to {}: {}", from.string(), to.string(),
                            errno_text(errno));
    }
}

// rmdir that only removes empty directories and ignores the rest.
void remove_if_empty(const fs::path& dir) {
    ::rmdir(dir.c_str());
}

void remove_tree(const fs::path& path) {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) {
        throw Error::format("{}: cannot remove: {}", path.string(), ec.message());
    }
}

void sync_file_system(const fs::path& path) {
    core::FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) {
        ::syncfs(fd.get());
    }
}

std::vector<std::string> parents_first(std::vector<std::string> dirs) {
    std::sort(dirs.begin(), dirs.end());
    return dirs;
}

std::vector<std::string> deepest_first(std::vector<std::string> dirs) {
    std::sort(dirs.rbegin(), dirs.rend());
    return dirs;
}

// The transaction files the staging directory holds besides the new component files.
fs::path staged_components_xml(const fs::path& staging) {
    return staging / "components.xml";
}
fs::path staged_record(const fs::path& staging, std::string_view name) {
    return staging / "records" / (std::string(name) + ".json");
}

void undo(const TargetPaths& paths, const Journal& journal) {
    const fs::path state = paths.state();
    for (auto change = journal.changes.rbegin(); change != journal.changes.rend(); ++change) {
        for (auto path = change->move_in.rbegin(); path != change->move_in.rend(); ++path) {
            const fs::path staged = state / change->source / *path;
            if (!lexists(staged) && lexists(paths.root / *path)) {
                make_parents(staged);
                move(paths.root / *path, staged);
                crash_point("undo: move a new file back");
            }
        }
    }
    for (const auto& change : journal.changes) {
        for (const auto& dir : deepest_first(change.create_dirs)) {
            remove_if_empty(paths.root / dir);
        }
    }
    for (const auto& change : journal.changes) {
        for (const auto& path : change.move_out) {
            const fs::path saved = state / change.backup / "files" / path;
            if (lexists(saved)) {
                make_parents(paths.root / path);
                move(saved, paths.root / path);
                crash_point("undo: restore an old file");
            }
        }
    }
    remove_tree(paths.staging() / journal.id);
    std::error_code ec;
    fs::remove(paths.journal(), ec);
}

void finish(const TargetPaths& paths, const Journal& journal) {
    const fs::path staging = paths.staging() / journal.id;
    for (const auto& change : journal.changes) {
        const fs::path staged = staged_record(staging, change.name);
        if (change.kind == ComponentChange::Kind::remove) {
            std::error_code ec;
            fs::remove(paths.record(change.name), ec);
        } else if (lexists(staged)) {
            move(staged, paths.record(change.name));
        }
        crash_point("finish: record");
    }
    if (lexists(staged_components_xml(staging))) {
        move(staged_components_xml(staging), paths.components_xml());
        crash_point("finish: components.xml");
    }
    for (const auto& change : journal.changes) {
        const fs::path kept = paths.rollback_of(change.name);
        const fs::path backup = paths.state() / change.backup;
        if (change.keep && lexists(backup)) {
            remove_tree(kept);
            crash_point("finish: drop the older rollback copy");
            move(backup, kept);
            crash_point("finish: keep the rollback copy");
        } else if (change.kind == ComponentChange::Kind::remove) {
            remove_tree(kept);
        }
    }
    for (const auto& change : journal.changes) {
        for (const auto& dir : change.remove_dirs) {
            remove_if_empty(paths.root / dir);
        }
    }
    sync_file_system(paths.root);
    remove_tree(staging);
    crash_point("finish: staging removed");
    std::error_code ec;
    fs::remove(paths.journal(), ec);
}

void save_journal(const TargetPaths& paths, const Journal& journal) {
    core::write_file_atomic(paths.journal(), write_journal(journal));
}

std::map<std::string, FileRecord> all_records(const Installation& installation) {
    std::map<std::string, FileRecord> records;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(installation.paths().records(), ec)) {
        if (entry.path().extension() == ".json") {
            const std::string name = entry.path().stem().string();
            if (auto record = installation.record(name)) {
                records.emplace(name, std::move(*record));
            }
        }
    }
    return records;
}

std::string relative_to_state(const TargetPaths& paths, const fs::path& path) {
    return path.lexically_relative(paths.state()).string();
}

// Works out the journal entry of one change from the records and what is on disk now.
JournalChange plan_change(const TargetPaths& paths, const ComponentChange& change,
                          const std::optional<FileRecord>& old_record,
                          const std::map<std::string, std::string>& owners,
                          const fs::path& staging) {
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
                planned.move_out.push_back(file.path);
            }
        }
    }
    std::set<std::string> new_dirs;
    if (change.new_record) {
        for (const auto& file : change.new_record->files) {
            auto owner = owners.find(file.path);
            const bool owned_by_other = owner != owners.end() && owner->second != change.name;
            const fs::path at = paths.root / file.path;
            if (file.type == InstalledFile::Type::directory) {
                new_dirs.insert(file.path);
                if (is_directory_no_follow(at)) {
                    continue;
                }
                if (lexists(at) && old_paths.count(file.path) == 0) {
                    throw Error::format("{}: {} is in the way of the directory {} installs",
                                        change.name, at.string(), file.path);
                }
                planned.create_dirs.push_back(file.path);  // an old file there moves out first
                continue;
            }
            if (owned_by_other) {
                throw Error::format("{}: {} belongs to the installed component {}", change.name,
                                    file.path, owner->second);
            }
            planned.move_in.push_back(file.path);
            if (old_paths.count(file.path) == 0 && lexists(at)) {
                if (is_directory_no_follow(at)) {
                    throw Error::format("{}: {} is a directory where {} installs a file",
                                        change.name, at.string(), file.path);
                }
                planned.move_out.push_back(file.path);  // a file nobody installed: kept aside
            }
        }
    }
    planned.create_dirs = parents_first(planned.create_dirs);
    for (const auto& dir : old_dirs) {
        auto owner = owners.find(dir);
        if (new_dirs.count(dir) == 0 && (owner == owners.end() || owner->second == change.name)) {
            planned.remove_dirs.push_back(dir);
        }
    }
    planned.remove_dirs = deepest_first(planned.remove_dirs);
    return planned;
}

void apply(const TargetPaths& paths, const Journal& journal, const TransactionObserver& observer) {
    const fs::path state = paths.state();
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
            if (lexists(paths.root / path)) {
                const fs::path saved = state / change.backup / "files" / path;
                make_parents(saved);
                move(paths.root / path, saved);
            }
            step("move an old file aside");
        }
    }
    for (const auto& change : journal.changes) {
        for (const auto& dir : change.create_dirs) {
            std::error_code ec;
            fs::create_directory(paths.root / dir, ec);
            if (ec) {
                throw Error::format("{}: cannot create: {}", (paths.root / dir).string(),
                                    ec.message());
            }
        }
    }
    for (const auto& change : journal.changes) {
        for (const auto& path : change.move_in) {
            const fs::path at = paths.root / path;
            if (is_directory_no_follow(at)) {
                remove_if_empty(at);  // an old directory that a file replaces
            }
            move(state / change.source / path, at);
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
        // Who owns what outside this transaction: a change may not take another's files.
        std::map<std::string, FileRecord> records = all_records(installation);
        std::set<std::string> changing;
        for (const auto& change : changes) {
            changing.insert(change.name);
        }
        std::map<std::string, std::string> owners;
        for (const auto& [name, record] : records) {
            for (const auto& file : record.files) {
                if (changing.count(name) == 0 || file.type == InstalledFile::Type::directory) {
                    owners.emplace(file.path, name);
                }
            }
        }
        fs::create_directories(staging / "records");
        for (const auto& change : changes) {
            auto old_record = records.count(change.name) != 0
                                  ? std::optional<FileRecord>(records.at(change.name))
                                  : std::nullopt;
            JournalChange planned = plan_change(paths, change, old_record, owners, staging);
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
    try {
        apply(paths, journal, observer);
        sync_file_system(paths.root);
        crash_point("before commit");
        journal.committed = true;
        save_journal(paths, journal);
    } catch (Error& e) {
        try {
            undo(paths, journal);
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
                 [&] { finish(paths, journal); });
}

Recovery recover(const Installation& installation) {
    const TargetPaths& paths = installation.paths();
    Recovery result = Recovery::nothing;
    if (lexists(paths.journal())) {
        const Journal journal = parse_journal(core::read_file(paths.journal()), paths.journal());
        with_context(
            fmt::format("recovering the interrupted transaction of {}", paths.root.string()), [&] {
                if (journal.committed) {
                    finish(paths, journal);
                } else {
                    undo(paths, journal);
                }
            });
        result = journal.committed ? Recovery::completed : Recovery::rolled_back;
    }
    // Staging left by a process that died before its journal was written.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(paths.staging(), ec)) {
        remove_tree(entry.path());
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
