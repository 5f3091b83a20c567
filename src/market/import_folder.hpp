// What a market imports: files made elsewhere (ferry bundles, Rainbond packages), taken from its
// import folder <data>/import/, where they arrive by any means (scp, a USB stick, an upload
// through the API). The folder is listed with what each file holds, without importing it; an
// import never renames, changes or deletes a file there, so a failed one can be retried as it is.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "market/bundles.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/publisher.hpp"

namespace ferry::market {

// A file written to within this time is taken to be still arriving (a copy in progress).
inline constexpr std::chrono::seconds kImportSettleTime{3};

struct ImportFileInfo {
    std::string name;
    std::uint64_t size = 0;
    std::string modified;  // RFC 3339
    // "ferry-bundle", "rainbond-app", "compose-package" (ferry export --format compose: runs
    // without a market, nothing to import) or "unknown".
    std::string kind;
    std::string layout;  // Rainbond's: "ram.tar.gz" or "zip"
    // What it holds as far as known without importing: [{"key", "major", "revision"?}].
    nlohmann::json apps = nlohmann::json::array();
    bool differential = false;  // a bundle that needs its base in the market
    bool settled = true;        // false: written to moments ago, perhaps still being copied
    std::string problem;        // why it could not be read
};

// Refuses (invalid input) a name that is not a plain file name of the folder: empty, with '/'
// or a NUL, starting with '.', or longer than 255 bytes.
void check_import_name(std::string_view name);
ImportFileInfo describe_import_file(const fs::path& file);
// False for a file written to within kImportSettleTime.
bool is_settled(const fs::path& file);
// The folder's files (not the hidden ones: uploads in progress), by name.
std::vector<ImportFileInfo> list_import_folder(const DataDir& data);
nlohmann::json import_file_json(const ImportFileInfo& info);

struct ImportedFile {
    std::string kind;  // "ferry-bundle" or "rainbond-app"
    std::string layout;
    std::vector<ImportedVersion> versions;
};

struct ImportFileEvents {
    std::function<void(const std::string&)> say;
    std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

// Imports one file into the market (which must not be served by another process): a ferry
// bundle (market/bundles.hpp) or a Rainbond package, converted under scratch. Throws
// ferry::Error naming the file and the cause; what was published before the error stays (each
// app version whole), nothing else.
ImportedFile import_file(const DataDir& data, Catalog& catalog, Publisher& publisher,
                         const fs::path& file, const fs::path& scratch,
                         const ImportFileEvents& events = {});

}  // namespace ferry::market
