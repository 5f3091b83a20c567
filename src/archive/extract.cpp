// Safe extraction: every entry is checked (names, link targets, types, limits) before anything
// is written, and nothing is ever written through a symlink or outside the target directory.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>

#include "archive/archive.hpp"
#include "archive/error_text.hpp"
#include "archive/utf8_locale.hpp"
#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/hash.hpp"
#include "core/relative_path.hpp"

namespace ferry::archive {

namespace {

using core::FileDescriptor;

using Reader = std::unique_ptr<struct archive, decltype(&archive_read_free)>;

std::string parent_of(const std::string& name) {
    std::size_t slash = name.rfind('/');
    return slash == std::string::npos ? std::string() : name.substr(0, slash);
}

// Walks the archive's entries and applies every check that needs no file system: clean relative
// names, allowed types, link targets that stay inside, no entry below a symlink entry, limits.
class EntryChecker {
  public:
    EntryChecker(const fs::path& archive, const ExtractLimits& limits)
        : archive_(archive), limits_(limits) {}

    [[noreturn]] void fail(std::string_view cause) const {
        throw Error::format("{}: entry \"{}\": {}", archive_.string(), raw_name_, cause);
    }

    // The entry's name made relative and clean ("./a//b" → "a/b"); empty for the root itself.
    ExtractedEntry check(struct archive_entry* entry) {
        const char* raw = archive_entry_pathname(entry);
        raw_name_ = raw != nullptr ? raw : "";
        if (++entries_ > limits_.max_entries) {
            fail(fmt::format("the archive has more than {} entries", limits_.max_entries));
        }
        ExtractedEntry result;
        if (raw == nullptr || raw_name_.empty()) {
            fail("the entry has no name");
        }
        result.path = clean_name(raw_name_, "name");
        const char* hardlink = archive_entry_hardlink(entry);
        switch (archive_entry_filetype(entry)) {
            case AE_IFREG:
                result.type = ExtractedEntry::Type::file;
                break;
            case AE_IFDIR:
                result.type = ExtractedEntry::Type::directory;
                break;
            case AE_IFLNK:
                result.type = ExtractedEntry::Type::symlink;
                break;
            case AE_IFCHR:
                fail("character devices are not extracted");
            case AE_IFBLK:
                fail("block devices are not extracted");
            case AE_IFIFO:
                fail("fifos are not extracted");
            case AE_IFSOCK:
                fail("sockets are not extracted");
            default:
                if (hardlink == nullptr) {
                    fail("the entry has an unknown type");
                }
        }
        if (hardlink != nullptr) {
            result.type = ExtractedEntry::Type::hardlink;
        }
        if (result.path.empty()) {
            if (result.type != ExtractedEntry::Type::directory) {
                fail("only a directory may name the extraction root");
            }
            return result;
        }
        for (std::string parent = parent_of(result.path); !parent.empty();
             parent = parent_of(parent)) {
            if (symlinks_.count(parent) != 0) {
                fail(fmt::format("its parent \"{}\" is a symlink", parent));
            }
        }
        if (result.type == ExtractedEntry::Type::symlink) {
            const char* target = archive_entry_symlink(entry);
            check_symlink_target(result.path, target != nullptr ? target : "");
            symlinks_.insert(result.path);
        } else {
            symlinks_.erase(result.path);
        }
        if (result.type == ExtractedEntry::Type::hardlink) {
            link_target_ = clean_name(hardlink, "hardlink target");
            if (link_target_.empty() || files_.count(link_target_) == 0) {
                fail(fmt::format("hardlink target \"{}\" is not a file extracted before it",
                                 hardlink));
            }
        }
        if (result.type == ExtractedEntry::Type::file ||
            result.type == ExtractedEntry::Type::hardlink) {
            files_.insert(result.path);
        } else {
            files_.erase(result.path);
        }
        if (result.type == ExtractedEntry::Type::file && archive_entry_size_is_set(entry) &&
            archive_entry_size(entry) > 0) {
            result.size = static_cast<std::uint64_t>(archive_entry_size(entry));
            if (result.size > limits_.max_total_bytes - std::min(bytes_, limits_.max_total_bytes)) {
                fail(fmt::format("the content would exceed the limit of {} bytes",
                                 limits_.max_total_bytes));
            }
        }
        return result;
    }

    // Counts bytes as they are really written: a header may lie about the size.
    void add_bytes(std::uint64_t count) {
        bytes_ += count;
        if (bytes_ > limits_.max_total_bytes) {
            fail(fmt::format("the content exceeds the limit of {} bytes", limits_.max_total_bytes));
        }
    }

    const std::string& link_target() const { return link_target_; }

  private:
    std::string clean_name(std::string_view name, std::string_view what) const {
        core::CleanedPath cleaned = core::clean_relative_path(name);
        if (!cleaned.problem.empty()) {
            fail(fmt::format("{} \"{}\" {}", what, name, cleaned.problem));
        }
        return std::move(cleaned.clean);
    }

    // Resolved lexically from the link's own directory, the target must stay inside the target
    // directory. '..' may only lead the target: after a name that is (or later becomes) a
    // symlink, the kernel would climb from wherever that symlink points, not lexically.
    void check_symlink_target(const std::string& link, std::string_view target) const {
        if (target.empty()) {
            fail("symlink with an empty target");
        }
        if (target.front() == '/') {
            fail(fmt::format("symlink to the absolute path \"{}\"", target));
        }
        const std::string link_dir = parent_of(link);
        std::size_t depth =
            link_dir.empty() ? 0 : 1 + std::count(link_dir.begin(), link_dir.end(), '/');
        bool descended = false;
        for (std::size_t start = 0; start <= target.size();) {
            std::size_t end = std::min(target.find('/', start), target.size());
            std::string_view part = target.substr(start, end - start);
            if (part == ".." && descended) {
                fail(fmt::format("symlink target \"{}\" has '..' after a name", target));
            }
            if (part == "..") {
                if (depth == 0) {
                    fail(fmt::format("symlink target \"{}\" leads outside the target directory",
                                     target));
                }
                --depth;
            } else if (!part.empty() && part != ".") {
                ++depth;
                descended = true;
            }
            start = end + 1;
        }
    }

    const fs::path& archive_;
    ExtractLimits limits_;
    std::string raw_name_;
    std::string link_target_;
    std::uint64_t entries_ = 0;
    std::uint64_t bytes_ = 0;
    std::unordered_set<std::string> symlinks_;
    std::unordered_set<std::string> files_;
};

// An archive read from a span of its file with pread: libarchive sees the span as the whole
// file, and nothing before or after it is read.
class SpanSource {
  public:
    SpanSource(FileDescriptor fd, const ArchiveSpan& span) : fd_(std::move(fd)), span_(span) {}

    static la_ssize_t read(struct archive* reader, void* self, const void** buffer) {
        auto& source = *static_cast<SpanSource*>(self);
        const std::uint64_t left = source.span_.size - source.position_;
        const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(left, kBlock));
        const ssize_t n = wanted == 0
                              ? 0
                              : ::pread(source.fd_.get(), source.buffer_.get(), wanted,
                                        static_cast<off_t>(source.span_.offset + source.position_));
        if (n < 0) {
            archive_set_error(reader, errno, "cannot read: %s", std::strerror(errno));
            return -1;
        }
        source.position_ += static_cast<std::uint64_t>(n);
        *buffer = source.buffer_.get();
        return n;
    }
    static la_int64_t skip(struct archive*, void* self, la_int64_t request) {
        auto& source = *static_cast<SpanSource*>(self);
        const auto step = std::min<std::uint64_t>(static_cast<std::uint64_t>(request),
                                                  source.span_.size - source.position_);
        source.position_ += step;
        return static_cast<la_int64_t>(step);
    }
    // 7z reads its header at the end of the archive.
    static la_int64_t seek(struct archive*, void* self, la_int64_t offset, int whence) {
        auto& source = *static_cast<SpanSource*>(self);
        const auto size = static_cast<la_int64_t>(source.span_.size);
        const la_int64_t from = whence == SEEK_SET   ? 0
                                : whence == SEEK_CUR ? static_cast<la_int64_t>(source.position_)
                                                     : size;
        const la_int64_t position = from + offset;
        if (position < 0 || position > size) {
            return ARCHIVE_FATAL;
        }
        source.position_ = static_cast<std::uint64_t>(position);
        return position;
    }
    static int close(struct archive*, void* self) {
        delete static_cast<SpanSource*>(self);
        return ARCHIVE_OK;
    }

  private:
    static constexpr std::size_t kBlock = 1 << 20;
    FileDescriptor fd_;
    ArchiveSpan span_;
    std::uint64_t position_ = 0;
    std::unique_ptr<char[]> buffer_ = std::make_unique<char[]>(kBlock);
};

int open_span(struct archive* reader, const fs::path& archive, const ArchiveSpan& span) {
    FileDescriptor fd(::open(archive.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        archive_set_error(reader, errno, "%s", std::strerror(errno));
        return ARCHIVE_FATAL;
    }
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0 ||
        static_cast<std::uint64_t>(status.st_size) < span.offset) {
        archive_set_error(reader, EINVAL, "the file ends before byte %llu",
                          static_cast<unsigned long long>(span.offset));
        return ARCHIVE_FATAL;
    }
    ArchiveSpan bounded = span;
    bounded.size = std::min(span.size, static_cast<std::uint64_t>(status.st_size) - span.offset);
    // libarchive calls close (which frees the source) whether or not opening succeeds.
    auto* source = new SpanSource(std::move(fd), bounded);
    archive_read_set_seek_callback(reader, &SpanSource::seek);
    return archive_read_open2(reader, source, nullptr, &SpanSource::read, &SpanSource::skip,
                              &SpanSource::close);
}

Reader open_archive(const fs::path& archive, const ArchiveSpan& span = {}) {
    Reader reader(archive_read_new(), &archive_read_free);
    if (!reader) {
        throw Error::format("{}: cannot allocate an archive reader", archive.string());
    }
    archive_read_support_filter_all(reader.get());
    archive_read_support_format_7zip(reader.get());
    archive_read_support_format_zip(reader.get());
    archive_read_support_format_tar(reader.get());
    const bool whole = span.offset == 0 && span.size == UINT64_MAX;
    if ((whole ? archive_read_open_filename(reader.get(), archive.c_str(), 1 << 20)
               : open_span(reader.get(), archive, span)) != ARCHIVE_OK) {
        throw Error::format("{}: cannot open as an archive: {}", archive.string(),
                            error_text(reader.get()));
    }
    return reader;
}

// Reads the next header; false at the end of the archive.
bool next_entry(struct archive* reader, const fs::path& archive, struct archive_entry** entry) {
    int status = archive_read_next_header(reader, entry);
    if (status == ARCHIVE_EOF) {
        return false;
    }
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
        throw Error::format("{}: cannot read the next entry: {}", archive.string(),
                            error_text(reader));
    }
    return true;
}

std::string temporary_name(const std::string& name) {
    static std::atomic<unsigned> counter{0};
    std::string parent = parent_of(name);
    std::string base = name.substr(parent.empty() ? 0 : parent.size() + 1);
    return (parent.empty() ? "" : parent + "/") + "." + base + ".ferry-" +
           std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

// Writes entries below the target through descriptors relative to it, after making sure that
// every parent directory is a real directory (never a symlink) inside the target.
class DiskWriter {
  public:
    DiskWriter(const fs::path& archive, const fs::path& target, EntryChecker& checker)
        : target_(target),
          checker_(checker),
          root_(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
        if (root_.get() < 0) {
            throw Error::format("{}: cannot open the extraction target {}: {}", archive.string(),
                                target.string(), errno_text(errno));
        }
    }

    void directory(const std::string& name) {
        make_parents(name);
        make_directory(name, true);
    }

    void symlink(const std::string& name, const char* target) {
        make_parents(name);
        replace_with(name, [&](const std::string& at) {
            return ::symlinkat(target, root_.get(), at.c_str()) == 0;
        });
    }

    void hardlink(const std::string& name, const std::string& existing) {
        // The target was extracted before, so its parents are directories made or checked here.
        for (std::string parent = parent_of(existing); !parent.empty();
             parent = parent_of(parent)) {
            if (directories_.count(parent) == 0) {
                checker_.fail(fmt::format("hardlink target \"{}\" is not below checked directories",
                                          existing));
            }
        }
        struct stat st {};
        if (::fstatat(root_.get(), existing.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode)) {
            checker_.fail(fmt::format("hardlink target \"{}\" is not a file in {}", existing,
                                      target_.string()));
        }
        make_parents(name);
        replace_with(name, [&](const std::string& at) {
            return ::linkat(root_.get(), existing.c_str(), root_.get(), at.c_str(), 0) == 0;
        });
    }

    // Writes the entry's data and fills in its size, mode and the SHA-256 of what was written
    // (holes of sparse entries count as the zeros they read as).
    void file(ExtractedEntry& item, struct archive* reader, struct archive_entry* entry) {
        const std::string& name = item.path;
        make_parents(name);
        const mode_t mode = (archive_entry_perm(entry) & 0111) != 0 ? 0755 : 0644;
        const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
        // Straight to the final name when it is free; else beside it, renamed over it at the end.
        std::string temporary;
        int opened = ::openat(root_.get(), name.c_str(), flags, mode);
        if (opened < 0 && errno == EEXIST) {
            temporary = temporary_name(name);
            opened = ::openat(root_.get(), temporary.c_str(), flags, mode);
        }
        FileDescriptor fd(opened);
        if (fd.get() < 0) {
            checker_.fail(
                fmt::format("cannot create it in {}: {}", target_.string(), errno_text(errno)));
        }
        auto discard = [&](const std::string& cause) {
            fd.close();
            ::unlinkat(root_.get(), temporary.empty() ? name.c_str() : temporary.c_str(), 0);
            checker_.fail(cause);
        };
        std::uint64_t end = 0;
        core::Hasher hasher(core::HashKind::sha256);
        std::uint64_t hashed = 0;
        auto hash_zeros_to = [&](std::uint64_t offset) {
            static const char zeros[65536] = {};
            while (hashed < offset) {
                std::uint64_t n = std::min<std::uint64_t>(offset - hashed, sizeof zeros);
                hasher.update(zeros, static_cast<std::size_t>(n));
                hashed += n;
            }
        };
        while (true) {
            const void* block = nullptr;
            std::size_t size = 0;
            la_int64_t offset = 0;
            int status = archive_read_data_block(reader, &block, &size, &offset);
            if (status == ARCHIVE_EOF) {
                break;
            }
            // Warnings here are integrity failures (bad CRC, wrong size): refuse the data.
            if (status != ARCHIVE_OK) {
                discard(fmt::format("cannot read its data: {}", error_text(reader)));
            }
            try {
                checker_.add_bytes(size);
            } catch (const Error&) {
                fd.close();
                ::unlinkat(root_.get(), temporary.empty() ? name.c_str() : temporary.c_str(), 0);
                throw;
            }
            if (static_cast<std::uint64_t>(offset) < hashed) {
                discard("its data blocks overlap");
            }
            hash_zeros_to(static_cast<std::uint64_t>(offset));
            hasher.update(block, size);
            hashed += size;
            // pwrite at the block's offset keeps sparse files sparse.
            for (std::size_t done = 0; done < size;) {
                ssize_t n = ::pwrite(fd.get(), static_cast<const char*>(block) + done, size - done,
                                     static_cast<off_t>(offset) + static_cast<off_t>(done));
                if (n < 0 && errno != EINTR) {
                    discard(fmt::format("cannot write it: {}", errno_text(errno)));
                }
                done += n > 0 ? static_cast<std::size_t>(n) : 0;
            }
            end = std::max(end, static_cast<std::uint64_t>(offset) + size);
        }
        const la_int64_t declared =
            archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
        if (declared > 0 && static_cast<std::uint64_t>(declared) > end &&
            ::ftruncate(fd.get(), declared) != 0) {
            discard(fmt::format("cannot size it: {}", errno_text(errno)));
        }
        hash_zeros_to(std::max<std::uint64_t>(end, declared > 0 ? declared : 0));
        // The umask must not decide: files are exactly 0644 or 0755.
        if (::fchmod(fd.get(), mode) != 0) {
            discard(fmt::format("cannot set its mode: {}", errno_text(errno)));
        }
        if (archive_entry_mtime_is_set(entry)) {
            struct timespec times[2] = {{0, UTIME_OMIT}, {archive_entry_mtime(entry), 0}};
            ::futimens(fd.get(), times);
        }
        if (fd.close() != 0) {
            discard(fmt::format("cannot write it: {}", errno_text(errno)));
        }
        if (!temporary.empty() &&
            ::renameat(root_.get(), temporary.c_str(), root_.get(), name.c_str()) != 0) {
            discard(fmt::format("cannot replace the existing {}: {}", name, errno_text(errno)));
        }
        item.size = hashed;
        item.executable = mode == 0755;
        item.sha256 = hasher.hex_digest();
    }

  private:
    void make_parents(const std::string& name) {
        for (std::size_t slash = name.find('/'); slash != std::string::npos;
             slash = name.find('/', slash + 1)) {
            std::string parent = name.substr(0, slash);
            if (directories_.count(parent) == 0) {
                make_directory(parent, false);
            }
        }
    }

    // An entry may replace a file or symlink by a directory; a parent that is not a directory
    // (a symlink above all) is refused.
    void make_directory(const std::string& name, bool from_entry) {
        if (::mkdirat(root_.get(), name.c_str(), 0755) != 0) {
            if (errno != EEXIST) {
                checker_.fail(fmt::format("cannot create the directory {} in {}: {}", name,
                                          target_.string(), errno_text(errno)));
            }
            struct stat st {};
            if (::fstatat(root_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                checker_.fail(fmt::format("cannot inspect {}: {}", name, errno_text(errno)));
            }
            if (!S_ISDIR(st.st_mode)) {
                if (!from_entry) {
                    checker_.fail(
                        fmt::format("its parent \"{}\" exists in {} and is not a directory", name,
                                    target_.string()));
                }
                if (::unlinkat(root_.get(), name.c_str(), 0) != 0 ||
                    ::mkdirat(root_.get(), name.c_str(), 0755) != 0) {
                    checker_.fail(fmt::format("cannot replace {} by a directory: {}", name,
                                              errno_text(errno)));
                }
            }
        }
        directories_.insert(name);
    }

    template <typename Create>
    void replace_with(const std::string& name, Create create) {
        if (directories_.count(name) != 0) {
            checker_.fail("a directory of that name was already extracted");
        }
        if (create(name)) {
            return;
        }
        if (errno != EEXIST) {
            checker_.fail(
                fmt::format("cannot create it in {}: {}", target_.string(), errno_text(errno)));
        }
        std::string temporary = temporary_name(name);
        if (!create(temporary)) {
            checker_.fail(
                fmt::format("cannot create it in {}: {}", target_.string(), errno_text(errno)));
        }
        if (::renameat(root_.get(), temporary.c_str(), root_.get(), name.c_str()) != 0) {
            int saved = errno;
            ::unlinkat(root_.get(), temporary.c_str(), 0);
            checker_.fail(
                fmt::format("cannot replace the existing {}: {}", name, errno_text(saved)));
        }
    }

    const fs::path& target_;
    EntryChecker& checker_;
    FileDescriptor root_;
    std::unordered_set<std::string> directories_;
};

}  // namespace

std::vector<ExtractedEntry> extract_archive(const fs::path& archive, const fs::path& target,
                                            const ExtractLimits& limits, const ArchiveSpan& span) {
    Utf8Locale utf8_names;
    Reader reader = open_archive(archive, span);
    EntryChecker checker(archive, limits);
    DiskWriter disk(archive, target, checker);
    std::vector<ExtractedEntry> extracted;
    struct archive_entry* entry = nullptr;
    while (next_entry(reader.get(), archive, &entry)) {
        ExtractedEntry item = checker.check(entry);
        if (item.path.empty()) {
            continue;
        }
        switch (item.type) {
            case ExtractedEntry::Type::directory:
                disk.directory(item.path);
                break;
            case ExtractedEntry::Type::symlink:
                item.link = archive_entry_symlink(entry);
                disk.symlink(item.path, item.link.c_str());
                break;
            case ExtractedEntry::Type::hardlink:
                item.link = checker.link_target();
                disk.hardlink(item.path, item.link);
                break;
            case ExtractedEntry::Type::file:
                disk.file(item, reader.get(), entry);
                break;
        }
        extracted.push_back(std::move(item));
    }
    return extracted;
}

std::vector<ExtractedEntry> list_archive(const fs::path& archive) {
    Utf8Locale utf8_names;
    Reader reader = open_archive(archive);
    EntryChecker checker(archive, ExtractLimits{UINT64_MAX, UINT64_MAX});
    std::vector<ExtractedEntry> entries;
    struct archive_entry* entry = nullptr;
    while (next_entry(reader.get(), archive, &entry)) {
        ExtractedEntry item = checker.check(entry);
        if (!item.path.empty()) {
            entries.push_back(std::move(item));
        }
    }
    return entries;
}

std::optional<std::pair<std::string, std::string>> read_entry(
    const fs::path& archive, const std::function<bool(std::string_view)>& wanted,
    std::uint64_t max_bytes, const ArchiveSpan& span) {
    Utf8Locale utf8_names;
    Reader reader = open_archive(archive, span);
    EntryChecker checker(archive, ExtractLimits{UINT64_MAX, UINT64_MAX});
    struct archive_entry* entry = nullptr;
    while (next_entry(reader.get(), archive, &entry)) {
        ExtractedEntry item = checker.check(entry);
        if (item.path.empty() || item.type != ExtractedEntry::Type::file || !wanted(item.path)) {
            continue;
        }
        if (item.size > max_bytes) {
            throw Error::format("{}: {}: {} bytes, more than the {} allowed", archive.string(),
                                item.path, item.size, max_bytes);
        }
        std::string content;
        char buffer[1 << 16];
        for (la_ssize_t n; (n = archive_read_data(reader.get(), buffer, sizeof buffer)) != 0;) {
            if (n < 0 || content.size() + static_cast<std::size_t>(n) > max_bytes) {
                throw Error::format("{}: {}: cannot read it: {}", archive.string(), item.path,
                                    n < 0 ? error_text(reader.get()) : "larger than it says");
            }
            content.append(buffer, static_cast<std::size_t>(n));
        }
        return std::pair{item.path, std::move(content)};
    }
    return std::nullopt;
}

}  // namespace ferry::archive
