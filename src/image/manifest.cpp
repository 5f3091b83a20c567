// The registry's image manifest (v2, schema 2) of an image, and finding an image by reference.
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/json_error.hpp"
#include "image/image.hpp"
#include "image/media_types.hpp"

namespace ferry::image {

namespace {

nlohmann::ordered_json descriptor(const Blob& blob) {
    // The key order of Docker's own manifests; ordered_json keeps it, so the bytes are canonical.
    nlohmann::ordered_json d;
    d["mediaType"] = blob.media_type;
    d["size"] = blob.size;
    d["digest"] = blob.digest;
    return d;
}

class ManifestReader {
  public:
    explicit ManifestReader(std::string_view source) : source_(source) {}

    [[noreturn]] void fail(std::string_view field, std::string_view cause) const {
        throw Error::format("{}: {} {}", source_, field, cause);
    }

    Blob blob(const nlohmann::json& d, const std::string& field, bool is_config) const {
        if (!d.is_object()) {
            fail(field, "is not an object");
        }
        Blob blob;
        const auto media_type = d.find("mediaType");
        if (media_type == d.end() || !media_type->is_string()) {
            fail(field + ".mediaType", "is missing or not a string");
        }
        blob.media_type = media_type->get<std::string>();
        if (is_config ? blob.media_type != kConfigMediaType
                      : blob.media_type != kDockerLayerMediaType &&
                            blob.media_type != kDockerGzipLayerMediaType) {
            fail(field + ".mediaType",
                 fmt::format("\"{}\" is not a media type ferry serves", blob.media_type));
        }
        const auto size = d.find("size");
        if (size == d.end() || !size->is_number_unsigned()) {
            fail(field + ".size", "is missing or not a non-negative integer");
        }
        blob.size = size->get<std::uint64_t>();
        const auto digest = d.find("digest");
        if (digest == d.end() || !digest->is_string() || !is_digest(digest->get<std::string>())) {
            fail(field + ".digest", "is missing or not a sha256 digest");
        }
        blob.digest = digest->get<std::string>();
        return blob;
    }

  private:
    std::string_view source_;
};

}  // namespace

std::string registry_manifest(const Image& image) {
    nlohmann::ordered_json m;
    m["schemaVersion"] = 2;
    m["mediaType"] = kManifestMediaType;
    m["config"] = descriptor(image.config);
    m["layers"] = nlohmann::ordered_json::array();
    for (const Blob& layer : image.layers) {
        m["layers"].push_back(descriptor(layer));
    }
    return m.dump();
}

Image parse_registry_manifest(std::string_view text, std::string_view source) {
    nlohmann::json m;
    try {
        m = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error::format("{}: not a JSON image manifest: {}", source, core::json_error_text(e));
    }
    ManifestReader reader(source);
    if (!m.is_object()) {
        reader.fail("the manifest", "is not a JSON object");
    }
    const auto version = m.find("schemaVersion");
    if (version == m.end() || !version->is_number_integer() || version->get<std::int64_t>() != 2) {
        reader.fail("schemaVersion", "is not 2");
    }
    const auto media_type = m.find("mediaType");
    if (media_type == m.end() || !media_type->is_string() ||
        media_type->get<std::string>() != kManifestMediaType) {
        reader.fail("mediaType", fmt::format("is not \"{}\"", kManifestMediaType));
    }
    const auto config = m.find("config");
    if (config == m.end()) {
        reader.fail("config", "is missing");
    }
    Image image;
    image.config = reader.blob(*config, "config", true);
    const auto layers = m.find("layers");
    if (layers == m.end() || !layers->is_array()) {
        reader.fail("layers", "is missing or not a list");
    }
    for (std::size_t i = 0; i < layers->size(); ++i) {
        image.layers.push_back(reader.blob((*layers)[i], fmt::format("layers[{}]", i), false));
    }
    return image;
}

const Image& find_image(const std::vector<Image>& images, std::string_view reference,
                        std::string_view archive) {
    for (const Image& image : images) {
        for (const std::string& candidate : image.references) {
            if (candidate == reference) {
                return image;
            }
        }
    }
    if (images.size() == 1) {
        return images.front();
    }
    std::string known;
    for (const Image& image : images) {
        for (const std::string& candidate : image.references) {
            known += (known.empty() ? "" : ", ") + candidate;
        }
    }
    throw Error::format(ErrorKind::not_found, "{}: no image \"{}\" among its {} images ({})",
                        archive, reference, images.size(),
                        known.empty() ? "none of them tagged" : known);
}

}  // namespace ferry::image
