// Rainbond's `rainbond-app` packages read into ferry (docs/SERVICES.md, "Rainbond packages"):
// the current layout, <name>-<version>-ram.tar.gz holding <dir>/metadata.json and
// component-images.tar (one multi-image `docker save`, and plugin-images.tar for plugins), and the
// older zip with metadata.json and a folder per component holding <image>--<tag>.image.tar.
// The app becomes service components of one app version, written as a ferry repository (through
// repogen, so that it is the repository `ferry repogen` would write); each plugin becomes a plugin
// item of its own.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bundle/rainbond_metadata.hpp"
#include "formats/service.hpp"
#include "image/image.hpp"

namespace ferry::bundle {

namespace fs = std::filesystem;

// One component of an imported item, before its image is known: what becomes its package.xml
// and its service description (whose image is still Rainbond's share_image).
struct ImportedComponent {
    std::string name;     // the ferry component name
    std::string version;  // a valid ferry Version
    std::string display_name;
    std::string release_date;  // YYYY-MM-DD
    std::vector<std::string> dependencies;
    formats::ServiceDescription service;
    std::string share_image;  // the reference metadata.json names
    std::string place;        // "metadata.json: apps[1]", for errors
};

// An app or a plugin as it goes into a market.
struct ImportedItem {
    bool plugin = false;
    std::string key;    // the market's app key
    std::string major;  // the market's major version
    std::string name;
    std::string description;
    std::vector<ImportedComponent> components;
};

// The mapping alone (no files): metadata.json's app, then one item per plugin. Every service
// description is checked as `meta/service.json` would be, and the app's services together
// (formats::check_app_services). source names metadata.json in errors.
std::vector<ImportedItem> map_rainbond_metadata(const RainbondMetadata& metadata,
                                                std::string_view source);

// The names the mapping makes, each valid for its use and stable across versions of an app.
std::string rainbond_component_name(std::string_view group_key, std::string_view service_key);
std::string rainbond_service_name(std::string_view service_cname, std::string_view service_key);
std::string rainbond_version(std::string_view version, std::string_view deploy_version);
std::string rainbond_major(std::string_view group_version);

// The image a share_image names among the images of the package: the reference itself; else the
// same without its registry host (and with ":latest" when it has no tag); else the same name:tag
// after the registry host and the first path element (Rainbond's older `docker save` names).
// nullptr when none matches; an error when the last rules find more than one.
const image::Image* match_share_image(const std::vector<image::Image>& images,
                                      std::string_view share_image, std::string* matched);

struct ImportEvents {
    std::function<void(const std::string&)> say;
};

struct ConvertedItem {
    ImportedItem item;
    fs::path repository;  // a ferry repository directory (Updates.xml, service files, images/)
};

struct ConvertedPackage {
    std::string layout;  // "ram.tar.gz" or "zip"
    RainbondMetadata metadata;
    std::vector<ConvertedItem> items;  // the app first, then its plugins
};

// Reads a Rainbond package and writes one repository per item under work (an empty directory,
// scratch space of about three times the images' size). nullopt when file is an archive but not a
// Rainbond package; ferry::Error for a file that is no archive, hostile entries, a bad
// metadata.json, an image that the package lacks or whose blobs do not match their digests.
std::optional<ConvertedPackage> convert_rainbond_package(const fs::path& file, const fs::path& work,
                                                         const ImportEvents& events = {});

}  // namespace ferry::bundle
