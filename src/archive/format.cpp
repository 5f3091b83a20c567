// Archive formats and compression levels by name, and the questions asked of an existing archive
// (is it one ferry can read, how much content does it hold), answered by reading it.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <utility>

#include "archive/archive.hpp"
#include "archive/error_text.hpp"
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
                            error_text(reader.get()));
    }
    return reader;
}

// The magic numbers the specifications of the formats ferry writes put at their start (tar's
// "ustar" sits at offset 257 of its first header). libarchive alone is too kind: it takes a
// file of zeros for an empty tar.
bool has_signature(const fs::path& path) {
    std::array<unsigned char, 512> head{};
    std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"),
                                                            &std::fclose);
    if (!file) {
        return false;
    }
    const std::size_t n = std::fread(head.data(), 1, head.size(), file.get());
    auto starts_with = [&](std::initializer_list<unsigned char> magic, std::size_t offset = 0) {
        return n >= offset + magic.size() &&
               std::equal(magic.begin(), magic.end(), head.begin() + static_cast<long>(offset));
    };
    return starts_with({'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}) ||  // 7z
           starts_with({'P', 'K', 0x03, 0x04}) ||              // zip: a local file header
           starts_with({0x1F, 0x8B}) ||                        // gzip
           starts_with({'B', 'Z', 'h'}) ||                     // bzip2
           starts_with({0xFD, '7', 'z', 'X', 'Z', 0x00}) ||    // xz
           starts_with({0x28, 0xB5, 0x2F, 0xFD}) ||            // zstd
           starts_with({'u', 's', 't', 'a', 'r'}, 257);        // POSIX and GNU tar
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
    if (!fs::is_regular_file(path, ec) || !has_signature(path)) {
        return false;
    }
    try {
        Reader reader = open_reader(path);
        struct archive_entry* entry = nullptr;
        // At least one entry: an empty tar is 10,240 zero bytes, which any file of zeros is too.
        const int status = archive_read_next_header(reader.get(), &entry);
        return status == ARCHIVE_OK || status == ARCHIVE_WARN;
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
                                error_text(reader.get()));
        }
        if (archive_entry_filetype(entry) == AE_IFREG && archive_entry_hardlink(entry) == nullptr &&
            archive_entry_size(entry) > 0) {
            total += static_cast<std::uint64_t>(archive_entry_size(entry));
        }
    }
}

}  // namespace ferry::archive
