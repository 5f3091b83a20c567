// File operations on paths beneath one directory that never follow a symlink on the way there,
// so that a path read from outside input (a record, a journal) can only ever reach the files
// inside that directory, whatever symlinks someone placed in it.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <string>

#include "core/file_descriptor.hpp"
#include "core/relative_path.hpp"

namespace ferry::core {

class ConfinedDir {
  public:
    // Opens root (which may itself be reached through symlinks: the caller chose it).
    explicit ConfinedDir(const std::filesystem::path& root);

    const std::filesystem::path& root() const { return root_; }
    // root/path, for messages.
    std::string show(const RelativePath& path) const;

    // lstat of path; nullopt when it does not exist (or a parent is not a directory). A symlink
    // among its parents is an error naming the path: ferry never resolves through one.
    std::optional<struct stat> status(const RelativePath& path) const;
    bool exists(const RelativePath& path) const { return status(path).has_value(); }
    bool is_directory(const RelativePath& path) const;

    // rename(2) from one path beneath root to another (the parents must exist).
    void rename(const RelativePath& from, const RelativePath& to) const;
    // Creates dir; false when a directory is there already.
    bool create_directory(const RelativePath& dir) const;
    // Creates dir and its missing parents.
    void create_directories(const RelativePath& dir) const;
    // Removes dir when it is an empty directory; leaves anything else alone.
    void remove_if_empty(const RelativePath& dir) const;
    // Removes path and everything below it, deleting symlinks rather than following them; a
    // missing path is fine.
    void remove_all(const RelativePath& path) const;
    // Opens the file at path for reading; a symlink there is refused, not followed.
    FileDescriptor open_for_reading(const RelativePath& path) const;
    // The target of the symlink at path.
    std::string read_link(const RelativePath& path) const;

  private:
    // The directory that holds path (root for a top-level name); -1 with errno when it cannot be
    // reached without following a symlink or does not exist.
    FileDescriptor open_parent(const RelativePath& path) const;
    // Like open_parent, but every failure is an error naming path and what was being done.
    FileDescriptor parent_or_throw(const RelativePath& path, std::string_view doing) const;
    FileDescriptor open_directory(const RelativePath& dir) const;

    std::filesystem::path root_;
    FileDescriptor fd_;
};

}  // namespace ferry::core
