// repogen: turns IFW packages trees into an IFW-compatible repository, reproducibly, in
// parallel, reusing unchanged archives, and without ever leaving a repository half-written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "formats/updates_xml.hpp"

namespace ferry::repo {

namespace fs = std::filesystem;

enum class MetadataMode { both, united, component };

struct GenerateProgress {
    std::size_t components_done = 0;
    std::size_t components_total = 0;
    std::uint64_t bytes_done = 0;   // input bytes compressed or copied so far
    std::uint64_t bytes_total = 0;  // input bytes to compress or copy
};

struct GenerateOptions {
    std::vector<fs::path> packages;       // -p: packages trees
    std::vector<fs::path> repositories;   // --repository: repositories to take components from
    std::vector<std::string> include;     // -i
    std::vector<std::string> exclude;     // -e
    bool update = false;                  // --update
    bool update_new_components = false;   // --update-new-components
    bool remove_existing = false;         // -r: replace an existing repository
    std::vector<std::string> sha_update;  // -s: components that get a ContentSha1
    MetadataMode metadata = MetadataMode::both;
    archive::ArchiveFormat format = archive::ArchiveFormat::sevenzip;
    int level = 5;
    bool ignore_translations = false;
    bool ignore_invalid_packages = false;
    bool ignore_invalid_repositories = false;
    unsigned jobs = 0;  // 0: one per core
    unsigned keep = 1;  // earlier versions whose files --update keeps
    std::function<void(const GenerateProgress&)> on_progress;
};

struct ComponentReport {
    enum class Action { built, reused, unchanged, copied };
    std::string name;
    std::string version;
    Action action = Action::built;
    std::vector<formats::ArchiveRecord> archives;
    std::vector<bool> stored;  // per archive: written without compression
};

struct GenerateReport {
    fs::path repository;
    std::vector<ComponentReport> components;
    std::vector<std::string> warnings;
    std::vector<std::string> removed_files;  // repository-relative, by --update's clean-up
    // Repository-relative files that -r removed with the directory it replaced although the old
    // Updates.xml did not reference them (a README, a stray archive).
    std::vector<std::string> removed_other_files;
    std::string metadata_name;
    std::uint64_t bytes_written = 0;
};

std::string_view to_string(ComponentReport::Action action);

GenerateReport generate_repository(const fs::path& repository, const GenerateOptions& options);

}  // namespace ferry::repo
