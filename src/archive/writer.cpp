// Deterministic archive writing: sorted entries, one fixed mtime, owner 0:0, normalised modes,
// sources streamed in chunks, and compression skipped when it would not make the archive smaller.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "archive/archive.hpp"
#include "archive/compress_probe.hpp"
#include "archive/error_text.hpp"
#include "archive/utf8_locale.hpp"
#include "archive/zip_times.hpp"
#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/files.hpp"

namespace ferry::archive {

namespace {

using core::FileDescriptor;

constexpr std::size_t kChunkSize = 1 << 20;
constexpr std::uint64_t kWritebackStep = 8u << 20;  // bytes between writeback hints
// Text coding (PPMd) is chosen when at least this share of the content looks like text, and
// only at levels that ask for a good ratio: PPMd decodes no faster than it encodes.
constexpr double kMinTextShare = 0.9;
constexpr int kMinTextCodingLevel = 5;
// Content smaller than this is not probed: compressing it costs nothing and the comparison
// after writing decides.
constexpr std::uint64_t kMinProbedContent = 4096;
// Content of which at least this share does not compress (media, archives, encrypted data beside
// a little else) is compressed with LZMA's fastest preset: it runs through data it cannot shrink
// several times faster than the higher presets, and what it loses is part of a saving that is
// small anyway (a quarter of the content at most).
constexpr double kMostlyIncompressibleShare = 0.75;
constexpr int kFastLzmaLevel = 1;

using Writer = std::unique_ptr<struct archive, decltype(&archive_write_free)>;
using Entry = std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)>;

enum class Kind { file, directory, symlink };

struct Item {
    std::string name;
    fs::path source;
    std::function<void(const core::ByteSink&)> produce;  // instead of source
    std::vector<fs::path> probe_sources;                 // what produce's bytes come from
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

std::vector<Item> inspect(const fs::path& out, std::vector<ArchiveInput> inputs, bool keep_order) {
    std::vector<std::string_view> names;
    names.reserve(inputs.size());
    for (const ArchiveInput& input : inputs) {
        check_entry_name(out, input.entry_name);
        names.push_back(input.entry_name);
    }
    std::sort(names.begin(), names.end());
    if (auto twice = std::adjacent_find(names.begin(), names.end()); twice != names.end()) {
        fail(out, *twice, "appears twice in the input");
    }
    if (!keep_order) {
        std::sort(inputs.begin(), inputs.end(), [](const ArchiveInput& a, const ArchiveInput& b) {
            return a.entry_name < b.entry_name;
        });
    }
    std::vector<Item> items;
    items.reserve(inputs.size());
    for (ArchiveInput& input : inputs) {
        Item item;
        item.name = std::move(input.entry_name);
        item.source = std::move(input.source);
        if (input.produce) {
            item.produce = std::move(input.produce);
            item.size = input.size;
            item.probe_sources = std::move(input.probe_sources);
            items.push_back(std::move(item));
            continue;
        }
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

void set_option(struct archive* a, const fs::path& out, const char* module, const char* key,
                const char* value) {
    if (archive_write_set_option(a, module, key, value) != ARCHIVE_OK) {
        throw Error::format("{}: libarchive refused the option {}:{}={}: {}", out.string(), module,
                            key, value ? value : "(off)", error_text(a));
    }
}

// Maps ferry's levels 0,1,3,5,7,9 onto each format. Stored means: 7z copy, zip store, plain
// tar, gzip level 0 (deflate's stored blocks); bzip2, xz and zstd have no stored mode, so
// their lightest settings stand in (bzip2 1, xz preset 0, zstd 1).
// How the content is coded: as it is, by the format's usual compressor, or — for text in 7z at
// level 5 and above — by PPMd, which packs text tighter than LZMA2 and several times faster.
enum class Coding { stored, general, text };

// What the encoder needs at most, from the compressors' documented presets (xz/LZMA2 presets
// 1/3/5/7/9 need about 9/32/94/186/674 MiB; PPMd as libarchive runs it 16 MiB; zstd grows with
// its level), plus the read buffer.
std::uint64_t encoder_memory(ArchiveFormat format, int level, Coding coding) {
    constexpr std::uint64_t MiB = 1 << 20;
    const std::uint64_t buffers = 2 * MiB;
    if (coding == Coding::stored) {
        return buffers;
    }
    if (coding == Coding::text) {
        return buffers + 20 * MiB;
    }
    auto by_level = [&](std::uint64_t l1, std::uint64_t l3, std::uint64_t l5, std::uint64_t l7,
                        std::uint64_t l9) {
        const std::uint64_t table[] = {l1, l1, l3, l3, l5, l5, l7, l7, l9, l9};
        return buffers + table[std::clamp(level, 1, 9)] * MiB;
    };
    switch (format) {
        case ArchiveFormat::sevenzip:
        case ArchiveFormat::tar_xz:
            return by_level(9, 32, 94, 186, 674);
        case ArchiveFormat::tar_zst:
            return by_level(2, 6, 24, 48, 96);
        case ArchiveFormat::tar_bz2:
            return by_level(8, 8, 8, 8, 8);
        default:
            return buffers + MiB;
    }
}

void configure(struct archive* a, const fs::path& out, ArchiveFormat format, int level,
               Coding coding) {
    const bool stored = coding == Coding::stored;
    const std::string level_text = std::to_string(stored ? 0 : level);
    int status = ARCHIVE_OK;
    switch (format) {
        case ArchiveFormat::sevenzip:
            status = archive_write_set_format_7zip(a);
            set_option(a, out, "7zip", "compression",
                       stored                   ? "copy"
                       : coding == Coding::text ? "ppmd"
                                                : "lzma2");
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
                            error_text(a));
    }
}

// Reads up to size bytes (fewer only at the end of the file).
std::size_t read_full(const fs::path& out, const Item& item, int fd, char* buffer,
                      std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::read(fd, buffer + done, size - done);
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

struct PassResult {
    std::uint64_t content = 0;        // regular-file bytes written
    std::uint64_t uncompressed = 0;   // what the archive would be without compression
    std::uint64_t archive_bytes = 0;  // the file written
};

// Writes every item into temp. Errors name the archive and the entry being written.
PassResult write_pass(const fs::path& out, const fs::path& temp, const std::vector<Item>& items,
                      const WriteOptions& options, int level, Coding coding, bool report_progress) {
    const bool stored = coding == Coding::stored;
    FileDescriptor fd(::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        throw Error::format("{}: cannot create {}: {}", out.string(), temp.string(),
                            errno_text(errno));
    }
    Writer writer(archive_write_new(), &archive_write_free);
    struct archive* a = writer.get();
    configure(a, out, options.format, level, coding);
    archive_write_set_bytes_per_block(a, 1 << 16);
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open_fd(a, fd.get()) != ARCHIVE_OK) {
        throw Error::format("{}: cannot start writing: {}", out.string(), error_text(a));
    }
    PassResult result;
    std::uint64_t written_back = 0;
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
        } else if (item.produce) {
            size = item.size;
            archive_entry_set_filetype(entry.get(), AE_IFREG);
            archive_entry_set_perm(entry.get(), 0644);
            archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
            if (options.format == ArchiveFormat::zip) {
                archive_write_zip_set_compression_deflate(a);
            }
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
            fail(out, item.name, error_text(a));
        }
        std::uint64_t done = 0;
        auto put = [&](const char* data, std::size_t length) {
            if (archive_write_data(a, data, length) != static_cast<la_ssize_t>(length)) {
                fail(out, item.name, error_text(a));
            }
            done += length;
            result.content += length;
            if (report_progress && options.on_progress) {
                options.on_progress(result.content);
            }
            // The archive is synced before it counts as written; writing back as it grows
            // leaves that fsync little to wait for. A hint only: its failure shows at the fsync.
            if (result.content - written_back >= kWritebackStep) {
                ::sync_file_range(fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
                written_back = result.content;
            }
        };
        if (item.produce) {
            item.produce([&](const char* data, std::size_t length) {
                if (done + length > size) {
                    fail(out, item.name, fmt::format("more than the {} bytes announced", size));
                }
                put(data, length);
            });
            if (done != size) {
                fail(out, item.name, fmt::format("{} bytes made, {} announced", done, size));
            }
        }
        while (source) {
            std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(kChunkSize, size - done + 1));
            std::size_t got = read_full(out, item, source->get(), buffer.get(), want);
            if (done + got > size) {
                fail(out, item.name,
                     fmt::format("{} grew while it was archived", item.source.string()));
            }
            if (got == 0) {
                break;
            }
            put(buffer.get(), got);
        }
        if (done != size) {
            fail(out, item.name,
                 fmt::format("{} shrank while it was archived", item.source.string()));
        }
        if (archive_write_finish_entry(a) != ARCHIVE_OK) {
            fail(out, item.name, error_text(a));
        }
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        throw Error::format("{}: cannot finish the archive: {}", out.string(), error_text(a));
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
        core::sync_path(target.parent_path().empty() ? fs::path(".") : target.parent_path());
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
    Utf8Locale utf8_names;
    std::vector<Item> items = inspect(out, std::move(inputs), options.keep_order);
    std::uint64_t total = 0;
    for (const Item& item : items) {
        total += item.size;
    }
    bool stored = options.level == 0 || options.format == ArchiveFormat::tar;
    bool text = false;
    bool mostly_incompressible = false;
    if (!stored && total >= kMinProbedContent) {
        // Compression is used only when expected to save a noticeable share: below that it is
        // not worth the time (LZMA crawls through random data at ~2 MB/s).
        std::vector<ProbedFile> probed;
        std::vector<Item*> probed_items;  // the plain file of each probed entry, or null
        std::uint64_t probed_total = 0;
        for (Item& item : items) {
            if (item.kind != Kind::file) {
                continue;
            }
            if (!item.produce) {
                probed.push_back({&item.source, item.size});
                probed_items.push_back(&item);
            }
            for (const fs::path& source : item.probe_sources) {
                std::error_code ec;
                const std::uint64_t size = fs::file_size(source, ec);
                probed.push_back({&source, ec ? 0 : size});
                probed_items.push_back(nullptr);
            }
        }
        for (const ProbedFile& file : probed) {
            probed_total += file.size;
        }
        const ProbeEstimate estimate = estimate_compression(probed);
        stored = static_cast<double>(estimate.compressed) >=
                 static_cast<double>(probed_total) * (1 - kMinCompressionSaving);
        text =
            static_cast<double>(estimate.text) >= static_cast<double>(probed_total) * kMinTextShare;
        std::uint64_t incompressible = 0;
        for (std::size_t p = 0; p < probed.size(); ++p) {
            if (probed_items[p] != nullptr) {
                probed_items[p]->compressible = probed[p].compressible;
            }
            incompressible += probed[p].compressible ? 0 : probed[p].size;
        }
        mostly_incompressible = static_cast<double>(incompressible) >=
                                static_cast<double>(probed_total) * kMostlyIncompressibleShare;
    }
    const Coding coding =
        stored ? Coding::stored
        : text && options.format == ArchiveFormat::sevenzip && options.level >= kMinTextCodingLevel
            ? Coding::text
            : Coding::general;
    const bool lzma = coding == Coding::general && (options.format == ArchiveFormat::sevenzip ||
                                                    options.format == ArchiveFormat::tar_xz);
    const int level =
        lzma && mostly_incompressible ? std::min(options.level, kFastLzmaLevel) : options.level;
    const std::shared_ptr<void> memory_lease =
        options.reserve_memory
            ? options.reserve_memory(encoder_memory(options.format, level, coding))
            : nullptr;
    TemporaryFile first(core::temporary_sibling(out));
    PassResult written = write_pass(out, first.path(), items, options, level, coding, true);
    WriteResult result{written.content, stored, coding == Coding::stored ? 0 : level};
    // The probe only samples: if compression still did not pay, keep whichever is smaller.
    if (!stored && written.archive_bytes >= written.uncompressed) {
        TemporaryFile second(core::temporary_sibling(out));
        PassResult plain = write_pass(out, second.path(), items, options, 0, Coding::stored, false);
        if (plain.archive_bytes <= written.archive_bytes) {
            second.rename_to(out);
            result.stored = true;
            result.level = 0;
            return result;
        }
    }
    first.rename_to(out);
    return result;
}

}  // namespace ferry::archive
