// A repository on disk as repogen and `repo verify` see it: its index and where each of its
// files lives. Knows IFW's layout: <Name>/<Version><archive>, <archive>.sha1 sidecars,
// <Name>/<Version>meta.7z and a united <stamp>_meta.7z.
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "formats/updates_xml.hpp"

namespace ferry::repo {

namespace fs = std::filesystem;

// Repository-relative paths of IFW's layout.
std::string data_archive_path(const formats::PackageUpdate& package, const std::string& archive);
std::string meta_archive_path(const formats::PackageUpdate& package);
inline std::string sidecar_path(const std::string& archive_path) {
    return archive_path + ".sha1";
}

// A service component's description, <Name>/<Version>service.json.
std::string service_file_path(const formats::PackageUpdate& package);
// The file of an image blob: images/sha256/<hex> for "sha256:<hex>".
std::string image_blob_path(std::string_view digest);

// Every file the index references for a component's current version (data archives, their
// sidecars when checksum is on, its meta archive when it has one, a service's description and
// its image's manifest and blobs).
std::vector<std::string> component_files(const formats::PackageUpdate& package, bool checksum);

// Every file the index references: current versions, retained earlier versions, united metadata.
std::set<std::string> referenced_files(const formats::RepositoryIndex& index);

class RepositoryDir {
  public:
    // Reads dir/Updates.xml; nullopt when the file does not exist. A malformed index throws.
    static std::optional<RepositoryDir> open(const fs::path& dir);

    const fs::path& dir() const { return dir_; }
    const formats::RepositoryIndex& index() const { return index_; }

    // Extracts the component's meta files (from its meta archive, else from the united
    // metadata) into scratch/<Name>/ and returns that directory (empty when it has none).
    fs::path extract_meta(const formats::PackageUpdate& package, const fs::path& scratch) const;

  private:
    fs::path dir_;
    formats::RepositoryIndex index_;
};

}  // namespace ferry::repo
