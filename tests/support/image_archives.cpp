#include "support/image_archives.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/sysmacros.h>

#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "archive/utf8_locale.hpp"
#include "core/hash.hpp"

namespace ferry::testing {

namespace {

using Writer = std::unique_ptr<struct archive, decltype(&archive_write_free)>;

la_ssize_t append(struct archive*, void* out, const void* data, std::size_t size) {
    static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
    return static_cast<la_ssize_t>(size);
}

void check(struct archive* a, int status) {
    if (status != ARCHIVE_OK) {
        throw std::runtime_error(std::string("libarchive: ") + archive_error_string(a));
    }
}

std::string hex(const std::string& digest) {
    return digest.substr(7);
}

}  // namespace

std::string make_tar(const std::vector<TarEntry>& entries) {
    // libarchive's pax writer needs names it can convert from the locale's charset.
    archive::Utf8Locale utf8_names;
    std::string out;
    Writer writer(archive_write_new(), &archive_write_free);
    struct archive* a = writer.get();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_in_last_block(a, 1);
    check(a, archive_write_open(a, &out, nullptr, append, nullptr));
    for (const TarEntry& spec : entries) {
        std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(
            archive_entry_new(), &archive_entry_free);
        struct archive_entry* e = entry.get();
        archive_entry_set_pathname_utf8(e, spec.name.c_str());
        archive_entry_set_mtime(e, 1700000000, 0);
        switch (spec.kind) {
            case TarEntry::Kind::file:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, static_cast<la_int64_t>(spec.data.size()));
                break;
            case TarEntry::Kind::directory:
                archive_entry_set_filetype(e, AE_IFDIR);
                archive_entry_set_perm(e, 0755);
                break;
            case TarEntry::Kind::symlink:
                archive_entry_set_filetype(e, AE_IFLNK);
                archive_entry_set_perm(e, 0777);
                archive_entry_set_symlink_utf8(e, spec.data.c_str());
                break;
            case TarEntry::Kind::hardlink:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_hardlink_utf8(e, spec.data.c_str());
                break;
            case TarEntry::Kind::character_device:
                archive_entry_set_filetype(e, AE_IFCHR);
                archive_entry_set_perm(e, 0666);
                archive_entry_set_rdev(e, makedev(1, 3));
                break;
        }
        check(a, archive_write_header(a, e));
        if (spec.kind == TarEntry::Kind::file && !spec.data.empty()) {
            archive_write_data(a, spec.data.data(), spec.data.size());
        }
    }
    check(a, archive_write_close(a));
    return out;
}

std::string gzip(const std::string& data) {
    std::string out;
    Writer writer(archive_write_new(), &archive_write_free);
    struct archive* a = writer.get();
    archive_write_set_format_raw(a);
    archive_write_add_filter_gzip(a);
    // No time in the header: the same bytes give the same compressed bytes (and digest).
    check(a, archive_write_set_filter_option(a, "gzip", "timestamp", nullptr));
    archive_write_set_bytes_in_last_block(a, 1);
    check(a, archive_write_open(a, &out, nullptr, append, nullptr));
    std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                               &archive_entry_free);
    archive_entry_set_pathname(entry.get(), "layer.tar");
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(data.size()));
    check(a, archive_write_header(a, entry.get()));
    archive_write_data(a, data.data(), data.size());
    check(a, archive_write_close(a));
    return out;
}

std::string digest_of(const std::string& data) {
    return "sha256:" + core::sha256_hex(data);
}

std::string image_config(const std::vector<std::string>& diff_ids) {
    nlohmann::json config = {{"architecture", "amd64"},
                             {"os", "linux"},
                             {"config", {{"Cmd", {"/bin/sh"}}}},
                             {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    return config.dump();
}

std::vector<TarEntry> docker_save_entries(const std::vector<SavedImage>& images) {
    std::vector<TarEntry> entries;
    std::set<std::string> written;
    nlohmann::json manifest = nlohmann::json::array();
    for (const SavedImage& image : images) {
        std::vector<std::string> diff_ids;
        nlohmann::json layers = nlohmann::json::array();
        for (const std::string& layer : image.layers) {
            diff_ids.push_back(digest_of(layer));
            // docker names the directory by a v1 id derived from the chain, not the digest.
            const std::string id = core::sha256_hex("v1 " + layer);
            layers.push_back(id + "/layer.tar");
            if (written.insert(id).second) {
                entries.push_back({id, "", TarEntry::Kind::directory});
                entries.push_back({id + "/VERSION", "1.0"});
                entries.push_back({id + "/json", "{}"});
                entries.push_back({id + "/layer.tar", layer});
            }
        }
        const std::string config = image_config(diff_ids);
        const std::string config_name = hex(digest_of(config)) + ".json";
        if (written.insert(config_name).second) {
            entries.push_back({config_name, config});
        }
        manifest.push_back({{"Config", config_name}, {"RepoTags", image.tags}, {"Layers", layers}});
    }
    entries.push_back({"manifest.json", manifest.dump()});
    entries.push_back({"repositories", "{}"});
    return entries;
}

std::vector<TarEntry> oci_layout_entries(const std::vector<OciImage>& images) {
    std::vector<TarEntry> entries = {{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
                                     {"blobs", "", TarEntry::Kind::directory},
                                     {"blobs/sha256", "", TarEntry::Kind::directory}};
    std::set<std::string> written;
    auto add_blob = [&](const std::string& bytes) {
        const std::string digest = digest_of(bytes);
        if (written.insert(digest).second) {
            entries.push_back({"blobs/sha256/" + hex(digest), bytes});
        }
        return digest;
    };
    nlohmann::json index = {{"schemaVersion", 2},
                            {"mediaType", "application/vnd.oci.image.index.v1+json"},
                            {"manifests", nlohmann::json::array()}};
    for (const OciImage& image : images) {
        std::vector<std::string> diff_ids;
        nlohmann::json layers = nlohmann::json::array();
        for (const OciLayer& layer : image.layers) {
            diff_ids.push_back(digest_of(layer.tar));
            const std::string stored = layer.gzip ? gzip(layer.tar) : layer.tar;
            layers.push_back(
                {{"mediaType", layer.gzip ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                          : "application/vnd.oci.image.layer.v1.tar"},
                 {"digest", add_blob(stored)},
                 {"size", stored.size()}});
        }
        const std::string config = image_config(diff_ids);
        nlohmann::json manifest = {{"schemaVersion", 2},
                                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                   {"config",
                                    {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                     {"digest", add_blob(config)},
                                     {"size", config.size()}}},
                                   {"layers", layers}};
        const std::string manifest_bytes = manifest.dump();
        nlohmann::json descriptor = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                     {"digest", add_blob(manifest_bytes)},
                                     {"size", manifest_bytes.size()}};
        if (!image.ref_name.empty()) {
            descriptor["annotations"] = {{"org.opencontainers.image.ref.name", image.ref_name}};
        }
        index["manifests"].push_back(descriptor);
    }
    entries.push_back({"index.json", index.dump()});
    return entries;
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

}  // namespace ferry::testing
