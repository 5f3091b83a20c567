// Image archives made by hand for the tests: tars in memory (any name, hostile ones included),
// gzip, and the two layouts ferry reads (`docker save`, an OCI image layout), with every digest
// right unless a test changes what it is given.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ferry::testing {

struct TarEntry {
    enum class Kind { file, directory, symlink, hardlink, character_device };
    std::string name;
    std::string data{};  // file content, or link target
    Kind kind = Kind::file;
};

// A tar (pax) of the entries, in order, as bytes.
std::string make_tar(const std::vector<TarEntry>& entries);
// gzip of the bytes.
std::string gzip(const std::string& data);
// "sha256:<hex>" of the bytes.
std::string digest_of(const std::string& data);

// A config whose rootfs.diff_ids are the digests given.
std::string image_config(const std::vector<std::string>& diff_ids);

struct SavedImage {
    std::vector<std::string> tags;
    std::vector<std::string> layers;  // layer tars (bytes), bottom first
};

// The entries of `docker save` of the images: <id>/layer.tar (id from the layer's digest, not
// equal to it), <config hex>.json, manifest.json, repositories. A layer shared by images is
// written once.
std::vector<TarEntry> docker_save_entries(const std::vector<SavedImage>& images);

struct OciLayer {
    std::string tar;    // the uncompressed tar
    bool gzip = false;  // stored gzip-compressed (media type ...tar+gzip)
};
struct OciImage {
    std::string ref_name;  // org.opencontainers.image.ref.name; "" for none
    std::vector<OciLayer> layers;
};
// The entries of an OCI image layout holding the images: oci-layout, index.json, blobs/sha256/.
std::vector<TarEntry> oci_layout_entries(const std::vector<OciImage>& images);

// Writes the bytes to path.
void write_bytes(const std::filesystem::path& path, const std::string& bytes);

}  // namespace ferry::testing
