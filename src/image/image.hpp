// Container images: read from the archives people make (`docker save`, an OCI image layout in a
// tar), kept as content-addressed blobs (every layer and config once, named by its digest), and
// written out again as the registry's manifests and as `docker load`'s input.
//
// Everything read from an archive is checked before it is used: every blob's size and SHA-256
// against the manifest that names it, the config's diff_ids against the layers, and every
// entry of every layer (no absolute path, no '..', no link out of the root).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/files.hpp"

namespace ferry::image {

namespace fs = std::filesystem;

// Media types, as a registry serves them.
inline constexpr std::string_view kManifestMediaType =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kConfigMediaType =
    "application/vnd.docker.container.image.v1+json";

struct Blob {
    std::string digest;  // "sha256:<64 lowercase hex>", of the bytes as stored
    std::uint64_t size = 0;
    std::string media_type;
    bool operator==(const Blob&) const = default;
};

struct Image {
    std::vector<std::string> references;  // "example/web:1.0" (RepoTags, OCI ref names)
    Blob config;
    std::vector<Blob> layers;  // bottom first
    bool operator==(const Image&) const = default;
};

// Whether text is "sha256:" and 64 lowercase hex digits.
bool is_digest(std::string_view text);

// A directory of blobs named by digest: <root>/sha256/<hex>.
class BlobDir {
  public:
    explicit BlobDir(fs::path root) : root_(std::move(root)) {}
    const fs::path& root() const { return root_; }
    // The file of a digest (checked by is_digest; ferry::Error otherwise); it may not exist.
    fs::path path(std::string_view digest) const;
    bool has(const Blob& blob) const;

  private:
    fs::path root_;
};

// Reads a `docker save` archive or an OCI image layout archive (a tar, possibly compressed),
// in one pass: every blob is hashed as it is read and stored into blobs (when missing there)
// under its digest, and only then the manifest is checked against what was stored. Throws
// ferry::Error (invalid input) naming the archive and the entry or field that is wrong.
std::vector<Image> unpack_image_archive(const fs::path& archive, const BlobDir& blobs);

// The image that references names (an exact match of one reference, or, when the archive holds
// one image, that one). Throws ferry::Error naming the reference and the archive's images.
const Image& find_image(const std::vector<Image>& images, std::string_view reference,
                        std::string_view archive);

// The registry manifest of an image (image manifest v2, schema 2): canonical JSON bytes, so
// that one image always has one manifest digest.
std::string registry_manifest(const Image& image);
// Reads such a manifest back (what a repository or a registry stores); references stay empty.
Image parse_registry_manifest(std::string_view text, std::string_view source);

// Writes a `docker save` archive (docker load's input) holding images, each blob once and as
// stored (docker load decompresses gzip layers itself), each image tagged with its tag, to
// output_fd or sink, streamed: nothing seeks, so a pipe into `docker load` will do. Blobs come
// from blobs; a missing one is an error naming it, raised before anything is written.
struct TaggedImage {
    Image image;
    std::string tag;  // "ferry/app/web:1.0.0"
};
void write_docker_archive(const std::vector<TaggedImage>& images, const BlobDir& blobs,
                          int output_fd);
void write_docker_archive(const std::vector<TaggedImage>& images, const BlobDir& blobs,
                          const core::ByteSink& sink);
// The exact size of that archive, known before it is written (so that it can be streamed into
// another archive as one entry). Throws for a blob of 8 GiB or more.
std::uint64_t docker_archive_size(const std::vector<TaggedImage>& images, const BlobDir& blobs);

}  // namespace ferry::image
