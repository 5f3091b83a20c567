// ferry's offline bundle: app versions of a market in one file, carried to a market that cannot
// reach it. A bundle is a tar (POSIX pax) written and read as a stream, nothing seeks:
//
//   ferry-bundle.json       the manifest, always the first entry (BundleManifest below)
//   blobs/sha256/<hex>      every file once, named by its SHA-256, in the manifest's order
//
// The files are those of each app version's repository as its market serves it (Updates.xml,
// archives, sidecars, metadata, image manifests, configs and layers); the manifest says which
// repository path is which blob, so a file or a layer that several app versions share is
// carried once. A differential bundle leaves out the blobs its target already has (listed
// under "omitted") and can only be imported where they are.
//
// Reading checks everything against the manifest as the bytes go by: the entries' names, order,
// types and sizes, and every blob's SHA-256. See docs/BUNDLES.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "market/catalog.hpp"

namespace ferry::bundle {

namespace fs = std::filesystem;

inline constexpr int kBundleFormatVersion = 1;
inline constexpr std::string_view kBundleManifestName = "ferry-bundle.json";

struct BundleBlob {
    std::string sha256;
    std::uint64_t size = 0;
    bool operator==(const BundleBlob&) const = default;
};

// One app version (a revision of a major) in a bundle.
struct BundleApp {
    // key, kind, name, description, publisher, icon, official mark, export formats; the
    // source and dates are the importing market's own.
    market::App app;
    std::string major;
    int revision = 0;
    std::string notes;
    std::vector<market::RevisionComponent> components;
    BundleBlob updates_xml;                     // the index, as the market served it
    std::vector<market::RepositoryFile> files;  // every file the index references
};

struct BundleManifest {
    int format_version = kBundleFormatVersion;
    std::string created_at;     // RFC 3339
    std::string source_market;  // where it was exported from (a URL or a data directory)
    std::vector<BundleApp> apps;
    std::vector<BundleBlob> blobs;    // carried, in the order their entries follow
    std::vector<BundleBlob> omitted;  // left out: the target has them (a differential bundle)
    bool differential() const { return !omitted.empty(); }
};

nlohmann::json manifest_json(const BundleManifest& manifest);
// Reads and checks a manifest: the format and its version, every key, major, path and digest,
// every file of every app carried or omitted with one size, no blob twice. Errors name source.
BundleManifest parse_manifest(std::string_view text, std::string_view source);

// An app version to write: its record (write_bundle fills in the index's digest), its index,
// and where each of its files is.
struct BundleSource {
    BundleApp app;
    std::string updates_xml;
    std::function<fs::path(const market::RepositoryFile&)> file;
    // The files' SHA-256s were computed from these very files for this export (a repository
    // directory read just now): write_bundle checks their sizes and does not hash them again.
    bool digests_fresh = false;
};

struct WriteBundleOptions {
    std::string created_at;  // empty: now (SOURCE_DATE_EPOCH when set)
    std::string source_market;
    std::set<std::string> have;  // SHA-256s the target has: left out
    std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct WriteBundleResult {
    BundleManifest manifest;
    std::uint64_t bytes = 0;  // the bundle's size
};

// Writes the bundle to out atomically (a temporary sibling renamed into place). Every file's
// size and SHA-256 are checked as it is copied: a file that is not what its revision says fails
// the export, naming it, and leaves nothing at out.
WriteBundleResult write_bundle(const fs::path& out, std::vector<BundleSource> sources,
                               const WriteBundleOptions& options = {});

// Where a blob's bytes go while a bundle is read; finish() once all of them have arrived (and
// been checked).
class BlobSink {
  public:
    virtual ~BlobSink() = default;
    virtual void write(const char* data, std::size_t size) = 0;
    virtual void finish() = 0;
    // True when finish() itself refuses bytes whose size or SHA-256 is not the blob's (a
    // market::BlobWriter does); the reader then leaves the hashing to it.
    virtual bool checks_digest() const { return false; }
};

class BundleVisitor {
  public:
    virtual ~BundleVisitor() = default;
    // The checked manifest, before any blob.
    virtual void manifest(const BundleManifest& manifest) = 0;
    // Where the blob's bytes go; null skips them (the reader still reads past them).
    virtual std::unique_ptr<BlobSink> blob(const BundleBlob& blob) = 0;
};

// Reads the bundle at file in one pass. Throws ferry::Error (invalid input) naming the file and
// the entry for anything the manifest does not say: a missing, extra, reordered or renamed
// entry, a link or a directory, a size or a SHA-256 other than the manifest's, a truncated file.
void read_bundle(const fs::path& file, BundleVisitor& visitor);

// Reads only the manifest (for listings); nullopt when file is not a ferry bundle at all.
std::optional<BundleManifest> peek_manifest(const fs::path& file);

// "com.acme.app-2-r5.bundle.tar" for one app version; several go into one bundle named by the
// caller.
std::string bundle_file_name(const BundleApp& app);

}  // namespace ferry::bundle
