#include "market/data_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.hpp"
#include "core/files.hpp"

namespace ferry::market {

DataDir::DataDir(fs::path root) : root_(std::move(root)) {
    for (const fs::path& dir : {root_ / "blobs" / "sha256", uploads(), repositories()}) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) {
            throw Error::format("{}: cannot create the market's data directory: {}", dir.string(),
                                ec.message());
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
        throw Error::format("{}: {} bytes with SHA-256 {}; expected {} bytes with SHA-256 {}",
                            file.string(), actual_size, actual, size, sha256);
    }
    const fs::path target = data.blob(sha256);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    core::sync_path(file);
    if (ec || ::rename(file.c_str(), target.c_str()) != 0) {
        throw Error::format("{}: cannot move it into {}: {}", file.string(),
                            target.parent_path().string(), ec ? ec.message() : errno_text(errno));
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
        throw Error::format("{}: cannot create: {}", temporary_.string(), errno_text(errno));
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
    for (std::size_t done = 0; done < size;) {
        ssize_t n = ::write(fd_.get(), data + done, size - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw Error::format("blob {}: cannot store it: {}", sha256_, errno_text(errno));
        }
        done += static_cast<std::size_t>(n);
    }
    written_ += size;
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
        throw Error::format("blob {}: cannot store it: {}", sha256_, errno_text(errno));
    }
    const fs::path target = data_.blob(sha256_);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec || ::rename(temporary_.c_str(), target.c_str()) != 0) {
        throw Error::format("blob {}: cannot move it into {}: {}", sha256_,
                            target.parent_path().string(), ec ? ec.message() : errno_text(errno));
    }
    finished_ = true;
    core::sync_path(target.parent_path());
}

}  // namespace ferry::market
