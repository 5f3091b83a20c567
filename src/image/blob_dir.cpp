// Digests and the directory of blobs named by them.
#include <sys/stat.h>

#include <cerrno>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "image/image.hpp"

namespace ferry::image {

bool is_digest(std::string_view text) {
    constexpr std::string_view prefix = "sha256:";
    return text.starts_with(prefix) && core::is_hex_digest(text.substr(prefix.size()), 64);
}

fs::path BlobDir::path(std::string_view digest) const {
    if (!is_digest(digest)) {
        throw Error::format("\"{}\" is not a digest (sha256: and 64 lowercase hex digits)", digest);
    }
    return root_ / "sha256" / std::string(digest.substr(7));
}

bool BlobDir::has(const Blob& blob) const {
    struct stat st {};
    return ::stat(path(blob.digest).c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           static_cast<std::uint64_t>(st.st_size) == blob.size;
}

}  // namespace ferry::image
