#include "core/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <random>

#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/file_error.hpp"
#include "core/source_date.hpp"

namespace ferry::core {

namespace {

std::string random_suffix() {
    static std::atomic<unsigned> counter{0};
    std::random_device device;
    return std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
           std::to_string(device() % 1000000);
}

}  // namespace

std::string read_file(const fs::path& path, std::uint64_t max_bytes) {
    auto content = read_file_if_exists(path, max_bytes);
    if (!content) {
        throw Error::format("{}: cannot open for reading: {}", path.string(), errno_text(ENOENT));
    }
    return std::move(*content);
}

std::optional<std::string> read_file_if_exists(const fs::path& path, std::uint64_t max_bytes) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throw file_error(path.string(), "cannot open for reading", errno);
    }
    std::string content;
    char buffer[65536];
    while (true) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw file_error(path.string(), "read error", errno);
        }
        if (n == 0) {
            break;
        }
        if (content.size() + static_cast<std::uint64_t>(n) > max_bytes) {
            throw Error::format("{}: larger than the {} bytes allowed", path.string(), max_bytes);
        }
        content.append(buffer, static_cast<std::size_t>(n));
    }
    return content;
}

fs::path temporary_sibling(const fs::path& path) {
    return path.parent_path() / ("." + path.filename().string() + ".tmp-" + random_suffix());
}

void sync_path(const fs::path& path) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        throw file_error(path.string(), "cannot open to sync", errno);
    }
    if (::fsync(fd.get()) != 0 && errno != EINVAL) {
        throw file_error(path.string(), "fsync failed", errno);
    }
}

void write_all(int fd, const char* data, std::size_t size, std::string_view name) {
    for (std::size_t done = 0; done < size;) {
        const ssize_t n = ::write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw file_error(name, "cannot write", errno);
        }
        done += static_cast<std::size_t>(n);
    }
}

void write_file_atomic(const fs::path& path, std::string_view content, mode_t mode) {
    const fs::path temporary = temporary_sibling(path);
    FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (fd.get() < 0) {
        throw file_error(temporary.string(), "cannot create", errno);
    }
    auto fail = [&](std::string_view what) {
        int saved = errno;
        ::unlink(temporary.c_str());
        throw file_error(path.string(), what, saved);
    };
    try {
        write_all(fd.get(), content.data(), content.size(), path.string());
    } catch (...) {
        ::unlink(temporary.c_str());
        throw;
    }
    if (::fsync(fd.get()) != 0) {
        fail("fsync failed");
    }
    if (fd.close() != 0) {
        fail("close failed");
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        fail("cannot rename the temporary file into place");
    }
    const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    sync_path(parent);
}

ScratchDir::ScratchDir(const fs::path& parent, std::string_view prefix) {
    fs::path base = parent.empty() ? fs::temp_directory_path() : parent;
    for (int attempt = 0; attempt < 100; ++attempt) {
        fs::path candidate = base / (std::string(prefix) + random_suffix());
        std::error_code ec;
        if (fs::create_directory(candidate, ec)) {
            path_ = candidate;
            return;
        }
        if (ec && ec != std::errc::file_exists) {
            throw file_error(candidate.string(), "cannot create a scratch directory", ec.value());
        }
    }
    throw Error::format(ErrorKind::storage, "{}: cannot create a unique scratch directory",
                        base.string());
}

ScratchDir::~ScratchDir() {
    if (!path_.empty()) {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
}

std::int64_t reproducible_mtime() {
    return source_date_epoch().value_or(kEarliestArchiveTime);
}

std::string iso_date(std::int64_t epoch_seconds) {
    std::time_t t = static_cast<std::time_t>(epoch_seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buffer[16];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d", &tm);
    return buffer;
}

std::string default_release_date() {
    if (const auto epoch = source_date_epoch()) {
        return iso_date(*epoch);
    }
    auto now = std::chrono::system_clock::now();
    return iso_date(
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
}

}  // namespace ferry::core
