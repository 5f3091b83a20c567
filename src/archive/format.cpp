// Archive formats and compression levels by name, and the questions asked of an existing archive
// (is it one ferry can read, how much content does it hold), answered by reading it.
#include <archive.h>
#include <archive_entry.h>

#include <array>
#include <memory>
#include <utility>

#include "archive/archive.hpp"
#include "core/error.hpp"

namespace ferry::archive {

namespace {

constexpr std::array<std::pair<ArchiveFormat, std::string_view>, 7> kFormatNames{{
    {ArchiveFormat::sevenzip, "7z"},
    {ArchiveFormat::zip, "zip"},
    {ArchiveFormat::tar, "tar"},
    {ArchiveFormat::tar_gz, "tar.gz"},
    {ArchiveFormat::tar_bz2, "tar.bz2"},
    {ArchiveFormat::tar_xz, "tar.xz"},
    {ArchiveFormat::tar_zst, "tar.zst"},
}};

using Reader = std::unique_ptr<struct archive, decltype(&archive_read_free)>;

// Only the formats ferry writes, each with any compression; never raw, mtree, iso, cab..., so
// that a text file or a bare compressed file is not mistaken for an archive.
Reader open_reader(const fs::path& path) {
    Reader reader(archive_read_new(), &archive_read_free);
    if (!reader) {
        throw Error::format("{}: cannot allocate an archive reader", path.string());
    }
    archive_read_support_filter_all(reader.get());
    archive_read_support_format_7zip(reader.get());
    archive_read_support_format_zip(reader.get());
    archive_read_support_format_tar(reader.get());
    if (archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
        throw Error::format("{}: not a readable archive: {}", path.string(),
                            archive_error_string(reader.get()));
    }
    return reader;
}

}  // namespace

ArchiveFormat parse_archive_format(std::string_view name) {
    for (const auto& [format, text] : kFormatNames) {
        if (text == name) {
            return format;
        }
    }
    throw Error::format(
        "archive format \"{}\" is not known (use 7z, zip, tar, tar.gz, tar.bz2, tar.xz or "
        "tar.zst)",
        name);
}

std::string_view extension(ArchiveFormat format) {
    for (const auto& [known, text] : kFormatNames) {
        if (known == format) {
            return text;
        }
    }
    throw Error::format("archive format {} is not known", static_cast<int>(format));
}

int parse_compression_level(std::string_view text) {
    if (text.size() == 1) {
        switch (text[0]) {
            case '0':
            case '1':
            case '3':
            case '5':
            case '7':
            case '9':
                return text[0] - '0';
            default:
                break;
        }
    }
    throw Error::format("compression level \"{}\" is not one of 0, 1, 3, 5, 7, 9", text);
}

bool is_archive(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        return false;
    }
    try {
        Reader reader = open_reader(path);
        struct archive_entry* entry = nullptr;
        int status = archive_read_next_header(reader.get(), &entry);
        // An empty tar reports EOF at once; libarchive recognised it, so it is an archive.
        return status == ARCHIVE_OK || status == ARCHIVE_WARN || status == ARCHIVE_EOF;
    } catch (const Error&) {
        return false;
    }
}

std::uint64_t content_size(const fs::path& archive) {
    Reader reader = open_reader(archive);
    std::uint64_t total = 0;
    struct archive_entry* entry = nullptr;
    while (true) {
        int status = archive_read_next_header(reader.get(), &entry);
        if (status == ARCHIVE_EOF) {
            return total;
        }
        if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
            throw Error::format("{}: cannot read the next entry: {}", archive.string(),
                                archive_error_string(reader.get()));
        }
        if (archive_entry_filetype(entry) == AE_IFREG && archive_entry_hardlink(entry) == nullptr &&
            archive_entry_size(entry) > 0) {
            total += static_cast<std::uint64_t>(archive_entry_size(entry));
        }
    }
}

}  // namespace ferry::archive
