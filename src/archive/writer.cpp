// Deterministic archive writing: sorted entries, one fixed mtime, owner 0:0, normalised modes,
// sources streamed in chunks, and compression skipped when it would not make the archive smaller.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "archive/archive.hpp"
#include "core/error.hpp"
#include "core/files.hpp"

namespace ferry::archive {

namespace {

constexpr std::size_t kChunkSize = 1 << 20;
// Files at least this large are probed by three samples of kSampleSize; smaller ones lend their
// first kSmallSample bytes to a shared pool that is probed as one.
constexpr std::size_t kSampleSize = 64 << 10;
constexpr std::uint64_t kSampledFile = 3 * kSampleSize;
constexpr std::size_t kSmallSample = 16 << 10;
constexpr std::size_t kPoolSize = 256 << 10;
// Content smaller than this is not probed: compressing it costs nothing and the comparison
// after writing decides.
constexpr std::uint64_t kMinProbedContent = 4096;
// Compression is used only when the probe expects it to save at least this share of the
// content: below that it is not worth the time (LZMA crawls through random data at ~2 MB/s).
constexpr double kMinSaving = 0.02;

// libarchive converts names through the current locale; under "C" it mangles UTF-8 names (7z
// stores them as UTF-16). A UTF-8 locale for this thread only makes names come out as written.
class Utf8Names {
  public:
    Utf8Names() {
        static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
        if (utf8 != locale_t{}) {
            previous_ = uselocale(utf8);
        }
    }
    ~Utf8Names() {
        if (previous_ != locale_t{}) {
            uselocale(previous_);
        }
    }
    Utf8Names(const Utf8Names&) = delete;
    Utf8Names& operator=(const Utf8Names&) = delete;

  private:
    locale_t previous_{};
};

class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

using Writer = std::unique_ptr<struct archive, decltype(&archive_write_free)>;
using Entry = std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)>;

enum class Kind { file, directory, symlink };

struct Item {
    std::string name;
    fs::path source;
    Kind kind = Kind::file;
    std::uint64_t size = 0;
    std::string link_target;
    bool compressible = true;  // per-entry choice, used by zip only
};

[[noreturn]] void fail(const fs::path& out, std::string_view entry, std::string_view cause) {
    throw Error::format("{}: entry \"{}\": {}", out.string(), entry, cause);
}

void check_entry_name(const fs::path& out, std::string_view name) {
    bool clean = !name.empty() && name.front() != '/';
    for (std::size_t start = 0; clean;) {
        std::size_t end = name.find('/', start);
        std::string_view part = name.substr(start, end == name.npos ? name.npos : end - start);
        clean = !part.empty() && part != "." && part != "..";
        if (end == name.npos) {
            break;
        }
        start = end + 1;
    }
    if (!clean) {
        fail(out, name, "not a relative '/'-separated name without empty, '.' or '..' parts");
    }
}

std::vector<Item> inspect(const fs::path& out, std::vector<ArchiveInput> inputs) {
    std::sort(inputs.begin(), inputs.end(), [](const ArchiveInput& a, const ArchiveInput& b) {
        return a.entry_name < b.entry_name;
    });
    std::vector<Item> items;
    items.reserve(inputs.size());
    for (ArchiveInput& input : inputs) {
        check_entry_name(out, input.entry_name);
        if (!items.empty() && items.back().name == input.entry_name) {
            fail(out, input.entry_name, "appears twice in the input");
        }
        Item item;
        item.name = std::move(input.entry_name);
        item.source = std::move(input.source);
        struct stat st {};
        if (::lstat(item.source.c_str(), &st) != 0) {
            fail(out, item.name,
                 fmt::format("cannot read {}: {}", item.source.string(), errno_text(errno)));
        }
        if (S_ISREG(st.st_mode)) {
            item.size = static_cast<std::uint64_t>(st.st_size);
        } else if (S_ISDIR(st.st_mode)) {
            item.kind = Kind::directory;
        } else if (S_ISLNK(st.st_mode)) {
            item.kind = Kind::symlink;
            std::error_code ec;
            item.link_target = fs::read_symlink(item.source, ec).string();
            if (ec) {
                fail(out, item.name,
                     fmt::format("cannot read the symlink {}: {}", item.source.string(),
                                 ec.message()));
            }
        } else {
            fail(out, item.name,
                 fmt::format("{} is not a file, directory or symlink", item.source.string()));
        }
        items.push_back(std::move(item));
    }
    return items;
}

// zstd level 1 through libarchive's raw writer: fast enough to probe with, and close enough to
// the real compressors to tell random or already-compressed data from data that compresses.
std::optional<std::uint64_t> quick_compressed_size(std::string_view data) {
    Writer writer(archive_write_new(), &archive_write_free);
    Entry entry(archive_entry_new(), &archive_entry_free);
    if (!writer || !entry) {
        return std::nullopt;
    }
    std::string buffer(data.size() + data.size() / 8 + 4096, '\0');
    std::size_t used = 0;
    struct archive* a = writer.get();
    archive_entry_set_pathname(entry.get(), "probe");
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(data.size()));
    if (archive_write_set_format_raw(a) != ARCHIVE_OK ||
        archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
        archive_write_set_filter_option(a, "zstd", "compression-level", "1") != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open_memory(a, buffer.data(), buffer.size(), &used) != ARCHIVE_OK ||
        archive_write_header(a, entry.get()) != ARCHIVE_OK ||
        archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size()) ||
        archive_write_close(a) != ARCHIVE_OK) {
        return std::nullopt;
    }
    return used;
}

std::size_t read_at(const fs::path& out, const Item& item, int fd, char* buffer, std::size_t size,
                    std::uint64_t offset) {
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(fd, buffer + done, size - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fail(out, item.name,
                 fmt::format("cannot read {}: {}", item.source.string(), errno_text(errno)));
        }
        if (n == 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    return done;
}

// Estimated compressed size of all file content; marks the files whose samples do not compress.
// A probe that cannot run counts as compressible, so the real compressor and the comparison
// after writing decide.
std::uint64_t estimate_compressed(const fs::path& out, std::vector<Item>& items) {
    double estimate = 0;
    std::string pool;
    std::uint64_t pool_represents = 0;
    auto flush_pool = [&] {
        if (pool.empty()) {
            return;
        }
        auto packed = quick_compressed_size(pool);
        double ratio = packed ? static_cast<double>(*packed) / static_cast<double>(pool.size()) : 0;
        estimate += ratio * static_cast<double>(pool_represents);
        pool.clear();
        pool_represents = 0;
    };
    std::string sample;
    for (Item& item : items) {
        if (item.kind != Kind::file || item.size == 0) {
            continue;
        }
        FileDescriptor fd(::open(item.source.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (fd.get() < 0) {
            fail(out, item.name,
                 fmt::format("cannot open {}: {}", item.source.string(), errno_text(errno)));
        }
        if (item.size < kSampledFile) {
            std::size_t take =
                static_cast<std::size_t>(std::min<std::uint64_t>(item.size, kSmallSample));
            std::size_t old = pool.size();
            pool.resize(old + take);
            pool.resize(old + read_at(out, item, fd.get(), pool.data() + old, take, 0));
            pool_represents += item.size;
            if (pool.size() >= kPoolSize) {
                flush_pool();
            }
            continue;
        }
        sample.resize(3 * kSampleSize);
        const std::uint64_t offsets[] = {0, item.size / 2 - kSampleSize / 2,
                                         item.size - kSampleSize};
        std::size_t got = 0;
        for (std::uint64_t offset : offsets) {
            got += read_at(out, item, fd.get(), sample.data() + got, kSampleSize, offset);
        }
        sample.resize(got);
        auto packed = quick_compressed_size(sample);
        double ratio =
            packed && got > 0 ? static_cast<double>(*packed) / static_cast<double>(got) : 0;
        item.compressible = ratio < 1 - kMinSaving;
        estimate += ratio * static_cast<double>(item.size);
    }
    flush_pool();
    return static_cast<std::uint64_t>(estimate);
}

void set_option(struct archive* a, const fs::path& out, const char* module, const char* key,
                const char* value) {
    if (archive_write_set_option(a, module, key, value) != ARCHIVE_OK) {
        throw Error::format("{}: libarchive refused the option {}:{}={}: {}", out.string(), module,
                            key, value ? value : "(off)", archive_error_string(a));
    }
}

// Maps ferry's levels 0,1,3,5,7,9 onto each format. Stored means: 7z copy, zip store, plain
// tar, gzip level 0 (deflate's stored blocks); bzip2, xz and zstd have no stored mode, so
// their lightest settings stand in (bzip2 1, xz preset 0, zstd 1).
void configure(struct archive* a, const fs::path& out, ArchiveFormat format, int level,
               bool stored) {
    const std::string level_text = std::to_string(stored ? 0 : level);
    int status = ARCHIVE_OK;
    switch (format) {
        case ArchiveFormat::sevenzip:
            status = archive_write_set_format_7zip(a);
            set_option(a, out, "7zip", "compression", stored ? "copy" : "lzma2");
            set_option(a, out, "7zip", "compression-level", level_text.c_str());
            return;
        case ArchiveFormat::zip:
            status = archive_write_set_format_zip(a);
            set_option(a, out, "zip", "compression-level", level_text.c_str());
            break;
        default:
            // pax restricted is ustar until a name or link target needs more, and never writes
            // atime/ctime headers.
            status = archive_write_set_format_pax_restricted(a);
            break;
    }
    if (status == ARCHIVE_OK) {
        switch (format) {
            case ArchiveFormat::tar_gz:
                status = archive_write_add_filter_gzip(a);
                set_option(a, out, "gzip", "compression-level", level_text.c_str());
                set_option(a, out, "gzip", "timestamp", nullptr);
                break;
            case ArchiveFormat::tar_bz2:
                status = archive_write_add_filter_bzip2(a);
                set_option(a, out, "bzip2", "compression-level", stored ? "1" : level_text.c_str());
                break;
            case ArchiveFormat::tar_xz:
                status = archive_write_add_filter_xz(a);
                set_option(a, out, "xz", "compression-level", level_text.c_str());
                break;
            case ArchiveFormat::tar_zst: {
                // zstd's own scale runs to 19 (22 with --ultra): 1→1, 3→3, 5→9, 7→15, 9→19.
                const char* zstd_level = "1";
                switch (stored ? 1 : level) {
                    case 3:
                        zstd_level = "3";
                        break;
                    case 5:
                        zstd_level = "9";
                        break;
                    case 7:
                        zstd_level = "15";
                        break;
                    case 9:
                        zstd_level = "19";
                        break;
                    default:
                        break;
                }
                status = archive_write_add_filter_zstd(a);
                set_option(a, out, "zstd", "compression-level", zstd_level);
                break;
            }
            default:
                break;
        }
    }
    if (status != ARCHIVE_OK) {
        throw Error::format("{}: cannot set up the {} writer: {}", out.string(), extension(format),
                            archive_error_string(a));
    }
}

std::uint32_t dos_time(const std::tm& t) {
    if (t.tm_year < 80) {
        return 0x00210000u;
    }
    if (t.tm_year > 207) {
        return 0xff9fbf7du;
    }
    auto field = [](int value) { return static_cast<std::uint32_t>(value); };
    return field(t.tm_year - 80) << 25 | field(t.tm_mon + 1) << 21 | field(t.tm_mday) << 16 |
           field(t.tm_hour) << 11 | field(t.tm_min) << 5 | field(t.tm_sec) >> 1;
}

std::uint64_t le(const char* p, int bytes) {
    std::uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) {
        value = value << 8 | static_cast<unsigned char>(p[i]);
    }
    return value;
}

void put_le32(char* p, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) {
        p[i] = static_cast<char>(value >> (8 * i) & 0xff);
    }
}

// libarchive writes the MS-DOS time of zip entries in local time (the UT extra field holds the
// real UTC time); rewrite it as UTC so that the bytes do not depend on the machine's time zone.
void pin_zip_dos_times(int fd, const fs::path& out, std::int64_t mtime) {
    std::time_t t = static_cast<std::time_t>(mtime);
    std::tm local{};
    std::tm utc{};
    ::localtime_r(&t, &local);
    ::gmtime_r(&t, &utc);
    const std::uint32_t from = dos_time(local);
    const std::uint32_t to = dos_time(utc);
    if (from == to) {
        return;
    }
    auto read_exact = [&](std::string& buffer, std::uint64_t offset) {
        std::size_t done = 0;
        while (done < buffer.size()) {
            ssize_t n = ::pread(fd, buffer.data() + done, buffer.size() - done,
                                static_cast<off_t>(offset + done));
            if (n <= 0 && !(n < 0 && errno == EINTR)) {
                throw Error::format("{}: cannot re-read the written zip", out.string());
            }
            done += n > 0 ? static_cast<std::size_t>(n) : 0;
        }
    };
    auto write_exact = [&](const std::string& buffer, std::uint64_t offset) {
        if (::pwrite(fd, buffer.data(), buffer.size(), static_cast<off_t>(offset)) !=
            static_cast<ssize_t>(buffer.size())) {
            throw Error::format("{}: cannot fix the zip's times: {}", out.string(),
                                errno_text(errno));
        }
    };
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size < 22) {
        throw Error::format("{}: the written zip is truncated", out.string());
    }
    const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    std::string end(22, '\0');
    read_exact(end, size - 22);  // libarchive writes no archive comment
    std::uint64_t entries = le(end.data() + 10, 2);
    std::uint64_t cd_size = le(end.data() + 12, 4);
    std::uint64_t cd_offset = le(end.data() + 16, 4);
    if (entries == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
        std::string locator(20, '\0');
        read_exact(locator, size - 42);
        std::string end64(56, '\0');
        read_exact(end64, le(locator.data() + 8, 8));
        entries = le(end64.data() + 32, 8);
        cd_size = le(end64.data() + 40, 8);
        cd_offset = le(end64.data() + 48, 8);
    }
    std::string cd(cd_size, '\0');
    read_exact(cd, cd_offset);
    std::string local_header(30, '\0');
    std::size_t pos = 0;
    for (std::uint64_t i = 0; i < entries; ++i) {
        if (pos + 46 > cd.size() || cd.compare(pos, 4, "PK\1\2") != 0) {
            throw Error::format("{}: unexpected zip central directory layout", out.string());
        }
        char* header = cd.data() + pos;
        const std::size_t name_length = le(header + 28, 2);
        const std::size_t extra_length = le(header + 30, 2);
        std::uint64_t local_offset = le(header + 42, 4);
        if (local_offset == 0xffffffff) {
            // The zip64 extra field lists, in order, only the sizes that overflowed.
            const char* extra = header + 46 + name_length;
            for (std::size_t e = 0; e + 4 <= extra_length;) {
                std::size_t length = le(extra + e + 2, 2);
                if (le(extra + e, 2) == 1) {
                    std::size_t skip = (le(header + 24, 4) == 0xffffffff ? 8 : 0) +
                                       (le(header + 20, 4) == 0xffffffff ? 8 : 0);
                    local_offset = le(extra + e + 4 + skip, 8);
                    break;
                }
                e += 4 + length;
            }
        }
        if (le(header + 12, 4) == from) {
            put_le32(header + 12, to);
        }
        read_exact(local_header, local_offset);
        if (local_header.compare(0, 4, "PK\3\4") == 0 && le(local_header.data() + 10, 4) == from) {
            put_le32(local_header.data() + 10, to);
            write_exact(local_header, local_offset);
        }
        pos += 46 + name_length + extra_length + le(header + 32, 2);
    }
    write_exact(cd, cd_offset);
}

struct PassResult {
    std::uint64_t content = 0;        // regular-file bytes written
    std::uint64_t uncompressed = 0;   // what the archive would be without compression
    std::uint64_t archive_bytes = 0;  // the file written
};

// Writes every item into temp. Errors name the archive and the entry being written.
PassResult write_pass(const fs::path& out, const fs::path& temp, const std::vector<Item>& items,
                      const WriteOptions& options, bool stored, bool report_progress) {
    FileDescriptor fd(::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        throw Error::format("{}: cannot create {}: {}", out.string(), temp.string(),
                            errno_text(errno));
    }
    Writer writer(archive_write_new(), &archive_write_free);
    struct archive* a = writer.get();
    configure(a, out, options.format, options.level, stored);
    archive_write_set_bytes_per_block(a, 1 << 16);
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open_fd(a, fd.get()) != ARCHIVE_OK) {
        throw Error::format("{}: cannot start writing: {}", out.string(), archive_error_string(a));
    }
    PassResult result;
    std::unique_ptr<char[]> buffer(new char[kChunkSize]);
    for (const Item& item : items) {
        Entry entry(archive_entry_new(), &archive_entry_free);
        archive_entry_set_pathname(entry.get(), item.name.c_str());
        archive_entry_set_mtime(entry.get(), static_cast<time_t>(options.mtime), 0);
        archive_entry_set_uid(entry.get(), 0);
        archive_entry_set_gid(entry.get(), 0);
        std::optional<FileDescriptor> source;
        std::uint64_t size = 0;
        if (item.kind == Kind::directory) {
            archive_entry_set_filetype(entry.get(), AE_IFDIR);
            archive_entry_set_perm(entry.get(), 0755);
        } else if (item.kind == Kind::symlink) {
            archive_entry_set_filetype(entry.get(), AE_IFLNK);
            archive_entry_set_perm(entry.get(), 0777);
            archive_entry_set_symlink(entry.get(), item.link_target.c_str());
        } else {
            source.emplace(::open(item.source.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
            struct stat st {};
            if (source->get() < 0 || ::fstat(source->get(), &st) != 0) {
                fail(out, item.name,
                     fmt::format("cannot open {}: {}", item.source.string(), errno_text(errno)));
            }
            if (!S_ISREG(st.st_mode)) {
                fail(out, item.name, fmt::format("{} is no longer a file", item.source.string()));
            }
            size = static_cast<std::uint64_t>(st.st_size);
            ::posix_fadvise(source->get(), 0, 0, POSIX_FADV_SEQUENTIAL);
            archive_entry_set_filetype(entry.get(), AE_IFREG);
            archive_entry_set_perm(entry.get(), (st.st_mode & 0111) != 0 ? 0755 : 0644);
            archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
            if (options.format == ArchiveFormat::zip) {
                if (stored || !item.compressible) {
                    archive_write_zip_set_compression_store(a);
                } else {
                    archive_write_zip_set_compression_deflate(a);
                }
            }
        }
        if (archive_write_header(a, entry.get()) != ARCHIVE_OK) {
            fail(out, item.name, archive_error_string(a));
        }
        std::uint64_t done = 0;
        while (source) {
            std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(kChunkSize, size - done + 1));
            std::size_t got = read_at(out, item, source->get(), buffer.get(), want, done);
            if (done + got > size) {
                fail(out, item.name,
                     fmt::format("{} grew while it was archived", item.source.string()));
            }
            if (got == 0) {
                break;
            }
            if (archive_write_data(a, buffer.get(), got) != static_cast<la_ssize_t>(got)) {
                fail(out, item.name, archive_error_string(a));
            }
            done += got;
            result.content += got;
            if (report_progress && options.on_progress) {
                options.on_progress(result.content);
            }
        }
        if (done != size) {
            fail(out, item.name,
                 fmt::format("{} shrank while it was archived", item.source.string()));
        }
        if (archive_write_finish_entry(a) != ARCHIVE_OK) {
            fail(out, item.name, archive_error_string(a));
        }
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        throw Error::format("{}: cannot finish the archive: {}", out.string(),
                            archive_error_string(a));
    }
    const bool filtered =
        options.format == ArchiveFormat::tar_gz || options.format == ArchiveFormat::tar_bz2 ||
        options.format == ArchiveFormat::tar_xz || options.format == ArchiveFormat::tar_zst;
    result.uncompressed =
        filtered ? static_cast<std::uint64_t>(archive_filter_bytes(a, 0)) : result.content;
    if (options.format == ArchiveFormat::zip) {
        pin_zip_dos_times(fd.get(), out, options.mtime);
    }
    struct stat st {};
    if (::fsync(fd.get()) != 0 || ::fstat(fd.get(), &st) != 0) {
        throw Error::format("{}: cannot write {}: {}", out.string(), temp.string(),
                            errno_text(errno));
    }
    result.archive_bytes = static_cast<std::uint64_t>(st.st_size);
    return result;
}

// Removes a temporary file unless it was renamed into place.
class TemporaryFile {
  public:
    explicit TemporaryFile(fs::path path) : path_(std::move(path)) {}
    ~TemporaryFile() {
        if (!path_.empty()) {
            ::unlink(path_.c_str());
        }
    }
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;
    const fs::path& path() const { return path_; }
    void rename_to(const fs::path& target) {
        if (::rename(path_.c_str(), target.c_str()) != 0) {
            throw Error::format("{}: cannot move {} into place: {}", target.string(),
                                path_.string(), errno_text(errno));
        }
        path_.clear();
    }

  private:
    fs::path path_;
};

}  // namespace

std::vector<ArchiveInput> collect_tree(const fs::path& root, std::string_view prefix) {
    if (!prefix.empty() && prefix.back() != '/') {
        throw Error::format("{}: entry prefix \"{}\" must be empty or end in '/'", root.string(),
                            prefix);
    }
    std::error_code ec;
    if (!fs::is_directory(fs::symlink_status(root, ec))) {
        throw Error::format("{}: not a directory", root.string());
    }
    std::vector<ArchiveInput> inputs;
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const fs::path& path = it->path();
        fs::file_status status = it->symlink_status(ec);
        if (ec) {
            break;
        }
        if (!fs::is_regular_file(status) && !fs::is_directory(status) && !fs::is_symlink(status)) {
            throw Error::format(
                "{}: is a fifo, socket or device; only files, directories and "
                "symlinks can be archived",
                path.string());
        }
        inputs.push_back(
            {std::string(prefix) + path.lexically_relative(root).generic_string(), path});
    }
    if (ec) {
        throw Error::format("{}: cannot list the directory: {}", root.string(), ec.message());
    }
    std::sort(inputs.begin(), inputs.end(), [](const ArchiveInput& a, const ArchiveInput& b) {
        return a.entry_name < b.entry_name;
    });
    return inputs;
}

WriteResult write_archive(const fs::path& out, std::vector<ArchiveInput> inputs,
                          const WriteOptions& options) {
    parse_compression_level(std::to_string(options.level));
    Utf8Names utf8_names;
    std::vector<Item> items = inspect(out, std::move(inputs));
    std::uint64_t total = 0;
    for (const Item& item : items) {
        total += item.size;
    }
    bool stored = options.level == 0 || options.format == ArchiveFormat::tar;
    if (!stored && total >= kMinProbedContent) {
        const double estimate = static_cast<double>(estimate_compressed(out, items));
        stored = estimate >= static_cast<double>(total) * (1 - kMinSaving);
    }
    TemporaryFile first(core::temporary_sibling(out));
    PassResult written = write_pass(out, first.path(), items, options, stored, true);
    WriteResult result{written.content, stored};
    // The probe only samples: if compression still did not pay, keep whichever is smaller.
    if (!stored && written.archive_bytes >= written.uncompressed) {
        TemporaryFile second(core::temporary_sibling(out));
        PassResult plain = write_pass(out, second.path(), items, options, true, false);
        if (plain.archive_bytes <= written.archive_bytes) {
            second.rename_to(out);
            result.stored = true;
            return result;
        }
    }
    first.rename_to(out);
    return result;
}

}  // namespace ferry::archive
