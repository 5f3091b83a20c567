#include "core/confined_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "core/error.hpp"

namespace ferry::core {

namespace {

constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

// openat of one name that refuses a symlink with ELOOP (O_NOFOLLOW with O_DIRECTORY alone
// says ENOTDIR, which would read as "missing").
int open_no_follow(int dirfd, const std::string& name, int flags) {
    const int fd = ::openat(dirfd, name.c_str(), flags | O_NOFOLLOW);
    struct stat st {};
    if (fd < 0 && errno == ENOTDIR && ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
        errno = ELOOP;
    }
    return fd;
}

// One system call resolves path beneath dirfd and fails with ELOOP at any symlink on the way,
// the last component included. Kernels before 5.6 (or sandboxes) lack openat2: the path is
// then walked a component at a time with O_NOFOLLOW, which gives the same guarantee.
int open_beneath(int dirfd, const RelativePath& path, int flags) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const long opened = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
    if (opened >= 0 || (errno != ENOSYS && errno != EPERM)) {
        return static_cast<int>(opened);
    }
    FileDescriptor current(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
    const std::string& text = path.str();
    for (std::size_t start = 0; current.get() >= 0;) {
        const std::size_t slash = text.find('/', start);
        const std::string part = text.substr(start, slash - start);
        if (slash == std::string::npos) {
            return open_no_follow(current.get(), part, flags);
        }
        current = FileDescriptor(open_no_follow(current.get(), part, kDirectoryFlags));
        start = slash + 1;
    }
    return -1;
}

[[noreturn]] void fail(const std::string& shown, std::string_view doing, int error_number) {
    if (error_number == ELOOP) {
        throw Error::format("cannot {} {}: a symlink is on the way, and ferry never follows one "
                            "inside an installation",
                            doing, shown);
    }
    throw Error::format(ErrorKind::storage, "cannot {} {}: {}", doing, shown,
                        errno_text(error_number));
}

// Removes name in dirfd; below a directory, depth first, never through a symlink.
void remove_entry(int dirfd, const char* name, const std::string& shown) {
    struct stat st {};
    if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) {
            return;
        }
        fail(shown, "inspect", errno);
    }
    if (S_ISDIR(st.st_mode)) {
        const int fd = ::openat(dirfd, name, kDirectoryFlags | O_NOFOLLOW);
        if (fd < 0) {
            fail(shown, "open", errno);
        }
        struct CloseDir {
            void operator()(DIR* dir) const { ::closedir(dir); }
        };
        std::unique_ptr<DIR, CloseDir> dir(::fdopendir(fd));
        if (!dir) {
            ::close(fd);
            fail(shown, "read", errno);
        }
        while (const struct dirent* entry = ::readdir(dir.get())) {
            const std::string_view child = entry->d_name;
            if (child != "." && child != "..") {
                remove_entry(fd, entry->d_name, shown + "/" + std::string(child));
            }
        }
    }
    if (::unlinkat(dirfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
        fail(shown, "remove", errno);
    }
}

}  // namespace

ConfinedDir::ConfinedDir(const std::filesystem::path& root)
    : root_(root), fd_(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_.get() < 0) {
        throw Error::format(ErrorKind::storage, "{}: cannot open: {}", root.string(),
                            errno_text(errno));
    }
}

std::string ConfinedDir::show(const RelativePath& path) const {
    return (root_ / path.str()).string();
}

FileDescriptor ConfinedDir::open_directory(const RelativePath& dir) const {
    return FileDescriptor(open_beneath(fd_.get(), dir, kDirectoryFlags));
}

FileDescriptor ConfinedDir::open_parent(const RelativePath& path) const {
    if (!path.has_parent()) {
        return FileDescriptor(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
    }
    return open_directory(path.parent());
}

FileDescriptor ConfinedDir::parent_or_throw(const RelativePath& path, std::string_view doing) const {
    FileDescriptor parent = open_parent(path);
    if (parent.get() < 0) {
        fail(show(path), doing, errno);
    }
    return parent;
}

std::optional<struct stat> ConfinedDir::status(const RelativePath& path) const {
    FileDescriptor parent = open_parent(path);
    struct stat st {};
    if (parent.get() >= 0 &&
        ::fstatat(parent.get(), std::string(path.name()).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        return st;
    }
    if (errno == ENOENT || errno == ENOTDIR) {
        return std::nullopt;
    }
    fail(show(path), "inspect", errno);
}

bool ConfinedDir::is_directory(const RelativePath& path) const {
    const auto st = status(path);
    return st && S_ISDIR(st->st_mode);
}

void ConfinedDir::rename(const RelativePath& from, const RelativePath& to) const {
    const std::string doing = "move " + show(from) + " to";
    FileDescriptor from_parent = parent_or_throw(from, "move");
    FileDescriptor to_parent = parent_or_throw(to, doing);
    if (::renameat(from_parent.get(), std::string(from.name()).c_str(), to_parent.get(),
                   std::string(to.name()).c_str()) != 0) {
        fail(show(to), doing, errno);
    }
}

bool ConfinedDir::create_directory(const RelativePath& dir) const {
    FileDescriptor parent = parent_or_throw(dir, "create the directory");
    if (::mkdirat(parent.get(), std::string(dir.name()).c_str(), 0755) == 0) {
        return true;
    }
    if (errno == EEXIST && is_directory(dir)) {
        return false;
    }
    fail(show(dir), "create the directory", errno);
}

void ConfinedDir::create_directories(const RelativePath& dir) const {
    if (is_directory(dir)) {
        return;
    }
    if (dir.has_parent()) {
        create_directories(dir.parent());
    }
    create_directory(dir);
}

void ConfinedDir::remove_if_empty(const RelativePath& dir) const {
    FileDescriptor parent = open_parent(dir);
    if (parent.get() >= 0) {
        ::unlinkat(parent.get(), std::string(dir.name()).c_str(), AT_REMOVEDIR);
    }
}

void ConfinedDir::remove_all(const RelativePath& path) const {
    FileDescriptor parent = open_parent(path);
    if (parent.get() < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return;
        }
        fail(show(path), "remove", errno);
    }
    remove_entry(parent.get(), std::string(path.name()).c_str(), show(path));
}

FileDescriptor ConfinedDir::open_for_reading(const RelativePath& path) const {
    FileDescriptor fd(open_beneath(fd_.get(), path, O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        fail(show(path), "open", errno);
    }
    return fd;
}

std::string ConfinedDir::read_link(const RelativePath& path) const {
    FileDescriptor parent = parent_or_throw(path, "read the symlink");
    char buffer[4096];
    const ssize_t n =
        ::readlinkat(parent.get(), std::string(path.name()).c_str(), buffer, sizeof buffer);
    if (n < 0) {
        fail(show(path), "read the symlink", errno);
    }
    return std::string(buffer, static_cast<std::size_t>(n));
}

}  // namespace ferry::core
