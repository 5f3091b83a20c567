// An installer is one executable file: ferry's own bytes (plain, or a packed ferry:
// packed_format.hpp), then a payload (an uncompressed tar holding ferry-installer.json and, for
// an offline installer, the repository it installs from), then a 64-byte trailer: a magic, the
// payload's size and its SHA-256. The maintenance tool left in a target is made the same way,
// its payload the manifest alone.
//
// A file without the trailer is a plain ferry. A file with one is checked whole before it is
// used: a payload that does not match its SHA-256 is damaged, and nothing is installed.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "installer/config.hpp"

namespace ferry::installer {

enum class PayloadKind { installer, maintenance_tool };

struct Manifest {
    PayloadKind kind = PayloadKind::installer;
    InstallerConfig config;
    bool offline = false;  // the payload carries repository/
    bool operator==(const Manifest&) const = default;
};

// ferry-installer.json: written by manifest_json, read (and checked) by parse_manifest; where
// names the file in errors.
nlohmann::json manifest_json(const Manifest& manifest);
Manifest parse_manifest(std::string_view text, std::string_view where);

struct Payload {
    fs::path file;             // the executable carrying it
    std::uint64_t offset = 0;  // where the payload starts: the size of ferry's own bytes
    std::uint64_t size = 0;
    Manifest manifest;
};

inline constexpr std::uint64_t kTrailerSize = 64;
// The trailer: this magic (16 bytes), the payload's size (8 bytes, little-endian), its SHA-256
// (32 bytes) and kTrailerEnd, so that neither end can be mistaken for data.
inline constexpr std::array<char, 16> kTrailerMagic = {'F', 'E', 'R', 'R', 'Y', '-', 'P', 'A',
                                                       'Y', 'L', 'O', 'A', 'D', '-', 'v', '1'};
inline constexpr std::array<char, 8> kTrailerEnd = {'F', 'E', 'R', 'R', 'Y', 'E', 'N', 'D'};
inline constexpr const char* kManifestName = "ferry-installer.json";
inline constexpr const char* kRepositoryDir = "repository/";

// The payload of an executable, checked (trailer, SHA-256, manifest); nullopt for a plain ferry.
// A damaged one throws an error naming the file and the cause.
std::optional<Payload> open_payload(const fs::path& executable);

// The number of bytes of the executable that are ferry itself (its size when it carries no
// payload), from the trailer alone.
std::uint64_t own_size(const fs::path& executable);

// Writes the payload tar: the manifest first, then the repository directory's tree below
// repository/ when one is given.
void write_payload(const fs::path& out, const Manifest& manifest,
                   const std::optional<fs::path>& repository);

// Writes ferry's own bytes of base, then payload_tar and the trailer, to out (atomically,
// executable). Returns the size of the file written.
std::uint64_t write_executable(const fs::path& base, const fs::path& payload_tar,
                               const fs::path& out);

// Extracts the payload's repository/ into dir (which must exist and be empty).
void extract_repository(const Payload& payload, const fs::path& dir);

}  // namespace ferry::installer
