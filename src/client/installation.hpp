// A target directory as ferry keeps it: IFW's components.xml at the top (so tools that read IFW
// installations keep working) and ferry's own state in <root>/.ferry/ — the settings, one file
// record per component, the journal of the transaction under way, its staging area, the
// previous version of updated components (for rollback), caches and downloads, and the lock.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/file_record.hpp"
#include "core/file_lock.hpp"
#include "core/relative_path.hpp"
#include "formats/components_xml.hpp"

namespace ferry::client {

namespace fs = std::filesystem;

// The names at the top of a target that are the installation's own: ferry's state, IFW's
// components.xml and the Compose project ferry writes for service components
// (client/services.hpp). No component may install them or anything below them, so that no
// archive, record or journal can rewrite the state that decides what ferry deletes or runs.
inline constexpr std::string_view kStateDirName = ".ferry";
inline constexpr std::string_view kComponentsXmlName = "components.xml";
inline constexpr std::string_view kComposeFileName = "docker-compose.yaml";
inline constexpr std::string_view kEnvFileName = ".env";
inline constexpr std::string_view kServiceConfigDirName = "service-config";
inline constexpr std::string_view kReservedNames[] = {
    kStateDirName, kComponentsXmlName, kComposeFileName, kEnvFileName, kServiceConfigDirName};

bool is_reserved(const core::RelativePath& path);

// A path a component may own, from outside input (an archive entry, a record, the journal):
// clean, relative, without '..' and outside the reserved names. Otherwise an error quoting it.
core::RelativePath installable_path(std::string_view text);

// A component name, which becomes a file name in the state directory: throws unless it is one.
void check_component_name(std::string_view name);

// Where everything lives below a target directory.
struct TargetPaths {
    fs::path root;

    fs::path components_xml() const { return root / kComponentsXmlName; }
    fs::path state() const { return root / kStateDirName; }
    fs::path lock() const { return state() / "lock"; }
    fs::path journal() const { return state() / "journal.json"; }
    fs::path records() const { return state() / "files"; }
    fs::path record(std::string_view component) const;
    fs::path staging() const { return state() / "staging"; }
    fs::path rollback() const { return state() / "rollback"; }
    fs::path rollback_of(std::string_view component) const { return rollback() / component; }
    fs::path cache() const { return state() / "cache"; }
    fs::path downloads() const { return state() / "downloads"; }
    // Service images' blobs, until Docker has loaded them (client/services.hpp).
    fs::path images() const { return state() / "images"; }
};

// Holds the target's lock (flock on <root>/.ferry/lock) for its lifetime, so that two ferry
// processes never work on one target at once. A second process gets an error that names the
// target and the pid holding it.
class TargetLock {
  public:
    explicit TargetLock(const TargetPaths& paths);

  private:
    core::FileLock lock_;
};

// The installation state read from a target.
class Installation {
  public:
    // Opens root (created when create is true and it does not exist). The state directory is
    // made on the same file system as root, which the atomic renames rely on.
    static Installation open(const fs::path& root, bool create);

    const TargetPaths& paths() const { return paths_; }
    const fs::path& root() const { return paths_.root; }

    // components.xml; empty (no application name, no components) when there is none yet.
    formats::InstalledComponents components() const;
    // The file record of an installed component; a component installed by another tool has
    // none (nullopt).
    std::optional<FileRecord> record(std::string_view component) const;

    // The previous version kept for rollback: its components.xml entry, when there is one.
    std::optional<formats::InstalledComponent> rollback_entry(std::string_view component) const;
    // Names of components that have a previous version kept, sorted.
    std::vector<std::string> rollback_names() const;

  private:
    TargetPaths paths_;
};

// Where a kept version's files and description sit in its rollback directory.
inline fs::path kept_files(const fs::path& kept) {
    return kept / "files";
}
inline fs::path kept_record(const fs::path& kept) {
    return kept / "record.json";
}
inline fs::path kept_entry(const fs::path& kept) {
    return kept / "component.xml";
}

}  // namespace ferry::client
