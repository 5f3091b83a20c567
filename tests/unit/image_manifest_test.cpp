// Registry manifests (canonical bytes, read back, refusals), digests and blob paths, and finding
// an image of an archive by its reference.
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/image.hpp"
#include "support/test_support.hpp"

namespace ferry::image {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using ::testing::HasSubstr;

TEST(ImageManifest, IsCanonicalAndReadsBack) {
    Image image;
    image.config = {"sha256:" + std::string(64, 'c'), 1234, std::string(kConfigMediaType)};
    image.layers = {
        {"sha256:" + std::string(64, 'a'), 10, "application/vnd.docker.image.rootfs.diff.tar"},
        {"sha256:" + std::string(64, 'b'), 20,
         "application/vnd.docker.image.rootfs.diff.tar.gzip"}};
    const std::string manifest = registry_manifest(image);
    EXPECT_EQ(manifest,
              "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest."
              "v2+json\",\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+"
              "json\",\"size\":1234,\"digest\":\"sha256:" +
                  std::string(64, 'c') +
                  "\"},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar\","
                  "\"size\":10,\"digest\":\"sha256:" +
                  std::string(64, 'a') +
                  "\"},{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
                  "\"size\":20,\"digest\":\"sha256:" +
                  std::string(64, 'b') + "\"}]}");
    EXPECT_EQ(parse_registry_manifest(manifest, "m.json"), image);
    image.references = {"x:1"};
    EXPECT_EQ(registry_manifest(image), manifest);
}

TEST(ImageManifest, RefusesWhatIsNoImageManifest) {
    const std::string config = R"({"mediaType":"application/vnd.docker.container.image.v1+json",)"
                               R"("size":3,"digest":"sha256:)" +
                               std::string(64, 'c') + R"("})";
    auto manifest = [&](const std::string& version, const std::string& media_type,
                        const std::string& layers) {
        return R"({"schemaVersion":)" + version + R"(,"mediaType":")" + media_type +
               R"(","config":)" + config + R"(,"layers":)" + layers + "}";
    };
    const std::string v2 = std::string(kManifestMediaType);
    EXPECT_EQ(parse_registry_manifest(manifest("2", v2, "[]"), "m").layers.size(), 0u);
    EXPECT_THAT(error_of([&] { parse_registry_manifest(manifest("1", v2, "[]"), "m.json"); }),
                HasSubstr("m.json: schemaVersion is not 2"));
    EXPECT_THAT(error_of([&] { parse_registry_manifest(manifest("4294967298", v2, "[]"), "m"); }),
                HasSubstr("m: schemaVersion is not 2"));
    EXPECT_THAT(error_of([&] {
                    parse_registry_manifest(
                        manifest("2", "application/vnd.oci.image.manifest.v1+json", "[]"), "m");
                }),
                HasSubstr("m: mediaType is not \"application/vnd.docker.distribution"));
    EXPECT_THAT(error_of([&] {
                    parse_registry_manifest(
                        manifest("2", v2,
                                 R"([{"mediaType":"application/vnd.docker.image.rootfs.diff.tar",)"
                                 R"("size":1,"digest":"sha256:abc"}])"),
                        "m");
                }),
                HasSubstr("m: layers[0].digest is missing or not a sha256 digest"));
    EXPECT_THAT(error_of([&] {
                    parse_registry_manifest(
                        manifest("2", v2,
                                 R"([{"mediaType":"text/plain","size":1,"digest":"sha256:)" +
                                     std::string(64, 'a') + R"("}])"),
                        "m");
                }),
                HasSubstr("m: layers[0].mediaType \"text/plain\" is not a media type ferry"));
    EXPECT_THAT(error_of([&] { parse_registry_manifest("{", "m"); }),
                HasSubstr("m: not a JSON image manifest"));
    EXPECT_THAT(error_of([&] { parse_registry_manifest("[]", "m"); }),
                HasSubstr("m: the manifest is not a JSON object"));
}

TEST(ImageDigest, IsDigestAndBlobPaths) {
    const std::string hex(64, 'e');
    EXPECT_TRUE(is_digest("sha256:" + hex));
    EXPECT_FALSE(is_digest("sha256:" + std::string(64, 'E')));
    EXPECT_FALSE(is_digest("sha256:" + hex.substr(1)));
    EXPECT_FALSE(is_digest("sha512:" + hex));
    EXPECT_FALSE(is_digest("sha256:../" + hex.substr(3)));
    const BlobDir blobs("/srv/blobs");
    EXPECT_EQ(blobs.path("sha256:" + hex), fs::path("/srv/blobs/sha256") / hex);
    EXPECT_THAT(error_of([&] { blobs.path("sha256:../../etc/passwd"); }),
                HasSubstr("\"sha256:../../etc/passwd\" is not a digest"));
    EXPECT_FALSE(blobs.has({"sha256:" + hex, 1, ""}));
}

TEST(ImageFind, ByReferenceOrTheOnlyOne) {
    std::vector<Image> images(2);
    images[0].references = {"a:1", "a:latest"};
    images[1].references = {"b:2"};
    EXPECT_EQ(&find_image(images, "a:latest", "x.tar"), &images[0]);
    EXPECT_EQ(&find_image(images, "b:2", "x.tar"), &images[1]);
    EXPECT_THAT(error_of([&] { find_image(images, "c:3", "x.tar"); }),
                HasSubstr("x.tar: no image \"c:3\" among its 2 images (a:1, a:latest, b:2)"));
    images.pop_back();
    EXPECT_EQ(&find_image(images, "anything", "x.tar"), &images[0]);
}

}  // namespace
}  // namespace ferry::image
