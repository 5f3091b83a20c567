// Compressibility probe: three 64 KiB samples of each large file, the heads of small files
// pooled, each compressed by zstd level 1 through libarchive's raw writer into memory.
#include "archive/compress_probe.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::archive {

namespace {

constexpr std::size_t kSampleSize = 64 << 10;
constexpr std::uint64_t kSampledFile = 3 * kSampleSize;
constexpr std::size_t kSmallSample = 16 << 10;
constexpr std::size_t kPoolSize = 256 << 10;
// What a sample that could not be compressed counts as: compressible, so the real compressor
// and the size comparison after writing decide.
constexpr double kUnknownRatio = 0.5;

// zstd level 1 is fast enough to probe with and close enough to the real compressors to tell
// random or already-compressed data from data that compresses.
std::optional<std::uint64_t> quick_compressed_size(std::string_view data) {
    std::unique_ptr<struct archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                          &archive_write_free);
    std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                               &archive_entry_free);
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

double ratio_of(std::string_view data) {
    auto packed = data.empty() ? std::nullopt : quick_compressed_size(data);
    return packed ? static_cast<double>(*packed) / static_cast<double>(data.size()) : kUnknownRatio;
}

// Text: no NUL byte and almost only printable characters, white space or UTF-8 sequences.
bool looks_like_text(std::string_view data) {
    if (data.empty()) {
        return false;
    }
    std::size_t odd = 0;
    for (unsigned char c : data) {
        if (c == 0) {
            return false;
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') {
            ++odd;
        }
    }
    return odd * 100 < data.size();
}

// Appends up to size bytes read at offset; stops quietly at the end or on an error.
void append_at(int fd, std::string& buffer, std::size_t size, std::uint64_t offset) {
    const std::size_t start = buffer.size();
    buffer.resize(start + size);
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(fd, buffer.data() + start + done, size - done,
                            static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    buffer.resize(start + done);
}

}  // namespace

ProbeEstimate estimate_compression(std::vector<ProbedFile>& files) {
    double estimate = 0;
    std::uint64_t text = 0;
    std::string pool;
    std::uint64_t pool_represents = 0;
    auto flush_pool = [&] {
        estimate += ratio_of(pool) * static_cast<double>(pool_represents);
        if (looks_like_text(pool)) {
            text += pool_represents;
        }
        pool.clear();
        pool_represents = 0;
    };
    std::string sample;
    for (ProbedFile& file : files) {
        if (file.size == 0) {
            continue;
        }
        int fd = ::open(file.source->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            estimate += kUnknownRatio * static_cast<double>(file.size);
            continue;
        }
        if (file.size < kSampledFile) {
            append_at(fd, pool,
                      static_cast<std::size_t>(std::min<std::uint64_t>(file.size, kSmallSample)),
                      0);
            pool_represents += file.size;
            if (pool.size() >= kPoolSize) {
                flush_pool();
            }
        } else {
            sample.clear();
            for (std::uint64_t offset :
                 {std::uint64_t{0}, file.size / 2 - kSampleSize / 2, file.size - kSampleSize}) {
                append_at(fd, sample, kSampleSize, offset);
            }
            const double ratio = ratio_of(sample);
            file.compressible = ratio < 1 - kMinCompressionSaving;
            estimate += ratio * static_cast<double>(file.size);
            if (looks_like_text(sample)) {
                text += file.size;
            }
        }
        ::close(fd);
    }
    flush_pool();
    return {static_cast<std::uint64_t>(estimate), text};
}

}  // namespace ferry::archive
