// Internal to src/image: the one pass over an image archive. Every regular file that may be a
// blob (blobs/sha256/<hex>, <dir>/layer.tar, <hex>.json) is hashed and stored into the blob
// directory under its digest as it streams by; the layout's own small files are kept in memory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "image/image.hpp"

struct archive;
struct archive_entry;

namespace ferry::image {

// The bound of every JSON document read from an image archive (manifests, configs, indexes).
inline constexpr std::uint64_t kMaxJsonBytes = 4u << 20;
// How much of an image archive is read at a time.
inline constexpr std::size_t kReadChunk = 1u << 20;

struct ScannedFile {
    std::string digest;  // of the content as it was in the archive
    std::uint64_t size = 0;
    std::optional<std::string> json;  // the content, when it is small and looks like JSON
};

// Blob files one call stored, removed unless dismissed: a refused archive leaves the blob
// directory as it found it.
class CreatedBlobs {
  public:
    CreatedBlobs() = default;
    ~CreatedBlobs();
    CreatedBlobs(CreatedBlobs&&) = default;
    CreatedBlobs& operator=(CreatedBlobs&&) = default;

    void add(fs::path path) { paths_.push_back(std::move(path)); }
    const std::vector<fs::path>& paths() const { return paths_; }
    void dismiss() { paths_.clear(); }

  private:
    std::vector<fs::path> paths_;
};

struct ScannedArchive {
    std::map<std::string, ScannedFile> files;   // by clean entry name
    std::map<std::string, std::string> links;   // entry name → the entry it names (clean)
    std::map<std::string, std::string> layout;  // manifest.json, index.json, oci-layout
    CreatedBlobs created;

    // The file an entry name leads to, through links; nullptr when it is not in the archive.
    const ScannedFile* find(const std::string& name) const;
};

// The compressions an image archive or a layer may have: gzip, bzip2, xz and zstd (libarchive's
// own decoders; never an outside program, which libarchive runs for some others).
void support_compressions(struct archive* reader);
// An entry's name and hardlink target as UTF-8 (what tar's pax records and docker's Go tar
// write), whatever the process locale; nullptr when there is none.
const char* entry_name(struct archive_entry* entry);
const char* entry_hardlink(struct archive_entry* entry);

// Throws ferry::Error naming the archive and the entry; blobs stored by the failed call are gone.
ScannedArchive scan_image_archive(const fs::path& archive, const BlobDir& blobs);

}  // namespace ferry::image
