#include "server/file_cache.hpp"

#include <unistd.h>

#include <cerrno>

#include <zlib.h>

#include "core/error.hpp"

namespace ferry::server {

bool read_at(int fd, char* buffer, std::size_t length, std::uint64_t offset) {
    while (length > 0) {
        ssize_t got = ::pread(fd, buffer, length, static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        buffer += got;
        length -= static_cast<std::size_t>(got);
        offset += static_cast<std::uint64_t>(got);
    }
    return true;
}

std::string gzip_compress(const std::string& data) {
    z_stream stream{};
    // 15 + 16: the largest window, with a gzip header and trailer instead of zlib's.
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        throw Error("cannot start gzip compression (out of memory)");
    }
    std::string out(deflateBound(&stream, data.size()), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    // deflateBound leaves room for everything, so one call finishes the stream.
    const int status = deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    if (status != Z_STREAM_END)
        throw Error::format("gzip compression failed (zlib status {})", status);
    return out;
}

FileCache::FileCache(std::uint64_t max_file_size, std::uint64_t max_total_size)
    : max_file_size_(max_file_size), max_total_size_(max_total_size) {}

std::shared_ptr<const std::string> FileCache::get(const std::string& rel, const struct stat& st,
                                                  int fd, bool gzip) {
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::int64_t mtime_ns =
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    const auto inode = static_cast<std::uint64_t>(st.st_ino);
    std::string key = gzip ? rel + '\0' + "gzip" : rel;
    {
        std::lock_guard lock(mutex_);
        auto found = entries_.find(key);
        if (found != entries_.end() && found->second.size == size &&
            found->second.mtime_ns == mtime_ns && found->second.inode == inode) {
            return found->second.body;
        }
    }
    // Read (and compress) outside the lock: other files are served meanwhile. Two requests
    // that miss at once both do the work; the second one's entry replaces the first.
    std::string bytes(size, '\0');
    if (!read_at(fd, bytes.data(), bytes.size(), 0))
        return nullptr;
    auto body = std::make_shared<const std::string>(gzip ? gzip_compress(bytes) : std::move(bytes));
    if (size > max_file_size_)
        return body;
    std::lock_guard lock(mutex_);
    if (auto found = entries_.find(key); found != entries_.end()) {
        total_size_ -= found->second.body->size();
        entries_.erase(found);
    }
    if (total_size_ + body->size() > max_total_size_) {
        entries_.clear();
        total_size_ = 0;
    }
    entries_.emplace(std::move(key), Entry{size, mtime_ns, inode, body});
    total_size_ += body->size();
    return body;
}

}  // namespace ferry::server
