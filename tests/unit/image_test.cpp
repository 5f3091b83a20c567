#include "image/image.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "archive/archive.hpp"
#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "support/image_archives.hpp"
#include "support/test_support.hpp"

namespace ferry::image {

// For gtest's messages.
void PrintTo(const Blob& blob, std::ostream* out) {
    *out << "{" << blob.digest << ", " << blob.size << ", " << blob.media_type << "}";
}

namespace {

using testing::digest_of;
using testing::docker_save_entries;
using testing::error_of;
using ::testing::HasSubstr;
using testing::make_tar;
using testing::oci_layout_entries;
using testing::OciImage;
using testing::TarEntry;
using testing::write_bytes;

const std::string kLayerMediaType = "application/vnd.docker.image.rootfs.diff.tar";
const std::string kGzipLayerMediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip";

std::string base_layer() {
    return make_tar({{"bin", "", TarEntry::Kind::directory},
                     {"bin/busybox", testing::random_bytes(200'000, 1)},
                     {"bin/sh", "/bin/busybox", TarEntry::Kind::symlink},
                     {"bin/ls", "bin/busybox", TarEntry::Kind::hardlink},
                     {"dev/null", "", TarEntry::Kind::character_device},
                     // Names are UTF-8 whatever the locale (docker's Go tar writes them so).
                     {"usr/share/doc/\u00fcn\u00efc\u00f6de.txt", "text\n"},
                     {"usr/share/doc/l\u00efnk", "usr/share/doc/\u00fcn\u00efc\u00f6de.txt",
                      TarEntry::Kind::hardlink}});
}
std::string web_layer() {
    return make_tar({{"www/index.html", "<h1>web</h1>\n"}});
}
std::string api_layer() {
    return make_tar({{"srv/api.txt", "api\n"}});
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

std::vector<std::string> stored_blobs(const BlobDir& blobs) {
    std::vector<std::string> names;
    if (fs::exists(blobs.root() / "sha256")) {
        for (const auto& entry : fs::directory_iterator(blobs.root() / "sha256")) {
            names.push_back("sha256:" + entry.path().filename().string());
        }
    }
    return sorted(names);
}

// Nothing but the sha256 folder (no temporary file) is ever left in the blob directory's root.
std::vector<std::string> leftovers(const BlobDir& blobs) {
    std::vector<std::string> names;
    if (fs::exists(blobs.root())) {
        for (const auto& entry : fs::directory_iterator(blobs.root())) {
            if (entry.path().filename() != "sha256") {
                names.push_back(entry.path().filename().string());
            }
        }
    }
    return names;
}

// Replaces the content of the entry named name.
std::vector<TarEntry> with_entry(std::vector<TarEntry> entries, const std::string& name,
                                 const std::string& data) {
    for (TarEntry& entry : entries) {
        if (entry.name == name) {
            entry.data = data;
        }
    }
    return entries;
}

std::vector<TarEntry> without_entry(std::vector<TarEntry> entries, const std::string& name) {
    std::erase_if(entries, [&](const TarEntry& e) { return e.name == name; });
    return entries;
}

std::string layer_path(const std::string& layer) {
    return core::sha256_hex("v1 " + layer) + "/layer.tar";
}

class ImageTest : public ::testing::Test {
  protected:
    fs::path write_archive(const std::string& name, const std::vector<TarEntry>& entries) {
        const fs::path path = dir_.path() / name;
        write_bytes(path, make_tar(entries));
        return path;
    }
    std::string refusal(const fs::path& archive) {
        return error_of([&] { unpack_image_archive(archive, blobs_); });
    }

    core::ScratchDir dir_;
    BlobDir blobs_{dir_.path() / "blobs"};
};

TEST_F(ImageTest, DockerSaveOfTwoImagesStoresTheSharedLayerOnce) {
    const fs::path archive = write_archive(
        "web.tar", docker_save_entries(
                       {{{"example/web:1.0", "example/web:latest"}, {base_layer(), web_layer()}},
                        {{"example/api:2.0"}, {base_layer(), api_layer()}}}));
    const std::vector<Image> images = unpack_image_archive(archive, blobs_);

    ASSERT_EQ(images.size(), 2u);
    EXPECT_EQ(images[0].references,
              (std::vector<std::string>{"example/web:1.0", "example/web:latest"}));
    EXPECT_EQ(images[1].references, std::vector<std::string>{"example/api:2.0"});
    const Blob base{digest_of(base_layer()), base_layer().size(), kLayerMediaType};
    EXPECT_EQ(
        images[0].layers,
        (std::vector<Blob>{base, {digest_of(web_layer()), web_layer().size(), kLayerMediaType}}));
    EXPECT_EQ(
        images[1].layers,
        (std::vector<Blob>{base, {digest_of(api_layer()), api_layer().size(), kLayerMediaType}}));
    const std::string config =
        testing::image_config({digest_of(base_layer()), digest_of(web_layer())});
    EXPECT_EQ(images[0].config,
              (Blob{digest_of(config), config.size(), std::string(kConfigMediaType)}));

    // Three layers and two configs, each once; docker's legacy files are no blobs.
    EXPECT_EQ(stored_blobs(blobs_),
              sorted({digest_of(base_layer()), digest_of(web_layer()), digest_of(api_layer()),
                      images[0].config.digest, images[1].config.digest}));
    for (const Image& image : images) {
        EXPECT_TRUE(blobs_.has(image.config));
        for (const Blob& layer : image.layers) {
            EXPECT_TRUE(blobs_.has(layer));
        }
    }
    EXPECT_EQ(testing::read_text(blobs_.path(images[0].config.digest)), config);
    EXPECT_EQ(leftovers(blobs_), std::vector<std::string>{});

    // Unpacking again finds everything stored and changes nothing.
    EXPECT_EQ(unpack_image_archive(archive, blobs_), images);
    EXPECT_EQ(stored_blobs(blobs_).size(), 5u);
}

TEST_F(ImageTest, DockerSaveOfCompressedArchiveAndLinkedLayers) {
    // docker save links a layer it wrote before instead of writing it twice.
    std::vector<TarEntry> entries = docker_save_entries({{{"a:1"}, {base_layer()}}});
    entries.push_back({"other", "", TarEntry::Kind::directory});
    entries.push_back(
        {"other/layer.tar", "../" + layer_path(base_layer()), TarEntry::Kind::symlink});
    const std::string config = testing::image_config({digest_of(base_layer())});
    entries = with_entry(entries, "manifest.json",
                         nlohmann::json::array({{{"Config", digest_of(config).substr(7) + ".json"},
                                                 {"RepoTags", {"a:1"}},
                                                 {"Layers", {"other/layer.tar"}}}})
                             .dump());
    const fs::path archive = dir_.path() / "a.tar.gz";
    write_bytes(archive, testing::gzip(make_tar(entries)));
    const std::vector<Image> images = unpack_image_archive(archive, blobs_);
    ASSERT_EQ(images.size(), 1u);
    EXPECT_EQ(images[0].layers[0].digest, digest_of(base_layer()));
}

TEST_F(ImageTest, DockerSaveOfDocker25NamesBlobsByDigest) {
    // docker 25 and later write an OCI layout and a manifest.json naming its blobs.
    std::vector<TarEntry> entries = oci_layout_entries({{"w:25", {{web_layer(), false}}}});
    const std::string config = testing::image_config({digest_of(web_layer())});
    entries.push_back(
        {"manifest.json",
         nlohmann::json::array({{{"Config", "blobs/sha256/" + digest_of(config).substr(7)},
                                 {"RepoTags", {"example/w:25"}},
                                 {"Layers", {"blobs/sha256/" + digest_of(web_layer()).substr(7)}}}})
             .dump()});
    const std::vector<Image> images = unpack_image_archive(write_archive("w.tar", entries), blobs_);
    ASSERT_EQ(images.size(), 1u);
    EXPECT_EQ(images[0].references, std::vector<std::string>{"example/w:25"});
    EXPECT_EQ(images[0].config.digest, digest_of(config));
    EXPECT_EQ(images[0].layers,
              (std::vector<Blob>{{digest_of(web_layer()), web_layer().size(), kLayerMediaType}}));
}

TEST_F(ImageTest, OciLayoutWithAGzipLayer) {
    const fs::path archive = write_archive(
        "oci.tar",
        oci_layout_entries({{"example/web:1.0", {{base_layer(), false}, {web_layer(), true}}}}));
    const std::vector<Image> images = unpack_image_archive(archive, blobs_);
    ASSERT_EQ(images.size(), 1u);
    EXPECT_EQ(images[0].references, std::vector<std::string>{"example/web:1.0"});
    const std::string compressed = testing::gzip(web_layer());
    EXPECT_EQ(images[0].layers,
              (std::vector<Blob>{{digest_of(base_layer()), base_layer().size(), kLayerMediaType},
                                 {digest_of(compressed), compressed.size(), kGzipLayerMediaType}}));
    EXPECT_EQ(images[0].config.media_type, kConfigMediaType);
    EXPECT_TRUE(blobs_.has(images[0].layers[1]));
    // The OCI manifest is the layout's, not the registry's: it is not kept.
    EXPECT_EQ(stored_blobs(blobs_),
              sorted({digest_of(base_layer()), digest_of(compressed), images[0].config.digest}));
}

TEST_F(ImageTest, OciNestedIndexSkipsPlatformsTheArchiveDoesNotHold) {
    std::vector<TarEntry> entries = oci_layout_entries({{"", {{web_layer(), false}}}});
    nlohmann::json index = nlohmann::json::parse(entries.back().data);
    nlohmann::json nested = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.index.v1+json"},
                             {"manifests",
                              {index["manifests"][0],
                               {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                {"digest", digest_of("another platform")},
                                {"size", 16},
                                {"platform", {{"architecture", "arm64"}, {"os", "linux"}}}}}}};
    const std::string nested_bytes = nested.dump();
    entries.push_back({"blobs/sha256/" + digest_of(nested_bytes).substr(7), nested_bytes});
    index["manifests"] = {{{"mediaType", "application/vnd.oci.image.index.v1+json"},
                           {"digest", digest_of(nested_bytes)},
                           {"size", nested_bytes.size()},
                           {"annotations",
                            {{"io.containerd.image.name", "docker.io/example/web:1.0"},
                             {"org.opencontainers.image.ref.name", "1.0"}}}}};
    entries = with_entry(entries, "index.json", index.dump());
    const std::vector<Image> images =
        unpack_image_archive(write_archive("nested.tar", entries), blobs_);
    ASSERT_EQ(images.size(), 1u);
    EXPECT_EQ(images[0].references, std::vector<std::string>{"docker.io/example/web:1.0"});
    EXPECT_EQ(images[0].layers[0].digest, digest_of(web_layer()));
}

TEST_F(ImageTest, RefusesALayerWhoseContentIsNotItsDigest) {
    std::vector<TarEntry> entries = oci_layout_entries({{"w", {{web_layer(), false}}}});
    const std::string name = "blobs/sha256/" + digest_of(web_layer()).substr(7);
    const fs::path archive =
        write_archive("web.tar", with_entry(entries, name, make_tar({{"www/evil", "x"}})));
    EXPECT_THAT(refusal(archive),
                HasSubstr("web.tar: entry \"" + name + "\": its content has the digest sha256:"));
    EXPECT_EQ(stored_blobs(blobs_), std::vector<std::string>{});
    EXPECT_EQ(leftovers(blobs_), std::vector<std::string>{});
}

TEST_F(ImageTest, RefusesADockerSaveLayerThatIsNotTheConfigsDiffId) {
    std::vector<TarEntry> entries = docker_save_entries({{{"w:1"}, {base_layer(), web_layer()}}});
    const fs::path archive = write_archive(
        "web.tar", with_entry(entries, layer_path(web_layer()), make_tar({{"www/evil", "x"}})));
    const std::string message = refusal(archive);
    EXPECT_THAT(message, HasSubstr("web.tar: config sha256:"));
    EXPECT_THAT(message, HasSubstr(": rootfs.diff_ids[1] is " + digest_of(web_layer()) +
                                   ", but layer sha256:"));
    EXPECT_THAT(message, HasSubstr("(\"" + layer_path(web_layer()) + "\") has sha256:"));
    EXPECT_EQ(stored_blobs(blobs_), std::vector<std::string>{});
}

TEST_F(ImageTest, RefusesADescriptorOfTheWrongSize) {
    std::vector<TarEntry> entries = oci_layout_entries({{"w", {{web_layer(), true}}}});
    // The manifest says one byte more than the layer has.
    for (TarEntry& entry : entries) {
        if (entry.data.find("\"layers\":[") != std::string::npos) {
            nlohmann::json manifest = nlohmann::json::parse(entry.data);
            manifest["layers"][0]["size"] = manifest["layers"][0]["size"].get<int>() + 1;
            const std::string bytes = manifest.dump();
            nlohmann::json index = nlohmann::json::parse(entries.back().data);
            index["manifests"][0]["digest"] = digest_of(bytes);
            index["manifests"][0]["size"] = bytes.size();
            entries.back().data = index.dump();
            entry = {"blobs/sha256/" + digest_of(bytes).substr(7), bytes};
            break;
        }
    }
    const std::string message = refusal(write_archive("web.tar", entries));
    EXPECT_THAT(message, HasSubstr("web.tar: manifest sha256:"));
    EXPECT_THAT(message, HasSubstr(": layers[0] sha256:"));
    EXPECT_THAT(message,
                HasSubstr(" has the size " + std::to_string(testing::gzip(web_layer()).size() + 1) +
                          ", but the archive's blob has " +
                          std::to_string(testing::gzip(web_layer()).size()) + " bytes"));
}

TEST_F(ImageTest, RefusesAnIndexNamingAManifestNotInTheArchive) {
    std::vector<TarEntry> entries = oci_layout_entries({{"w", {{web_layer(), false}}}});
    const nlohmann::json index = nlohmann::json::parse(entries.back().data);
    const std::string manifest = index["manifests"][0]["digest"];
    const fs::path archive =
        write_archive("web.tar", without_entry(entries, "blobs/sha256/" + manifest.substr(7)));
    EXPECT_THAT(refusal(archive), HasSubstr("web.tar: index.json: manifests[0] " + manifest +
                                            " is not in the archive"));
}

TEST_F(ImageTest, RefusesALayerThatIsNotCompressedAsItsMediaTypeSays) {
    std::vector<TarEntry> entries = oci_layout_entries({{"w", {{web_layer(), false}}}});
    for (TarEntry& entry : entries) {
        if (entry.data.find("\"layers\":[") != std::string::npos) {
            const std::string plain = "application/vnd.oci.image.layer.v1.tar\"";
            entry.data.replace(entry.data.find(plain), plain.size(),
                               "application/vnd.oci.image.layer.v1.tar+gzip\"");
            nlohmann::json index = nlohmann::json::parse(entries.back().data);
            index["manifests"][0]["digest"] = digest_of(entry.data);
            index["manifests"][0]["size"] = entry.data.size();
            entries.back().data = index.dump();
            entry.name = "blobs/sha256/" + digest_of(entry.data).substr(7);
            break;
        }
    }
    EXPECT_THAT(refusal(write_archive("web.tar", entries)),
                HasSubstr("web.tar: layer " + digest_of(web_layer()) +
                          ": its media type says gzip, but it is a plain tar"));
}

TEST_F(ImageTest, RefusesLayersCompressedOtherwiseThanGzip) {
    // What docker load and a v2 manifest cannot carry is refused by name.
    std::string xz;
    {
        std::unique_ptr<struct archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                              &archive_write_free);
        archive_write_set_format_raw(writer.get());
        archive_write_add_filter_xz(writer.get());
        archive_write_open(
            writer.get(), &xz, nullptr,
            [](struct archive*, void* out, const void* data, std::size_t size) -> la_ssize_t {
                static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
                return static_cast<la_ssize_t>(size);
            },
            nullptr);
        std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(
            archive_entry_new(), &archive_entry_free);
        archive_entry_set_pathname(entry.get(), "layer");
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_size(entry.get(), static_cast<la_int64_t>(web_layer().size()));
        archive_write_header(writer.get(), entry.get());
        archive_write_data(writer.get(), web_layer().data(), web_layer().size());
        archive_write_close(writer.get());
    }
    std::vector<TarEntry> entries = docker_save_entries({{{"w:1"}, {web_layer()}}});
    EXPECT_THAT(refusal(write_archive("web.tar", with_entry(entries, layer_path(web_layer()), xz))),
                HasSubstr("web.tar: layer " + digest_of(xz) +
                          ": compressed with xz; ferry takes plain and gzip layers"));
}

TEST_F(ImageTest, RefusesAMissingLayer) {
    std::vector<TarEntry> entries = docker_save_entries({{{"w:1"}, {base_layer(), web_layer()}}});
    const fs::path archive =
        write_archive("web.tar", without_entry(entries, layer_path(web_layer())));
    EXPECT_THAT(refusal(archive), HasSubstr("web.tar: manifest.json: Layers[1] \"" +
                                            layer_path(web_layer()) + "\" is not in the archive"));
    // What the refused archive stored is gone again.
    EXPECT_EQ(stored_blobs(blobs_), std::vector<std::string>{});
}

TEST_F(ImageTest, RefusedArchiveKeepsBlobsThatWereThereBefore) {
    unpack_image_archive(
        write_archive("base.tar", docker_save_entries({{{"base:1"}, {base_layer()}}})), blobs_);
    const std::vector<std::string> before = stored_blobs(blobs_);
    std::vector<TarEntry> entries = docker_save_entries({{{"w:1"}, {base_layer(), web_layer()}}});
    refusal(write_archive("web.tar", without_entry(entries, "manifest.json")));
    EXPECT_EQ(stored_blobs(blobs_), before);
}

TEST_F(ImageTest, RefusesDiffIdsOfAnotherCount) {
    std::vector<TarEntry> entries = docker_save_entries({{{"w:1"}, {base_layer(), web_layer()}}});
    const std::string config = testing::image_config({digest_of(base_layer())});
    const std::string config_name = digest_of(config).substr(7) + ".json";
    nlohmann::json manifest =
        nlohmann::json::parse(std::find_if(entries.begin(), entries.end(), [](const TarEntry& e) {
                                  return e.name == "manifest.json";
                              })->data);
    manifest[0]["Config"] = config_name;
    entries = with_entry(entries, "manifest.json", manifest.dump());
    entries.push_back({config_name, config});
    EXPECT_THAT(refusal(write_archive("web.tar", entries)),
                HasSubstr("web.tar: config " + digest_of(config) +
                          ": rootfs.diff_ids lists 1 layers, but the image has 2"));
}

TEST_F(ImageTest, RefusesAConfigNotNamedByItsDigest) {
    std::vector<TarEntry> entries = docker_save_entries({{{"w:1"}, {web_layer()}}});
    const std::string config = testing::image_config({digest_of(web_layer())});
    const std::string name = digest_of(config).substr(7) + ".json";
    EXPECT_THAT(refusal(write_archive("web.tar", with_entry(entries, name, config + " "))),
                HasSubstr("web.tar: entry \"" + name + "\": its content has the digest"));
}

class LayerRefusalTest : public ImageTest {
  protected:
    std::string refusal_of_layer(const std::string& layer) {
        const fs::path archive =
            write_archive("web.tar", docker_save_entries({{{"w:1"}, {base_layer(), layer}}}));
        return refusal(archive);
    }
};

TEST_F(LayerRefusalTest, DotDotEntry) {
    const std::string layer = make_tar({{"../etc/passwd", "root::0:0::/:/bin/sh\n"}});
    EXPECT_THAT(refusal_of_layer(layer),
                HasSubstr("web.tar: layer " + digest_of(layer) +
                          ": entry \"../etc/passwd\" leaves the image root"));
    EXPECT_EQ(stored_blobs(blobs_), std::vector<std::string>{});
}

TEST_F(LayerRefusalTest, DotDotInsideAName) {
    const std::string layer = make_tar({{"www/../../etc/shadow", "x"}});
    EXPECT_THAT(refusal_of_layer(layer),
                HasSubstr(": entry \"www/../../etc/shadow\" leaves the image root"));
}

TEST_F(LayerRefusalTest, AbsoluteEntry) {
    const std::string layer = make_tar({{"/etc/passwd", "x"}});
    EXPECT_THAT(refusal_of_layer(layer),
                HasSubstr("web.tar: layer " + digest_of(layer) +
                          ": entry \"/etc/passwd\" is absolute; layer entries are relative to "
                          "the image root"));
}

TEST_F(LayerRefusalTest, HardlinkLeavingTheRoot) {
    const std::string layer =
        make_tar({{"etc/passwd", "../../etc/passwd", TarEntry::Kind::hardlink}});
    EXPECT_THAT(refusal_of_layer(layer),
                HasSubstr(": entry \"etc/passwd\": hardlink target \"../../etc/passwd\" leaves "
                          "the image root"));
}

TEST_F(LayerRefusalTest, LayerThatIsNoTar) {
    EXPECT_THAT(refusal_of_layer(std::string(3000, 'x')),
                HasSubstr(": not a tar (a layer is a tar, plain or compressed)"));
}

TEST_F(ImageTest, RefusesAFileThatIsNoTar) {
    const fs::path archive = dir_.path() / "web.zip";
    write_bytes(archive, std::string("PK\x03\x04", 4) + std::string(200, '\0'));
    EXPECT_THAT(refusal(archive),
                HasSubstr("web.zip: not a tar archive (an image archive is the tar of `docker "
                          "save` or of an OCI image layout)"));
    write_bytes(archive, "just text, no archive at all\n");
    EXPECT_THAT(refusal(archive), HasSubstr("web.zip: not a tar archive"));
}

TEST_F(ImageTest, RefusesATruncatedArchive) {
    const std::string whole =
        make_tar(docker_save_entries({{{"w:1"}, {base_layer(), web_layer()}}}));
    const fs::path archive = dir_.path() / "web.tar";
    // Cut inside the big layer's data.
    write_bytes(archive, whole.substr(0, 100'000));
    EXPECT_THAT(refusal(archive), HasSubstr("web.tar: entry \"" + layer_path(base_layer()) +
                                            "\": cannot read its data: "));
    EXPECT_EQ(stored_blobs(blobs_), std::vector<std::string>{});
    EXPECT_EQ(leftovers(blobs_), std::vector<std::string>{});
}

TEST_F(ImageTest, RefusesAnArchiveWithoutLayout) {
    const fs::path archive = write_archive("web.tar", {{"hello.txt", "hi"}});
    EXPECT_THAT(refusal(archive), HasSubstr("web.tar: neither manifest.json (docker save) nor "
                                            "index.json (OCI image layout) is in the archive"));
}

TEST_F(ImageTest, RefusesAnEntryEscapingTheArchive) {
    const fs::path archive = write_archive("web.tar", {{"../manifest.json", "[]"}});
    EXPECT_THAT(refusal(archive), HasSubstr("web.tar: entry \"../manifest.json\": name"));
}

class DockerArchiveTest : public ImageTest {
  protected:
    std::string write(const std::vector<TaggedImage>& images) {
        const fs::path out = dir_.path() / "out.tar";
        core::FileDescriptor fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
        write_docker_archive(images, blobs_, fd.get());
        fd.close();
        return testing::read_text(out);
    }
};

TEST_F(DockerArchiveTest, ReadsBackAsTheSameImagesEachBlobOnce) {
    std::vector<TarEntry> oci =
        oci_layout_entries({{"", {{base_layer(), false}, {web_layer(), true}}},
                            {"", {{base_layer(), false}, {api_layer(), false}}}});
    const std::vector<Image> images = unpack_image_archive(write_archive("in.tar", oci), blobs_);
    ASSERT_EQ(images.size(), 2u);
    const std::vector<TaggedImage> tagged = {{images[0], "ferry/app/web:1.0.0"},
                                             {images[1], "ferry/app/api:1.0.0"}};
    const std::string written = write(tagged);
    EXPECT_EQ(write(tagged), written) << "the same images give the same bytes";
    EXPECT_EQ(docker_archive_size(tagged, blobs_), written.size()) << "known before writing";

    core::ScratchDir other_dir;
    const BlobDir other(other_dir.path() / "blobs");
    const fs::path copy = dir_.path() / "copy.tar";
    write_bytes(copy, written);
    std::vector<Image> expected = images;
    expected[0].references = {"ferry/app/web:1.0.0"};
    expected[1].references = {"ferry/app/api:1.0.0"};
    EXPECT_EQ(unpack_image_archive(copy, other), expected);
    // Two configs and three layers: the shared layer once.
    EXPECT_EQ(stored_blobs(other).size(), 5u);

    // The archive holds manifest.json and each blob once.
    std::vector<std::string> names;
    auto listing = archive::list_archive(copy);
    for (const auto& entry : listing) {
        if (entry.type == archive::ExtractedEntry::Type::file) {
            names.push_back(entry.path);
        }
    }
    EXPECT_EQ(names.size(), 1u + 2u + 3u);
    EXPECT_EQ(names.front(), "manifest.json");
}

TEST_F(DockerArchiveTest, RefusesAMissingBlobBeforeWritingAnything) {
    Image image;
    image.config = {"sha256:" + std::string(64, 'c'), 3, std::string(kConfigMediaType)};
    const fs::path out = dir_.path() / "out.tar";
    core::FileDescriptor fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    EXPECT_THAT(error_of([&] {
                    write_docker_archive({{image, "x:1"}}, blobs_, fd.get());
                }),
                HasSubstr(": the config sha256:" + std::string(64, 'c') +
                          " of image x:1 (3 bytes) is not in the blobs"));
    EXPECT_EQ(fs::file_size(out), 0u);
}

}  // namespace
}  // namespace ferry::image
