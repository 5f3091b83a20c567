// Deterministic archive writing and safe extraction (libarchive).
// Same input → same bytes: entries sorted, one fixed mtime, owner 0:0 with no names,
// permissions normalised (0644/0755, executable bit kept), symlinks kept as symlinks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/files.hpp"

namespace ferry::archive {

namespace fs = std::filesystem;

enum class ArchiveFormat { sevenzip, zip, tar, tar_gz, tar_bz2, tar_xz, tar_zst };

// "7z", "zip", "tar", "tar.gz", "tar.bz2", "tar.xz", "tar.zst"; throws ferry::Error otherwise.
ArchiveFormat parse_archive_format(std::string_view name);
// The file name suffix without the dot: "7z", "tar.gz", ...
std::string_view extension(ArchiveFormat format);

// IFW's --ac levels: 0 (store), 1, 3, 5, 7, 9. Throws for anything else.
int parse_compression_level(std::string_view text);

// One entry to write: entry_name uses '/' and has no leading '/'. source is a regular file, a
// directory (written as a directory entry only) or a symlink (written as a symlink).
struct ArchiveInput {
    ArchiveInput() = default;
    ArchiveInput(std::string name, fs::path from)
        : entry_name(std::move(name)), source(std::move(from)) {}

    std::string entry_name;
    fs::path source;
    // Instead of a source: a regular file (0644) of exactly `size` bytes that `produce` writes
    // into the sink it is given, streamed; it may be called once per pass over the inputs.
    // Producing another size is an error naming the entry. Whether compression pays is judged
    // from samples of probe_sources, the files the produced bytes mostly come from.
    std::function<void(const core::ByteSink&)> produce;
    std::uint64_t size = 0;
    std::vector<fs::path> probe_sources;
};

// Expands a directory tree into inputs sorted by entry name: every directory, file and symlink
// below root, each named prefix + relative path (prefix "" or ending in '/'). Symlinks are not
// followed. Fifos, sockets and devices are refused with an error naming the path.
std::vector<ArchiveInput> collect_tree(const fs::path& root, std::string_view prefix);

struct WriteOptions {
    ArchiveFormat format = ArchiveFormat::sevenzip;
    int level = 5;  // 0 stores
    std::int64_t mtime = 0;
    // Called with the number of input bytes consumed so far (for progress); may be empty.
    std::function<void(std::uint64_t)> on_progress;
    // Called once the coding is chosen, with the encoder's memory need in bytes, before any
    // encoding; what it returns is held until the archive is written. Lets callers that write
    // several archives at once keep their peak memory within a budget. May be empty.
    std::function<std::shared_ptr<void>(std::uint64_t)> reserve_memory;
    // Write the entries in the order given instead of sorted by name (a stream whose reader
    // needs one entry first).
    bool keep_order = false;
};

struct WriteResult {
    std::uint64_t uncompressed_size = 0;  // the sum of the regular files' sizes
    bool stored = false;  // compression was off, by request (level 0) or because it did not help
    // The level the content was compressed at: the one asked for, 0 when stored, or LZMA's
    // fastest when most of the content does not compress.
    int level = 0;
};

// Writes inputs (sorted by entry name before writing, unless options.keep_order) into a new archive
// at out, atomically (temporary sibling + rename). If compressing would not make the content
// smaller, the archive is written stored instead. Errors name the archive and the entry.
WriteResult write_archive(const fs::path& out, std::vector<ArchiveInput> inputs,
                          const WriteOptions& options);

// True when the file starts with the signature of a format ferry writes (7z, zip, tar with any
// of its compressions) and libarchive reads a first entry from it. Decided by content, never by
// the file name; an archive without entries (an empty tar is 10,240 zero bytes) is no archive.
bool is_archive(const fs::path& path);

// Sum of the sizes of the regular-file entries (IFW's UncompressedSize of a copied archive).
std::uint64_t content_size(const fs::path& archive);

struct ExtractLimits {
    std::uint64_t max_total_bytes = UINT64_MAX;  // sum of regular-file sizes
    std::uint64_t max_entries = 1'000'000;
};

// Where an archive lies in its file: all of it, or `size` bytes from `offset` on (an archive
// appended to another file, as an installer's payload is). Nothing outside the span is read.
struct ArchiveSpan {
    std::uint64_t offset = 0;
    std::uint64_t size = UINT64_MAX;
};

struct ExtractedEntry {
    std::string path;  // relative to the target, '/'-separated
    enum class Type { file, directory, symlink, hardlink } type = Type::file;
    std::uint64_t size = 0;
    bool executable = false;  // files: written with mode 0755 (else 0644)
    std::string sha256;       // files, when extracted: of the content as written
    std::string link;         // symlinks: the target; hardlinks: the entry linked to
};

// Extracts into target (which must exist). Refuses absolute paths, '..' components, symlinks or
// hardlinks that lead outside target, device files, fifos and sockets, and stops when a limit
// is exceeded; every error names the archive and the entry. On error, what was already written
// stays in target: callers extract into a staging directory.
std::vector<ExtractedEntry> extract_archive(const fs::path& archive, const fs::path& target,
                                            const ExtractLimits& limits = {},
                                            const ArchiveSpan& span = {});

// The entries of an archive without extracting them (same checks on names as extraction).
std::vector<ExtractedEntry> list_archive(const fs::path& archive);

// The path and content of the first regular file whose path wanted accepts (same checks on
// names as extraction), without extracting anything; nullopt when there is none. A wanted file
// larger than max_bytes is an error naming it.
std::optional<std::pair<std::string, std::string>> read_entry(
    const fs::path& archive, const std::function<bool(std::string_view)>& wanted,
    std::uint64_t max_bytes, const ArchiveSpan& span = {});

}  // namespace ferry::archive
