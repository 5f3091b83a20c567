// Internal to src/image: what a layer is made of, read from its stored blob in one pass: its
// compression, the digest of its uncompressed tar (the config's diff_id), and every entry checked.
#pragma once

#include <string>
#include <string_view>

#include "image/image.hpp"

namespace ferry::image {

struct LayerFacts {
    std::string compression;  // "" (a plain tar), "gzip", or libarchive's name of another filter
    std::string diff_id;      // "sha256:<hex>" of the uncompressed tar
};

// Throws ferry::Error starting with what ("web.tar: layer sha256:…") when the blob is not a tar
// (plain or compressed), or an entry's name is absolute or has a '..' component, or a hardlink
// target does; the data of entries is read (to hash it), never written anywhere.
// digest is the blob's own (a plain tar's diff_id).
LayerFacts check_layer(const fs::path& blob, std::string_view digest, std::string_view what);

}  // namespace ferry::image
