#include "core/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.hpp"

namespace ferry::core {

namespace {

FileDescriptor open_lock_file(const std::filesystem::path& path) {
    FileDescriptor fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        throw Error::format(ErrorKind::storage, "{}: cannot open the lock file: {}", path.string(),
                            errno_text(errno));
    }
    return fd;
}

void write_pid(const FileDescriptor& fd) {
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) != 0 ||
        ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        // The pid only makes the message to a second process nicer; the lock is what counts.
    }
}

}  // namespace

std::optional<FileLock> FileLock::try_lock(const std::filesystem::path& path,
                                           std::string& holder_pid) {
    FileDescriptor fd = open_lock_file(path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            throw Error::format(ErrorKind::storage, "{}: cannot lock: {}", path.string(),
                                errno_text(errno));
        }
        holder_pid.clear();
        char buffer[32] = {};
        const ssize_t n = ::pread(fd.get(), buffer, sizeof buffer - 1, 0);
        if (n > 0) {
            holder_pid.assign(buffer, static_cast<std::size_t>(n));
            holder_pid.erase(holder_pid.find_last_not_of(" \n") + 1);
        }
        return std::nullopt;
    }
    write_pid(fd);
    return FileLock(std::move(fd));
}

FileLock FileLock::wait_for(const std::filesystem::path& path) {
    FileDescriptor fd = open_lock_file(path);
    int result = 0;
    while ((result = ::flock(fd.get(), LOCK_EX)) != 0 && errno == EINTR) {
        // A signal's handler ran; the lock is still wanted.
    }
    if (result != 0) {
        throw Error::format(ErrorKind::storage, "{}: cannot lock: {}", path.string(),
                            errno_text(errno));
    }
    write_pid(fd);
    return FileLock(std::move(fd));
}

}  // namespace ferry::core
