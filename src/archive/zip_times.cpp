// Zip time fix-up: walks the central directory libarchive wrote and rewrites every MS-DOS
// time (central and local headers) from local time to UTC.
#include "archive/zip_times.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <string>

#include "core/error.hpp"

namespace ferry::archive {

namespace fs = std::filesystem;

namespace {

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

}  // namespace

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

}  // namespace ferry::archive
