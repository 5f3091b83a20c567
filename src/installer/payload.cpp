#include "installer/payload.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "archive/archive.hpp"
#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/file_error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/json_error.hpp"
#include "core/text.hpp"
#include "installer/executable_io.hpp"
#include "installer/packed_format.hpp"

namespace ferry::installer {

namespace {

using Json = nlohmann::json;

constexpr std::uint64_t kManifestLimit = 1 << 20;
constexpr std::string_view kFormat = "ferry-installer/1";

struct Trailer {
    std::uint64_t file_size = 0;
    std::uint64_t payload_size = 0;
    std::array<unsigned char, 32> sha256{};
};

// nullopt when the file does not end with a trailer (a plain ferry).
std::optional<Trailer> read_trailer(int fd, const fs::path& path) {
    struct stat status {};
    if (::fstat(fd, &status) != 0) {
        throw file_error(path.string(), "cannot read", errno);
    }
    Trailer trailer;
    trailer.file_size = static_cast<std::uint64_t>(status.st_size);
    if (!S_ISREG(status.st_mode) || trailer.file_size < kTrailerSize) {
        return std::nullopt;
    }
    std::array<unsigned char, kTrailerSize> bytes{};
    read_exactly(fd, bytes.data(), bytes.size(), trailer.file_size - kTrailerSize, path);
    if (std::memcmp(bytes.data(), kTrailerMagic.data(), kTrailerMagic.size()) != 0 ||
        std::memcmp(bytes.data() + 56, kTrailerEnd.data(), kTrailerEnd.size()) != 0) {
        // Bytes after the executable's own but no trailer: an installer cut short.
        if (const auto end = program_end(fd, path, trailer.file_size);
            end && *end < trailer.file_size) {
            throw Error::format(
                "{} is damaged: {} bytes follow the program but do not end with "
                "an installer's trailer (a download cut short?); nothing was "
                "installed (get the file again)",
                path.string(), trailer.file_size - *end);
        }
        return std::nullopt;
    }
    for (int i = 7; i >= 0; --i) {
        trailer.payload_size = (trailer.payload_size << 8) | bytes[16 + i];
    }
    std::memcpy(trailer.sha256.data(), bytes.data() + 24, 32);
    if (trailer.payload_size > trailer.file_size - kTrailerSize) {
        throw Error::format(
            "{} is damaged: its trailer names a payload of {} bytes, more than "
            "the file holds; nothing was installed",
            path.string(), trailer.payload_size);
    }
    return trailer;
}

std::string hex(const std::array<unsigned char, 32>& bytes) {
    std::string out;
    for (unsigned char b : bytes) {
        out += fmt::format("{:02x}", b);
    }
    return out;
}

std::array<unsigned char, 32> from_hex(const std::string& text) {
    std::array<unsigned char, 32> out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<unsigned char>(std::stoul(text.substr(2 * i, 2), nullptr, 16));
    }
    return out;
}

}  // namespace

core::FileDescriptor open_read(const fs::path& path) {
    core::FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        throw file_error(path.string(), "cannot open", errno);
    }
    return fd;
}

void read_exactly(int fd, void* into, std::size_t size, std::uint64_t at, const fs::path& path) {
    auto* out = static_cast<char*>(into);
    while (size > 0) {
        const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw n == 0 ? Error::format("{}: ends early", path.string())
                         : file_error(path.string(), "cannot read", errno);
        }
        out += n;
        size -= static_cast<std::size_t>(n);
        at += static_cast<std::uint64_t>(n);
    }
}

std::optional<std::uint64_t> program_end(int fd, const fs::path& path, std::uint64_t file_size,
                                         bool* is_packed) {
    if (is_packed != nullptr) {
        *is_packed = false;
    }
    std::array<unsigned char, 64> first{};
    if (file_size < first.size()) {
        return std::nullopt;
    }
    read_exactly(fd, first.data(), first.size(), 0, path);
    const auto end = packed::elf_end(first.data(), first.size());
    if (!end || *end > file_size || file_size - *end < packed::kHeaderSize) {
        return end;
    }
    std::array<unsigned char, packed::kHeaderSize> header{};
    read_exactly(fd, header.data(), header.size(), *end, path);
    const auto size = packed::packed_size(header.data());
    if (!size) {
        return end;
    }
    if (is_packed != nullptr) {
        *is_packed = true;
    }
    return *end + packed::kHeaderSize + *size;
}

// Copies size bytes of `from` starting at `at` to `to`, feeding them to hasher when given.
void copy_range(int from, const fs::path& from_path, std::uint64_t at, std::uint64_t size, int to,
                const fs::path& to_path, core::Hasher* hasher) {
    constexpr std::size_t kBlock = 1 << 20;
    auto buffer = std::make_unique<char[]>(kBlock);
    while (size > 0) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, kBlock));
        read_exactly(from, buffer.get(), n, at, from_path);
        if (hasher != nullptr) {
            hasher->update(buffer.get(), n);
        }
        core::write_all(to, buffer.get(), n, to_path.string());
        at += n;
        size -= n;
    }
}

Manifest parse_manifest(std::string_view text, std::string_view where) {
    Manifest manifest;
    try {
        const Json json = Json::parse(text);
        if (json.at("format").get<std::string>() != kFormat) {
            throw Error::format("{}: format \"{}\" is not {}", where,
                                core::printable_text(json.at("format").get<std::string>()),
                                kFormat);
        }
        const std::string kind = json.at("kind").get<std::string>();
        if (kind == "installer") {
            manifest.kind = PayloadKind::installer;
        } else if (kind == "maintenancetool") {
            manifest.kind = PayloadKind::maintenance_tool;
        } else {
            throw Error::format("{}: kind \"{}\" is neither installer nor maintenancetool", where,
                                core::printable_text(kind));
        }
        manifest.offline = json.at("offline").get<bool>();
        manifest.config = config_from_json(json.at("config"), where);
    } catch (const Json::exception& e) {
        throw Error::format("{}: {}", where, core::json_error_text(e));
    }
    return manifest;
}

std::uint64_t own_size(const fs::path& executable) {
    const core::FileDescriptor fd = open_read(executable);
    const auto trailer = read_trailer(fd.get(), executable);
    if (!trailer) {
        struct stat status {};
        ::fstat(fd.get(), &status);
        return static_cast<std::uint64_t>(status.st_size);
    }
    return trailer->file_size - kTrailerSize - trailer->payload_size;
}

std::optional<Payload> open_payload(const fs::path& executable) {
    const core::FileDescriptor fd = open_read(executable);
    const auto trailer = read_trailer(fd.get(), executable);
    if (!trailer) {
        return std::nullopt;
    }
    Payload payload;
    payload.file = executable;
    payload.size = trailer->payload_size;
    payload.offset = trailer->file_size - kTrailerSize - trailer->payload_size;
    core::Hasher hasher(core::HashKind::sha256);
    {
        constexpr std::size_t kBlock = 1 << 20;
        auto buffer = std::make_unique<char[]>(kBlock);
        for (std::uint64_t done = 0; done < payload.size;) {
            const auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(payload.size - done, kBlock));
            read_exactly(fd.get(), buffer.get(), n, payload.offset + done, executable);
            hasher.update(buffer.get(), n);
            done += n;
        }
    }
    const std::string actual = hasher.hex_digest();
    const std::string expected = hex(trailer->sha256);
    if (actual != expected) {
        throw Error::format(
            "{} is damaged: its payload's SHA-256 is {}, the installer says {}; "
            "nothing was installed (get the file again)",
            executable.string(), actual, expected);
    }
    const std::string where = executable.string() + ": " + kManifestName;
    const auto entry =
        archive::read_entry(executable, [](std::string_view path) { return path == kManifestName; },
                            kManifestLimit, {payload.offset, payload.size});
    if (!entry) {
        throw Error::format("{}: the payload has no {}", executable.string(), kManifestName);
    }
    payload.manifest = parse_manifest(entry->second, where);
    return payload;
}

Json manifest_json(const Manifest& manifest) {
    return {{"format", kFormat},
            {"kind", manifest.kind == PayloadKind::installer ? "installer" : "maintenancetool"},
            {"offline", manifest.offline},
            {"config", to_json(manifest.config)}};
}

void write_payload(const fs::path& out, const Manifest& manifest,
                   const std::optional<fs::path>& repository) {
    // Text from config.xml that is not UTF-8 is carried with U+FFFD rather than refused.
    const std::string json =
        manifest_json(manifest).dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
    std::vector<archive::ArchiveInput> inputs;
    archive::ArchiveInput first;
    first.entry_name = kManifestName;
    first.size = json.size();
    first.produce = [&json](const core::ByteSink& sink) { sink(json.data(), json.size()); };
    inputs.push_back(std::move(first));
    if (repository) {
        auto tree = archive::collect_tree(*repository, kRepositoryDir);
        inputs.insert(inputs.end(), std::make_move_iterator(tree.begin()),
                      std::make_move_iterator(tree.end()));
    }
    archive::WriteOptions options;
    options.format = archive::ArchiveFormat::tar;
    options.level = 0;
    options.mtime = core::reproducible_mtime();
    options.keep_order = true;
    archive::write_archive(out, std::move(inputs), options);
}

std::uint64_t write_executable(const fs::path& base, const fs::path& payload_tar,
                               const fs::path& out) {
    const std::uint64_t base_size = own_size(base);
    const core::FileDescriptor from = open_read(base);
    const core::FileDescriptor payload = open_read(payload_tar);
    struct stat status {};
    if (::fstat(payload.get(), &status) != 0) {
        throw file_error(payload_tar.string(), "cannot read", errno);
    }
    const auto payload_size = static_cast<std::uint64_t>(status.st_size);
    const fs::path temporary = core::temporary_sibling(out);
    core::FileDescriptor to(
        ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755));
    if (to.get() < 0) {
        throw file_error(out.string(), "cannot create", errno);
    }
    try {
        copy_range(from.get(), base, 0, base_size, to.get(), out, nullptr);
        core::Hasher hasher(core::HashKind::sha256);
        copy_range(payload.get(), payload_tar, 0, payload_size, to.get(), out, &hasher);
        std::array<unsigned char, kTrailerSize> trailer{};
        std::memcpy(trailer.data(), kTrailerMagic.data(), kTrailerMagic.size());
        for (int i = 0; i < 8; ++i) {
            trailer[16 + i] = static_cast<unsigned char>(payload_size >> (8 * i));
        }
        const auto digest = from_hex(hasher.hex_digest());
        std::memcpy(trailer.data() + 24, digest.data(), digest.size());
        std::memcpy(trailer.data() + 56, kTrailerEnd.data(), kTrailerEnd.size());
        core::write_all(to.get(), reinterpret_cast<const char*>(trailer.data()), trailer.size(),
                        out.string());
        // The umask may have narrowed the mode given to open: an installer is for everyone.
        if (::fchmod(to.get(), 0755) != 0 || ::fsync(to.get()) != 0 || to.close() != 0) {
            throw file_error(out.string(), "cannot write", errno);
        }
        fs::rename(temporary, out);
    } catch (...) {
        std::error_code ignored;
        fs::remove(temporary, ignored);
        throw;
    }
    return base_size + payload_size + kTrailerSize;
}

void extract_repository(const Payload& payload, const fs::path& dir) {
    archive::extract_archive(payload.file, dir, {}, {payload.offset, payload.size});
}

}  // namespace ferry::installer
