// The journal of a transaction (<state>/journal.json) as the transaction writes it and recovery
// reads it. Recovery acts on what the journal names, so reading it checks every path: files
// are paths a component may own, and the staged and backed-up copies stay in ferry's staging
// and rollback areas. A journal that fails is an error naming it, before anything is touched.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "client/transaction.hpp"
#include "core/relative_path.hpp"

namespace ferry::client {

// One change as the journal keeps it: target paths are relative to the target root, source and
// backup to the state directory, so that recovery needs nothing else.
struct JournalChange {
    ComponentChange::Kind kind = ComponentChange::Kind::install;
    std::string name;
    std::string source;  // directory of the new files, relative to the state directory
    std::string backup;  // directory the old files move to, relative to the state directory
    bool keep = false;   // the backup becomes the component's rollback copy
    std::vector<core::RelativePath> move_out;     // old files and symlinks (and displaced ones)
    std::vector<core::RelativePath> create_dirs;  // directories that did not exist, parents first
    std::vector<core::RelativePath> move_in;      // new files and symlinks
    std::vector<core::RelativePath> remove_dirs;  // old directories no longer used, deepest first
};

struct Journal {
    std::string id;  // the staging directory's name
    bool committed = false;
    std::vector<JournalChange> changes;
};

std::string write_journal(const Journal& journal);
// Every failure, a path that could reach outside the component's files above all, is an error
// naming path as a damaged journal.
Journal parse_journal(std::string_view text, const std::filesystem::path& path);

// A path relative to the state directory (a journal's source or backup) as a path beneath the
// target root; it must lie in the staging or rollback area.
core::RelativePath state_path(std::string_view relative);

}  // namespace ferry::client
