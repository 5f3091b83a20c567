// Small, careful file operations: whole-file reads with a size bound, atomic replacement
// (temporary file + fsync + rename), and scratch directories that clean up after themselves.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::core {

namespace fs = std::filesystem;

// Reads a whole (small) file; refuses files larger than max_bytes. Errors name the path.
std::string read_file(const fs::path& path, std::uint64_t max_bytes = 64u << 20);

// Like read_file, but a file that does not exist is nullopt. Any other failure (a permission
// denied above all) is an error: an unreadable state file never reads as an absent one.
std::optional<std::string> read_file_if_exists(const fs::path& path,
                                               std::uint64_t max_bytes = 64u << 20);

// Replaces path with content atomically: a reader sees the old file or the new one, never a
// mix, and a crash leaves no partial file at path. The temporary file is created with mode (less
// the umask), so a secret written with 0600 is never readable by others, not even briefly.
void write_file_atomic(const fs::path& path, std::string_view content, mode_t mode = 0644);

// Where streamed bytes go: called with each piece in order; throws to stop the stream.
using ByteSink = std::function<void(const char*, std::size_t)>;

// Writes all of data to fd, again after EINTR and short writes. Throws file_error naming
// `name` (the file or stream written) and the system's reason.
void write_all(int fd, const char* data, std::size_t size, std::string_view name);

// fsync of a file or directory; errors name the path.
void sync_path(const fs::path& path);

// A unique sibling name for a temporary file next to path (same filesystem, so rename works).
fs::path temporary_sibling(const fs::path& path);

// A directory removed (recursively) when the object goes away, unless released.
class ScratchDir {
  public:
    // Creates a fresh directory inside parent (the system temp dir when empty).
    explicit ScratchDir(const fs::path& parent = {}, std::string_view prefix = "ferry-");
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    const fs::path& path() const { return path_; }
    void release() { path_.clear(); }

  private:
    fs::path path_;
};

// The timestamp reproducible output uses: SOURCE_DATE_EPOCH when set (an invalid value is an
// error), else 1980-01-01T00:00:00Z (core::kEarliestArchiveTime, see source_date.hpp).
std::int64_t reproducible_mtime();

// ReleaseDate default as IFW documents it: the date of SOURCE_DATE_EPOCH when set, else today
// (UTC), as YYYY-MM-DD.
std::string default_release_date();

// "2026-11-21" from seconds since the epoch (UTC).
std::string iso_date(std::int64_t epoch_seconds);

}  // namespace ferry::core
