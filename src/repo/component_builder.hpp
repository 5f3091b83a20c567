// Builds one component's files for repogen: plans its archives, decides which can be reused
// from an earlier repository (same input digest), writes the rest into a staging directory and
// fills in the component's PackageUpdate.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "formats/service.hpp"
#include "formats/updates_xml.hpp"
#include "repo/generator.hpp"
#include "repo/package_source.hpp"
#include "repo/repository_dir.hpp"

namespace ferry::repo {

struct BuildSettings {
    fs::path target;   // the repository being generated
    fs::path staging;  // where new files go, laid out like the repository
    // The staging files are moved into target (--update) rather than replacing it whole: files
    // already in target with the right content then need no copy in staging.
    bool in_place = false;
    archive::WriteOptions write;
    MetadataMode metadata = MetadataMode::both;
    bool ignore_translations = false;
    // Called with input bytes consumed (deltas) while archives are written; thread-safe.
    std::function<void(std::uint64_t)> on_bytes;
};

struct ArchiveJob {
    std::string name;                           // "content.7z"
    std::vector<archive::ArchiveInput> inputs;  // to compress
    fs::path copy_from;                         // prebuilt archive, or an archive to reuse
    std::string input_sha256;
    std::uint64_t input_bytes = 0;  // bytes to read when building (progress)
    std::uint64_t uncompressed_size = 0;
    bool reused = false;
    bool stored = false;
    formats::ArchiveRecord record;  // filled by run()
};

struct ComponentJob {
    formats::PackageUpdate update;  // the component as the new index will list it
    ComponentReport::Action action = ComponentReport::Action::built;
    std::vector<ArchiveJob> archives;
    std::vector<archive::ArchiveInput> meta_inputs;  // "<Name>/..." entries
    bool content_sha1 = false;                       // -s: compute ContentSha1
    // The fixed time of the entries of its archives; nullopt: BuildSettings::write's.
    std::optional<std::int64_t> mtime;
    std::vector<std::string> warnings;  // for the report: e.g. a damaged archive not reused
    // Set when the data changed but the version did not: clients comparing versions would not
    // be offered the change.
    std::string unannounced_change;
    // A service component's description (its files are update.service's).
    std::optional<formats::ServiceDescription> service;
    // Where its service files are taken from when they were not written into staging (a
    // component copied from another repository or kept in the one being updated).
    fs::path service_source;
};

// Plans a component from a packages tree. previous is the same component in the repository
// whose archives may be reused (nullptr when none).
ComponentJob plan_from_package(const SourcePackage& package, const BuildSettings& settings,
                               const RepositoryDir* previous_repository,
                               const formats::PackageUpdate* previous);

// Plans a component taken whole from another repository (--repository) or kept from the
// repository being updated (its archives are then reused in place).
ComponentJob plan_from_repository(const RepositoryDir& source,
                                  const formats::PackageUpdate& package,
                                  const fs::path& meta_scratch, ComponentReport::Action action);

// Writes (or links) one archive into the staging directory and records its size and hashes.
void build_archive(const ComponentJob& component, ArchiveJob& job, const BuildSettings& settings);

// After all archives: sidecars, the meta archive, sizes, ContentSha1 and ferry's records.
void finish_component(ComponentJob& component, const BuildSettings& settings);

// How metadata archives (per component and united) are written; with the component's fixed
// time when it has one.
archive::WriteOptions metadata_write_options(const BuildSettings& settings,
                                             std::optional<std::int64_t> mtime = std::nullopt);

// Hard link when possible (same filesystem), else a copy. Replaces an existing `to`.
void link_or_copy(const fs::path& from, const fs::path& to);

}  // namespace ferry::repo
