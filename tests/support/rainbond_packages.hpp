// Rainbond `rainbond-app` packages made in the tests, with the field names and layouts of
// Rainbond's exports (rainbond-oam's v1alpha1 model): the <name>-<version>-ram.tar.gz with one
// multi-image component-images.tar, and the older zip with a folder per component.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/image_archives.hpp"

namespace ferry::testing {

// A three-component app as Rainbond exports it: a database with a Chinese name offering
// connection information (a generated password), a web front end depending on it with a config
// file, a published port, a probe and limits, and a cache. Images are in rainbond_images().
nlohmann::json rainbond_metadata(const std::string& group_version = "1.0",
                                 const std::string& deploy_version = "20240102030405");

// The images the metadata's share_images name (their tags are what `docker save` wrote).
std::vector<SavedImage> rainbond_images();

// The current layout: <folder>/metadata.json and <folder>/component-images.tar in a tar.gz.
// extra: more entries, placed after those (plugin-images.tar, hostile names).
void write_ram_package(const std::filesystem::path& out, const nlohmann::json& metadata,
                       const std::vector<SavedImage>& images,
                       const std::vector<TarEntry>& extra = {},
                       const std::string& folder = "shop-1.0-ram");

// The older layout: a zip with metadata.json and, per component, <folder>/<image>--<tag>.image.tar
// holding that component's image.
void write_zip_package(const std::filesystem::path& out, const nlohmann::json& metadata,
                       const std::vector<SavedImage>& images);

}  // namespace ferry::testing
