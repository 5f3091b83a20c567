// unpack_image_archive: the pass over the archive (archive_scan.cpp), then the layout read from
// what it kept (docker save's manifest.json, or an OCI layout's index.json), then every layer
// checked (layer_check.cpp) against its config's diff_ids.
#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/json_error.hpp"
#include "image/archive_scan.hpp"
#include "image/image.hpp"
#include "image/layer_check.hpp"
#include "image/media_types.hpp"

namespace ferry::image {

namespace {

using nlohmann::json;

// An image as the layout describes it, before its layers are read.
struct PendingImage {
    Image image;
    std::vector<std::string> diff_ids;     // from the config
    std::vector<std::string> layer_names;  // how the layout names each layer, for messages
    std::vector<std::string> declared;     // OCI: "gzip" or "" per layer, from its media type
    bool oci = false;
};

class LayoutReader {
  public:
    LayoutReader(const fs::path& archive, const ScannedArchive& scan, const BlobDir& blobs)
        : archive_(archive.string()), scan_(scan), blobs_(blobs) {}

    [[noreturn]] void fail(std::string_view where, std::string_view cause) const {
        throw Error::format("{}: {}: {}", archive_, where, cause);
    }

    json parse(const std::string& text, std::string_view where) const {
        try {
            return json::parse(text);
        } catch (const json::exception& e) {
            fail(where, fmt::format("not JSON: {}", core::json_error_text(e)));
        }
    }

    json parse_blob(const ScannedFile& file, std::string_view where) const {
        if (file.json) {
            return parse(*file.json, where);
        }
        if (file.size > kMaxJsonBytes) {
            fail(where, fmt::format("larger than {} MiB", kMaxJsonBytes >> 20));
        }
        return parse(core::read_file(blobs_.path(file.digest), kMaxJsonBytes), where);
    }

    // rootfs.diff_ids of a config.
    std::vector<std::string> diff_ids(const json& config, std::string_view where) const {
        if (!config.is_object()) {
            fail(where, "not a JSON object");
        }
        const auto rootfs = config.find("rootfs");
        if (rootfs == config.end() || !rootfs->is_object()) {
            fail(where, "rootfs is missing");
        }
        const auto ids = rootfs->find("diff_ids");
        if (ids == rootfs->end() || !ids->is_array()) {
            fail(where, "rootfs.diff_ids is missing or not a list");
        }
        std::vector<std::string> result;
        for (std::size_t i = 0; i < ids->size(); ++i) {
            const json& id = (*ids)[i];
            if (!id.is_string() || !is_digest(id.get<std::string>())) {
                fail(where, fmt::format("rootfs.diff_ids[{}] is not a sha256 digest", i));
            }
            result.push_back(id.get<std::string>());
        }
        return result;
    }

    std::vector<PendingImage> docker_save() const {
        const json manifest = parse(scan_.layout.at("manifest.json"), "manifest.json");
        if (!manifest.is_array() || manifest.empty()) {
            fail("manifest.json", "not a list of images");
        }
        std::vector<PendingImage> images;
        for (std::size_t i = 0; i < manifest.size(); ++i) {
            const json& item = manifest[i];
            const std::string at = manifest.size() == 1 ? std::string() : fmt::format("[{}].", i);
            if (!item.is_object()) {
                fail("manifest.json", fmt::format("[{}] is not an object", i));
            }
            PendingImage pending;
            const auto config = item.find("Config");
            if (config == item.end() || !config->is_string()) {
                fail("manifest.json", fmt::format("{}Config is missing or not a string", at));
            }
            const ScannedFile* config_file = scan_.find(config->get<std::string>());
            if (config_file == nullptr) {
                fail("manifest.json", fmt::format("{}Config \"{}\" is not in the archive", at,
                                                  config->get<std::string>()));
            }
            pending.image.config = {config_file->digest, config_file->size,
                                    std::string(kConfigMediaType)};
            pending.diff_ids = diff_ids(parse_blob(*config_file, "config " + config_file->digest),
                                        "config " + config_file->digest);
            if (const auto tags = item.find("RepoTags"); tags != item.end() && !tags->is_null()) {
                if (!tags->is_array()) {
                    fail("manifest.json", fmt::format("{}RepoTags is not a list", at));
                }
                for (std::size_t t = 0; t < tags->size(); ++t) {
                    if (!(*tags)[t].is_string()) {
                        fail("manifest.json", fmt::format("{}RepoTags[{}] is not a string", at, t));
                    }
                    pending.image.references.push_back((*tags)[t].get<std::string>());
                }
            }
            const auto layers = item.find("Layers");
            if (layers == item.end() || !layers->is_array()) {
                fail("manifest.json", fmt::format("{}Layers is missing or not a list", at));
            }
            for (std::size_t l = 0; l < layers->size(); ++l) {
                const json& name = (*layers)[l];
                if (!name.is_string()) {
                    fail("manifest.json", fmt::format("{}Layers[{}] is not a string", at, l));
                }
                const ScannedFile* layer = scan_.find(name.get<std::string>());
                if (layer == nullptr) {
                    fail("manifest.json", fmt::format("{}Layers[{}] \"{}\" is not in the archive",
                                                      at, l, name.get<std::string>()));
                }
                pending.image.layers.push_back({layer->digest, layer->size, {}});
                pending.layer_names.push_back(name.get<std::string>());
                pending.declared.emplace_back();
            }
            images.push_back(std::move(pending));
        }
        return images;
    }

    std::vector<PendingImage> oci_layout() const {
        const auto marker = scan_.layout.find("oci-layout");
        if (marker == scan_.layout.end()) {
            fail("index.json", "the archive has no oci-layout file, so it is no OCI image layout");
        }
        const json layout = parse(marker->second, "oci-layout");
        const auto version = layout.find("imageLayoutVersion");
        if (!layout.is_object() || version == layout.end() || !version->is_string() ||
            !version->get<std::string>().starts_with("1.")) {
            fail("oci-layout", "imageLayoutVersion is not 1.x");
        }
        std::vector<PendingImage> images;
        std::map<std::string, std::size_t> by_manifest;
        walk_index(parse(scan_.layout.at("index.json"), "index.json"), "index.json", {}, 0, images,
                   by_manifest);
        if (images.empty()) {
            fail("index.json", "names no image manifest that is in the archive");
        }
        return images;
    }

  private:
    struct Descriptor {
        std::string media_type;
        Blob blob;
        const ScannedFile* file = nullptr;  // nullptr: not in the archive
        json annotations;
    };

    Descriptor descriptor(const json& d, std::string_view where, const std::string& field) const {
        if (!d.is_object()) {
            fail(where, fmt::format("{} is not an object", field));
        }
        Descriptor result;
        const auto media_type = d.find("mediaType");
        if (media_type == d.end() || !media_type->is_string()) {
            fail(where, fmt::format("{}.mediaType is missing or not a string", field));
        }
        result.media_type = media_type->get<std::string>();
        const auto digest = d.find("digest");
        if (digest == d.end() || !digest->is_string() || !is_digest(digest->get<std::string>())) {
            fail(where, fmt::format("{}.digest is missing or not a sha256 digest", field));
        }
        const auto size = d.find("size");
        if (size == d.end() || !size->is_number_unsigned()) {
            fail(where, fmt::format("{}.size is missing or not a non-negative integer", field));
        }
        result.blob = {digest->get<std::string>(), size->get<std::uint64_t>(), {}};
        result.file = scan_.find("blobs/sha256/" + result.blob.digest.substr(7));
        if (result.file != nullptr && result.file->size != result.blob.size) {
            fail(where,
                 fmt::format("{} {} has the size {}, but the archive's blob has {} bytes", field,
                             result.blob.digest, result.blob.size, result.file->size));
        }
        if (const auto a = d.find("annotations"); a != d.end() && a->is_object()) {
            result.annotations = *a;
        }
        return result;
    }

    const ScannedFile& present(const Descriptor& d, std::string_view where,
                               const std::string& field) const {
        if (d.file == nullptr) {
            fail(where, fmt::format("{} {} is not in the archive", field, d.blob.digest));
        }
        return *d.file;
    }

    static std::string annotation(const json& annotations, const char* key) {
        const auto value = annotations.is_object() ? annotations.find(key) : annotations.end();
        return value != annotations.end() && value->is_string() ? value->get<std::string>() : "";
    }

    void walk_index(const json& index, const std::string& where,
                    const std::vector<std::string>& references, int depth,
                    std::vector<PendingImage>& images,
                    std::map<std::string, std::size_t>& by_manifest) const {
        const auto manifests = index.is_object() ? index.find("manifests") : index.end();
        if (!index.is_object() || manifests == index.end() || !manifests->is_array()) {
            fail(where, "manifests is missing or not a list");
        }
        for (std::size_t i = 0; i < manifests->size(); ++i) {
            const std::string field = fmt::format("manifests[{}]", i);
            const Descriptor d = descriptor((*manifests)[i], where, field);
            // Attestations and signatures ride along in indexes; they are no images.
            if (!annotation(d.annotations, "vnd.docker.reference.type").empty()) {
                continue;
            }
            std::vector<std::string> refs = references;
            std::string name = annotation(d.annotations, "io.containerd.image.name");
            if (name.empty()) {
                name = annotation(d.annotations, "org.opencontainers.image.ref.name");
            }
            if (!name.empty()) {
                refs.push_back(name);
            }
            // An index inside the layout names every platform; an archive holds some of them.
            if (d.file == nullptr && depth > 0) {
                continue;
            }
            const ScannedFile& file = present(d, where, field);
            const std::string inner = fmt::format(
                "{} {}",
                d.media_type == kOciIndexMediaType || d.media_type == kDockerManifestListMediaType
                    ? "index"
                    : "manifest",
                d.blob.digest);
            if (d.media_type == kOciIndexMediaType ||
                d.media_type == kDockerManifestListMediaType) {
                if (depth >= 4) {
                    fail(inner, "indexes are nested more than 4 deep");
                }
                walk_index(parse_blob(file, inner), inner, refs, depth + 1, images, by_manifest);
            } else if (d.media_type == kOciManifestMediaType ||
                       d.media_type == kManifestMediaType) {
                if (const auto known = by_manifest.find(d.blob.digest);
                    known != by_manifest.end()) {
                    auto& existing = images[known->second].image.references;
                    for (const std::string& ref : refs) {
                        if (std::find(existing.begin(), existing.end(), ref) == existing.end()) {
                            existing.push_back(ref);
                        }
                    }
                    continue;
                }
                PendingImage pending = image_manifest(parse_blob(file, inner), inner);
                pending.image.references = refs;
                by_manifest[d.blob.digest] = images.size();
                images.push_back(std::move(pending));
            } else {
                fail(where, fmt::format("{}.mediaType \"{}\" is neither an image manifest nor an "
                                        "index",
                                        field, d.media_type));
            }
        }
    }

    PendingImage image_manifest(const json& manifest, const std::string& where) const {
        if (!manifest.is_object()) {
            fail(where, "not a JSON object");
        }
        PendingImage pending;
        pending.oci = true;
        const auto config = manifest.find("config");
        if (config == manifest.end()) {
            fail(where, "config is missing");
        }
        const Descriptor c = descriptor(*config, where, "config");
        if (c.media_type != kOciConfigMediaType && c.media_type != kConfigMediaType) {
            fail(where,
                 fmt::format("config.mediaType \"{}\" is not an image config", c.media_type));
        }
        const ScannedFile& config_file = present(c, where, "config");
        pending.image.config = {c.blob.digest, c.blob.size, std::string(kConfigMediaType)};
        pending.diff_ids =
            diff_ids(parse_blob(config_file, "config " + c.blob.digest), "config " + c.blob.digest);
        const auto layers = manifest.find("layers");
        if (layers == manifest.end() || !layers->is_array()) {
            fail(where, "layers is missing or not a list");
        }
        for (std::size_t i = 0; i < layers->size(); ++i) {
            const std::string field = fmt::format("layers[{}]", i);
            const Descriptor l = descriptor((*layers)[i], where, field);
            std::string declared;
            if (l.media_type == kOciGzipLayerMediaType ||
                l.media_type == kDockerGzipLayerMediaType) {
                declared = "gzip";
            } else if (l.media_type != kOciLayerMediaType &&
                       l.media_type != kDockerLayerMediaType) {
                fail(where, fmt::format("{}.mediaType \"{}\" is not a layer ferry takes (a tar, "
                                        "plain or gzip)",
                                        field, l.media_type));
            }
            present(l, where, field);
            pending.image.layers.push_back(l.blob);
            pending.layer_names.push_back("blobs/sha256/" + l.blob.digest.substr(7));
            pending.declared.push_back(declared);
        }
        return pending;
    }

    std::string archive_;
    const ScannedArchive& scan_;
    const BlobDir& blobs_;
};

// Reads every layer once, then holds each image's layers against its config.
std::vector<Image> check_layers(const fs::path& archive, std::vector<PendingImage> pending,
                                const BlobDir& blobs) {
    std::map<std::string, LayerFacts> facts;
    std::vector<Image> images;
    for (PendingImage& p : pending) {
        const std::string config =
            fmt::format("{}: config {}", archive.string(), p.image.config.digest);
        if (p.diff_ids.size() != p.image.layers.size()) {
            throw Error::format("{}: rootfs.diff_ids lists {} layers, but the image has {}", config,
                                p.diff_ids.size(), p.image.layers.size());
        }
        for (std::size_t i = 0; i < p.image.layers.size(); ++i) {
            Blob& layer = p.image.layers[i];
            const std::string what = fmt::format("{}: layer {}", archive.string(), layer.digest);
            auto known = facts.find(layer.digest);
            if (known == facts.end()) {
                known = facts
                            .emplace(layer.digest,
                                     check_layer(blobs.path(layer.digest), layer.digest, what))
                            .first;
            }
            const LayerFacts& f = known->second;
            if (f.compression.empty()) {
                layer.media_type = kDockerLayerMediaType;
            } else if (f.compression == "gzip") {
                layer.media_type = kDockerGzipLayerMediaType;
            } else {
                throw Error::format("{}: compressed with {}; ferry takes plain and gzip layers",
                                    what, f.compression);
            }
            if (p.oci && p.declared[i] != f.compression) {
                throw Error::format("{}: its media type says {}, but it is {}", what,
                                    p.declared[i].empty() ? "a plain tar" : "gzip",
                                    f.compression.empty() ? "a plain tar" : f.compression);
            }
            if (f.diff_id != p.diff_ids[i]) {
                throw Error::format("{}: rootfs.diff_ids[{}] is {}, but layer {} (\"{}\") has {}",
                                    config, i, p.diff_ids[i], layer.digest, p.layer_names[i],
                                    f.diff_id);
            }
        }
        images.push_back(std::move(p.image));
    }
    return images;
}

}  // namespace

std::vector<Image> unpack_image_archive(const fs::path& archive, const BlobDir& blobs) {
    ScannedArchive scan = scan_image_archive(archive, blobs);
    LayoutReader layout(archive, scan, blobs);
    std::vector<PendingImage> pending;
    if (scan.layout.count("manifest.json") != 0) {
        pending = layout.docker_save();
    } else if (scan.layout.count("index.json") != 0) {
        pending = layout.oci_layout();
    } else {
        throw Error::format(
            "{}: neither manifest.json (docker save) nor index.json (OCI image layout) is in the "
            "archive",
            archive.string());
    }
    std::vector<Image> images = check_layers(archive, std::move(pending), blobs);
    // Blobs of this archive that no image uses (an index's other platforms, legacy files) go.
    std::set<fs::path> used;
    for (const Image& image : images) {
        used.insert(blobs.path(image.config.digest));
        for (const Blob& layer : image.layers) {
            used.insert(blobs.path(layer.digest));
        }
    }
    CreatedBlobs unused;
    for (const fs::path& path : scan.created.paths()) {
        if (used.count(path) == 0) {
            unused.add(path);
        }
    }
    scan.created.dismiss();
    return images;
}

}  // namespace ferry::image
