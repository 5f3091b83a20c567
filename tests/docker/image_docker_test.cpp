// Images through a real Docker engine: what `docker save` writes, ferry reads; what ferry writes,
// `docker load` takes, and the container it makes serves a page.
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/process.hpp"
#include "image/image.hpp"
#include "support/docker_engine.hpp"
#include "support/image_archives.hpp"
#include "support/test_support.hpp"

namespace ferry::image {
namespace {

using testing::docker;
using ::testing::HasSubstr;
using testing::kDockerClient;

const std::vector<std::string> kHttpd = {"/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www"};

// Writes images into `docker load` through a pipe, as the client does; returns what docker load
// printed.
testing::CommandResult docker_load(const std::vector<TaggedImage>& images, const BlobDir& blobs) {
    const core::ProcessResult loaded = core::run_process(
        {kDockerClient, "-H", testing::docker_host(), "load"},
        [&](int fd) { write_docker_archive(images, blobs, fd); });
    return {loaded.exit_code, loaded.output, ""};
}

// GETs the page from a container's published port until it answers (a fresh container takes a
// moment to listen).
std::string fetch(const std::string& url) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (true) {
        const testing::CommandResult got =
            testing::run({"/usr/bin/curl", "-fsS", "--max-time", "5", url});
        if (got.exit_code == 0 || std::chrono::steady_clock::now() > deadline) {
            EXPECT_EQ(got.exit_code, 0) << got.err;
            return got.out;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

std::string docker_ok(const std::vector<std::string>& args) {
    const testing::CommandResult result = docker(args);
    EXPECT_EQ(result.exit_code, 0)
        << "docker " << ::testing::PrintToString(args) << ": " << result.err;
    return result.out;
}

class ImageDockerTest : public ::testing::Test {
  protected:
    void TearDown() override {
        for (const std::string& container : containers_) {
            docker({"rm", "-f", container});
        }
        for (const std::string& image : images_) {
            docker({"rmi", "-f", image});
        }
    }
    std::string image(const std::string& reference) {
        images_.push_back(reference);
        return reference;
    }
    fs::path docker_save(const std::vector<std::string>& references) {
        const fs::path out = dir_.path() / "saved.tar";
        std::vector<std::string> args = {"save", "-o", out.string()};
        args.insert(args.end(), references.begin(), references.end());
        docker_ok(args);
        return out;
    }
    // Runs the image's httpd with port 80 published on 127.0.0.1; returns the page's URL base.
    std::string serve(const std::string& reference, const std::string& name) {
        containers_.push_back(name);
        docker_ok({"run", "-d", "--name", name, "--network", testing::kDockerNetwork, "-p",
                   "127.0.0.1::80", reference});
        const std::string port = docker_ok({"port", name, "80/tcp"});
        EXPECT_THAT(port, HasSubstr("127.0.0.1:"));
        return "http://" + port.substr(0, port.find_first_of("\r\n")) + "/";
    }

    core::ScratchDir dir_;
    BlobDir blobs_{dir_.path() / "blobs"};
    std::vector<std::string> containers_;
    std::vector<std::string> images_;
};

TEST_F(ImageDockerTest, SavedImageUnpacksLoadsUnderANewTagAndServes) {
    const std::string web = image("ferry-test/web:1");
    testing::build_busybox_image(web, {{"www/index.html", "hello from ferry\n"}}, kHttpd);
    const std::vector<Image> images = unpack_image_archive(docker_save({web}), blobs_);
    ASSERT_EQ(images.size(), 1u);
    EXPECT_EQ(images[0].references, std::vector<std::string>{web});
    ASSERT_EQ(images[0].layers.size(), 1u);
    EXPECT_EQ(images[0].layers[0].media_type, "application/vnd.docker.image.rootfs.diff.tar");
    // The config is docker's own: its digest is the image's id.
    EXPECT_EQ(docker_ok({"image", "inspect", "--format", "{{.Id}}", web}),
              images[0].config.digest + "\n");

    const std::string loaded = image("ferry-test/loaded:2");
    const testing::CommandResult load = docker_load({{images[0], loaded}}, blobs_);
    EXPECT_EQ(load.exit_code, 0) << load.out;
    EXPECT_THAT(load.out, HasSubstr("Loaded image: " + loaded));
    EXPECT_EQ(fetch(serve(loaded, "ferry-test-web") + "index.html"), "hello from ferry\n");
}

TEST_F(ImageDockerTest, GzipLayersLoadAsTheyAreStored) {
    const std::string web = image("ferry-test/gzip-source:1");
    testing::build_busybox_image(web, {{"www/index.html", "compressed\n"}}, kHttpd);
    const Image saved = unpack_image_archive(docker_save({web}), blobs_).at(0);
    // The same layer in an OCI layout, gzip-compressed.
    const std::string layer = testing::read_text(blobs_.path(saved.layers[0].digest));
    const fs::path oci = dir_.path() / "oci.tar";
    testing::write_bytes(
        oci,
        testing::make_tar(testing::oci_layout_entries({{"ferry-test/gzip:1", {{layer, true}}}})));
    const Image compressed = unpack_image_archive(oci, blobs_).at(0);
    EXPECT_EQ(compressed.layers[0].media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");
    EXPECT_LT(compressed.layers[0].size, saved.layers[0].size);

    const std::string loaded = image("ferry-test/gzip-loaded:1");
    const testing::CommandResult load = docker_load({{compressed, loaded}}, blobs_);
    EXPECT_EQ(load.exit_code, 0) << load.out;
    EXPECT_EQ(docker_ok({"run", "--rm", "--network", "none", loaded, "/bin/busybox", "cat",
                         "/www/index.html"}),
              "compressed\n");
}

// skopeo, an outside witness, writes an OCI image layout with gzip layers.
TEST_F(ImageDockerTest, SkopeoOciArchiveUnpacksAndLoads) {
    const std::string web = image("ferry-test/skopeo-source:1");
    testing::build_busybox_image(web, {{"www/index.html", "from skopeo\n"}}, kHttpd);
    const fs::path oci = dir_.path() / "oci.tar";
    const testing::CommandResult copied =
        testing::run({"/usr/bin/skopeo", "copy", "--insecure-policy", "--src-daemon-host",
                      testing::docker_host(), "docker-daemon:" + web,
                      "oci-archive:" + oci.string() + ":example/web:1.0"});
    ASSERT_EQ(copied.exit_code, 0) << copied.err;
    const std::vector<Image> images = unpack_image_archive(oci, blobs_);
    ASSERT_EQ(images.size(), 1u);
    EXPECT_EQ(images[0].references, std::vector<std::string>{"example/web:1.0"});
    ASSERT_EQ(images[0].layers.size(), 1u);
    EXPECT_EQ(images[0].layers[0].media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");

    const std::string loaded = image("ferry-test/skopeo-loaded:1");
    const testing::CommandResult load = docker_load({{images[0], loaded}}, blobs_);
    EXPECT_EQ(load.exit_code, 0) << load.out;
    EXPECT_EQ(fetch(serve(loaded, "ferry-test-skopeo") + "index.html"), "from skopeo\n");
}

TEST_F(ImageDockerTest, TwoSavedImagesSharingALayerStoreItOnce) {
    const std::string base = image("ferry-test/base:1");
    testing::build_busybox_image(base, {{"www/index.html", "base\n"}}, kHttpd);
    // A second image on top of the first (docker's classic builder: nothing is pulled).
    const fs::path context = dir_.path() / "context";
    testing::write_text(context / "Dockerfile", "FROM " + base + "\nCOPY api.txt /www/api.txt\n");
    testing::write_text(context / "api.txt", "api\n");
    const std::string api = image("ferry-test/api:1");
    docker_ok({"build", "-q", "-t", api, context.string()});

    const std::vector<Image> images = unpack_image_archive(docker_save({base, api}), blobs_);
    ASSERT_EQ(images.size(), 2u);
    const Image& b = images[0].references[0] == base ? images[0] : images[1];
    const Image& a = images[0].references[0] == api ? images[0] : images[1];
    ASSERT_EQ(b.layers.size(), 1u);
    ASSERT_EQ(a.layers.size(), 2u);
    EXPECT_EQ(a.layers[0], b.layers[0]);
    std::set<std::string> files;
    for (const auto& entry : fs::directory_iterator(blobs_.root() / "sha256")) {
        files.insert("sha256:" + entry.path().filename().string());
    }
    EXPECT_EQ(files, (std::set<std::string>{b.config.digest, a.config.digest, b.layers[0].digest,
                                            a.layers[1].digest}));

    // Both go back into one docker load, the shared layer once.
    const std::string b2 = image("ferry-test/base-again:1");
    const std::string a2 = image("ferry-test/api-again:1");
    const testing::CommandResult load = docker_load({{b, b2}, {a, a2}}, blobs_);
    EXPECT_EQ(load.exit_code, 0) << load.out;
    EXPECT_EQ(fetch(serve(a2, "ferry-test-api") + "api.txt"), "api\n");
}

}  // namespace
}  // namespace ferry::image
