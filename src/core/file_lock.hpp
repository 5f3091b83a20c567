// An exclusive lock held on a file (flock) for an object's lifetime. The kernel releases it when
// the process dies, so a killed process never leaves a stale lock; the holder writes its pid into
// the file so that a process that finds the lock taken can say who holds it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/file_descriptor.hpp"

namespace ferry::core {

class FileLock {
  public:
    // Takes the lock on path (creating the file) without waiting. When another process holds
    // it, returns nullopt and sets holder_pid to the pid that process wrote (empty when it is
    // not known yet). A file that cannot be opened or locked is a storage error naming it.
    static std::optional<FileLock> try_lock(const std::filesystem::path& path,
                                            std::string& holder_pid);
    // Takes the lock on path (creating the file), waiting while another process holds it. Fails
    // like try_lock.
    static FileLock wait_for(const std::filesystem::path& path);

  private:
    explicit FileLock(FileDescriptor fd) : fd_(std::move(fd)) {}

    FileDescriptor fd_;
};

}  // namespace ferry::core
