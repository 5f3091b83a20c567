// The input side of repogen: finds the packages in IFW packages trees, filters them, and plans
// which archives a component's data/ becomes and which meta files its metadata carries.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "formats/component.hpp"

namespace ferry::repo {

namespace fs = std::filesystem;

struct SourcePackage {
    formats::ComponentDescription description;
    fs::path dir;  // packages/<name>
    // The fixed time of its archives' entries: SOURCE_DATE_EPOCH when set, else the package's
    // own ReleaseDate, else 1980-01-01 (a defaulted ReleaseDate, today, would make the
    // archives differ every day).
    std::int64_t archive_time = 0;
};

struct PackageScan {
    std::vector<SourcePackage> packages;  // sorted by name
    std::vector<std::string> warnings;    // invalid packages skipped (--ignore-invalid-packages)
};

// Reads every package directory of the given packages trees. A duplicate name across trees is an
// error; an invalid package is an error unless ignore_invalid, then it is skipped with a warning.
PackageScan scan_packages(const std::vector<fs::path>& package_roots, bool ignore_invalid);

// -i / -e: empty include means everything.
bool is_selected(const std::string& name, const std::vector<std::string>& include,
                 const std::vector<std::string>& exclude);

// One data archive of a component, as IFW lays them out: loose files and symlinks of data/ go
// into "content.<fmt>", each top-level directory into "<dir>.<fmt>" (entries keep the directory
// name as prefix), and a file that already is an archive is copied byte for byte (`prebuilt`).
struct DataArchivePlan {
    std::string name;  // as DownloadableArchives lists it
    std::vector<archive::ArchiveInput> inputs;
    fs::path prebuilt;  // set for a copied archive; inputs is then empty
};

std::vector<DataArchivePlan> plan_data_archives(const fs::path& data_dir,
                                                archive::ArchiveFormat format,
                                                const std::string& component);

// The meta files to ship, as entries "<name>/<file>" plus the directory entry "<name>": every
// file of meta/ except package.xml (and, with ignore_translations, the translations). Files the
// description names (Script, licences, user interfaces, translations) must exist.
std::vector<archive::ArchiveInput> plan_meta_files(const fs::path& meta_dir,
                                                   const formats::ComponentDescription& component,
                                                   bool ignore_translations);

}  // namespace ferry::repo
