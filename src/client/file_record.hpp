// ferry's record of what a component put into the target: every directory, file and symlink
// with its size, mode and SHA-256, so that removing deletes exactly what was installed and
// verifying finds what was changed or lost since.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "archive/archive.hpp"

namespace ferry::client {

struct InstalledFile {
    enum class Type { file, directory, symlink };
    std::string path;  // relative to the target, '/'-separated
    Type type = Type::file;
    std::uint64_t size = 0;   // files
    bool executable = false;  // files
    std::string sha256;       // files
    std::string link;         // symlinks: the target as written
    bool operator==(const InstalledFile&) const = default;
};

struct FileRecord {
    std::string component;
    std::string version;
    std::vector<InstalledFile> files;  // sorted by path, one entry per path
    bool operator==(const FileRecord&) const = default;

    const InstalledFile* find(std::string_view path) const;
};

// The record of what the archives of one component extracted, in extraction order: a later
// entry for the same path replaces an earlier one, and a hardlink is recorded as the file it
// shares its content with.
FileRecord record_extraction(std::string component, std::string version,
                             const std::vector<archive::ExtractedEntry>& entries);

// Adds (or replaces) the entries of other; keeps the result sorted.
void merge_record(FileRecord& record, const FileRecord& other);

std::string write_file_record(const FileRecord& record);
FileRecord parse_file_record(std::string_view json_text, std::string_view source_name);

struct FileProblem {
    enum class Kind { missing, modified, wrong_type };
    std::string component;
    std::string path;
    Kind kind = Kind::missing;
    std::string detail;  // what differs: "size 10, recorded 12", "content changed", ...
    bool operator==(const FileProblem&) const = default;
};

// Compares the record with what is under root: missing entries, files whose type, size, mode or
// content differ, symlinks pointing elsewhere. Never follows symlinks.
std::vector<FileProblem> verify_record(const std::filesystem::path& root, const FileRecord& record);

std::string_view to_string(FileProblem::Kind kind);
std::string_view to_string(InstalledFile::Type type);

}  // namespace ferry::client
