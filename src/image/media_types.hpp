// Internal to src/image: the media types of layers and manifests as archives and registries name
// them, and which of them ferry takes.
#pragma once

#include <string_view>

namespace ferry::image {

inline constexpr std::string_view kDockerLayerMediaType =
    "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerGzipLayerMediaType =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kOciLayerMediaType = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciGzipLayerMediaType =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciConfigMediaType = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciManifestMediaType =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndexMediaType = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifestListMediaType =
    "application/vnd.docker.distribution.manifest.list.v2+json";

}  // namespace ferry::image
