// Small repository files (Updates.xml above all) kept in memory with their gzip form, so that
// the files every client asks for are neither read nor compressed again on each request.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ferry::server {

class FileCache {
  public:
    // Files above max_file_size are not kept; when the kept bytes would pass max_total_size,
    // everything kept so far is dropped (the hot files come back on their next request).
    FileCache(std::uint64_t max_file_size, std::uint64_t max_total_size);

    bool holds_size(std::uint64_t size) const { return size <= max_file_size_; }

    // The bytes of the open file fd, which is rel with the status st, gzipped when asked. An
    // entry is used only while the file's size, modification time and inode are those of st
    // (files are replaced by rename, so a new version is a new inode). nullptr when the file
    // cannot be read whole (it shrank).
    std::shared_ptr<const std::string> get(const std::string& rel, const struct stat& st, int fd,
                                           bool gzip);

  private:
    struct Entry {
        std::uint64_t size = 0;
        std::int64_t mtime_ns = 0;
        std::uint64_t inode = 0;
        std::shared_ptr<const std::string> body;
    };

    std::uint64_t max_file_size_;
    std::uint64_t max_total_size_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::uint64_t total_size_ = 0;
};

// The file's bytes [offset, offset + length) into buffer; false on a read error or an early end
// (the file shrank).
bool read_at(int fd, char* buffer, std::size_t length, std::uint64_t offset);

// data as a gzip stream (zlib's default level, as nginx's gzip_comp_level 6).
std::string gzip_compress(const std::string& data);

}  // namespace ferry::server
