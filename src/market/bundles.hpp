// Markets and offline bundles (bundle/ferry_bundle.hpp): app versions of a market written into a
// bundle, from its data directory or through its API; a bundle imported into a data directory;
// and a market's inventory, which tells an exporter what a differential bundle may leave out.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bundle/ferry_bundle.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/publisher.hpp"
#include "net/api_client.hpp"

namespace ferry::market {

namespace fs = std::filesystem;

inline constexpr std::string_view kBundleFormat = "bundle";

// The latest revision of each of wanted ("KEY" for the newest major, or "KEY@MAJOR") in the
// catalog, read from the blob store. Refuses an unknown app or major (not_found) and an app
// whose export policy does not allow bundles (conflict), naming it.
std::vector<bundle::BundleSource> bundle_sources(const DataDir& data, Catalog& catalog,
                                                 const std::vector<std::string>& wanted);

// The same through a market's API: each revision's index and the files not in have are
// downloaded into scratch (checked against the revision) first.
std::vector<bundle::BundleSource> download_bundle_sources(net::ApiClient& api,
                                                          const std::string& token,
                                                          const std::vector<std::string>& wanted,
                                                          const std::set<std::string>& have,
                                                          const fs::path& scratch,
                                                          const net::DownloadOptions& options);

// The latest revision of wanted ("KEY" or "KEY@MAJOR") downloaded through a market's API into
// dir (created; it must not exist) as a repository directory: its Updates.xml and every file
// it names, at their paths. The files are downloaded into scratch first (as for
// download_bundle_sources, whose checks and refusals apply). Returns the key and major.
std::pair<std::string, std::string> download_app_repository(
    net::ApiClient& api, const std::string& token, const std::string& wanted, const fs::path& dir,
    const fs::path& scratch, const net::DownloadOptions& options);

// A repository directory (as `ferry repogen` or a market wrote it) as an app version: the key
// and major from its FerryRevision stamp, else from wanted ("KEY@MAJOR"), at the stamp's
// revision (else 1).
bundle::BundleSource repository_bundle_source(const fs::path& dir, const std::string& wanted);

// What importing one app version of a bundle came to.
struct ImportedVersion {
    App app;
    std::string major;
    int revision = 0;
    bool unchanged = false;  // the market had this content already: nothing changed
    std::vector<std::string> components;
};

// Imports the bundle at file into the market: checks first that the blobs a differential bundle
// leaves out are in the store, that no revision would be replaced or gone back to, and that
// the disk has room; streams each blob the store lacks through a BlobWriter (size and SHA-256
// checked); then publishes each app version as the bundle's revision number. Nothing is
// published before the whole file has been read and checked; on any error, temporary files are
// gone and the bundle file is untouched. progress(done, total) counts the bytes stored.
std::vector<ImportedVersion> import_bundle(
    const DataDir& data, Catalog& catalog, Publisher& publisher, const fs::path& file,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

// What a market holds: {"format": "ferry-inventory", "format_version": 1, "apps": [{"key",
// "majors": [{"major", "revision"}]}], "blobs": [SHA-256, ...]}.
nlohmann::json inventory_json(const DataDir& data, Catalog& catalog);
// The blobs of an inventory (as a file holds it); errors name source.
std::set<std::string> inventory_blobs(std::string_view text, std::string_view source);

}  // namespace ferry::market
