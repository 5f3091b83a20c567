#include "market/data_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.hpp"
#include "core/file_error.hpp"
#include "core/files.hpp"

namespace ferry::market {

DataDir::DataDir(fs::path root) : root_(std::move(root)) {
    for (const fs::path& dir :
         {root_ / "blobs" / "sha256", uploads(), repositories(), exports(), import_folder()}) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) {
            throw file_error(dir.string(), "cannot create the market's data directory", ec.value());
        }
    }
}

fs::path DataDir::repository(std::string_view app_key, std::string_view major) const {
    return repositories() / app_key / major;
}

fs::path DataDir::blob(std::string_view sha256) const {
    return root_ / "blobs" / "sha256" / sha256.substr(0, 2) / sha256;
}

bool DataDir::has_blob(std::string_view sha256, std::uint64_t size) const {
    struct stat st {};
    return is_blob_name(sha256) && ::stat(blob(sha256).c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           static_cast<std::uint64_t>(st.st_size) == size;
}

void DataDir::remove_stale_uploads() const {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(uploads(), ec)) {
        if (!entry.path().filename().string().starts_with("pull-")) {
            fs::remove_all(entry.path(), ec);
        }
    }
}

ServeLock::ServeLock(const DataDir& data) {
    const fs::path file = data.root() / "serve.lock";
    fd_ = core::FileDescriptor(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (fd_.get() < 0) {
        throw file_error(file.string(), "cannot open the server's lock", errno);
    }
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            throw file_error(file.string(), "cannot lock", errno);
        }
        std::string holder;
        char buffer[32];
        const ssize_t n = ::pread(fd_.get(), buffer, sizeof buffer - 1, 0);
        for (ssize_t i = 0; i < n && buffer[i] >= '0' && buffer[i] <= '9'; ++i) {
            holder += buffer[i];
        }
        throw Error::format(ErrorKind::conflict,
                            "{}: another ferry serve (pid {}) is running on this data directory; "
                            "one SQLite catalog has one server (stop it, or use another --data)",
                            data.root().string(), holder.empty() ? "unknown" : holder);
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_.get(), 0) != 0 ||
        ::pwrite(fd_.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        throw file_error(file.string(), "cannot record the server's pid", errno);
    }
}

bool is_blob_name(std::string_view text) {
    if (text.size() != 64) {
        return false;
    }
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

void adopt_blob(const DataDir& data, const fs::path& file, std::string_view sha256,
                std::uint64_t size) {
    core::Hasher hasher(core::HashKind::sha256);
    const std::uint64_t actual_size = core::hash_file(file, {&hasher});
    const std::string actual = hasher.hex_digest();
    if (actual_size != size || actual != sha256 || !is_blob_name(sha256)) {
        std::error_code ec;
        fs::remove(file, ec);
        // Downloaded from an upstream market, which announced other bytes.
        throw Error::format(ErrorKind::upstream,
                            "{}: {} bytes with SHA-256 {}; expected {} bytes with SHA-256 {}",
                            file.string(), actual_size, actual, size, sha256);
    }
    const fs::path target = data.blob(sha256);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    core::sync_path(file);
    if (ec || ::rename(file.c_str(), target.c_str()) != 0) {
        throw file_error(file.string(),
                         fmt::format("cannot move it into {}", target.parent_path().string()),
                         ec ? ec.value() : errno);
    }
    core::sync_path(target.parent_path());
}

BlobWriter::BlobWriter(const DataDir& data, std::string sha256, std::uint64_t size)
    : data_(data),
      sha256_(std::move(sha256)),
      expected_size_(size),
      hasher_(core::HashKind::sha256) {
    if (!is_blob_name(sha256_)) {
        throw Error::format("\"{}\" is not a SHA-256 (64 lowercase hex digits)", sha256_);
    }
    temporary_ = core::temporary_sibling(data_.uploads() / sha256_);
    fd_ = core::FileDescriptor(
        ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd_.get() < 0) {
        throw file_error(temporary_.string(), "cannot create", errno);
    }
}

BlobWriter::~BlobWriter() {
    if (!finished_) {
        fd_.close();
        ::unlink(temporary_.c_str());
    }
}

void BlobWriter::write(const char* data, std::size_t size) {
    if (written_ + size > expected_size_) {
        throw Error::format("blob {}: more data than the {} bytes announced", sha256_,
                            expected_size_);
    }
    hasher_.update(data, size);
    core::write_all(fd_.get(), data, size, temporary_.string());
    written_ += size;
    // finish() must fsync before the blob counts as stored; writing back as the data arrives
    // leaves that fsync little to wait for. A hint only: its failure shows at the fsync.
    constexpr std::uint64_t writeback_step = 8u << 20;
    if (written_ - written_back_ >= writeback_step) {
        ::sync_file_range(fd_.get(), static_cast<off_t>(written_back_),
                          static_cast<off_t>(written_ - written_back_), SYNC_FILE_RANGE_WRITE);
        written_back_ = written_;
    }
}

void BlobWriter::finish() {
    if (written_ != expected_size_) {
        throw Error::format("blob {}: {} bytes arrived, {} were announced", sha256_, written_,
                            expected_size_);
    }
    const std::string actual = hasher_.hex_digest();
    if (actual != sha256_) {
        throw Error::format("blob {}: the data's SHA-256 is {}", sha256_, actual);
    }
    if (::fsync(fd_.get()) != 0 || fd_.close() != 0) {
        throw file_error(temporary_.string(), fmt::format("cannot store blob {}", sha256_), errno);
    }
    const fs::path target = data_.blob(sha256_);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec || ::rename(temporary_.c_str(), target.c_str()) != 0) {
        throw file_error(
            temporary_.string(),
            fmt::format("cannot move blob {} into {}", sha256_, target.parent_path().string()),
            ec ? ec.value() : errno);
    }
    finished_ = true;
    core::sync_path(target.parent_path());
}

}  // namespace ferry::market
