// End-to-end, without Docker: service components through a market. Two apps sharing a 50 MB
// base layer grow the data directory by little more than one (and the second publish does not
// upload the layer again); an installation on a machine without Docker lays out the Compose
// project, says what to install, and --start fails with that message.
#include <sys/stat.h>

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/market_support.hpp"
#include "formats/compose.hpp"
#include "image/image.hpp"
#include "support/image_archives.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;

// Bytes the directory takes on disk, each file once however many hard links it has.
std::uint64_t disk_usage(const fs::path& dir) {
    std::set<std::pair<dev_t, ino_t>> seen;
    std::uint64_t bytes = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        struct stat st {};
        if (::lstat(entry.path().c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            seen.emplace(st.st_dev, st.st_ino).second) {
            bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
        }
    }
    return bytes;
}

class ServiceMarket : public Market {
  protected:
    // A packages tree of one service component whose image is the base layer and one of its own.
    fs::path service_packages(const std::string& name, const std::string& base_layer,
                              const std::string& own_content) {
        const fs::path packages = root() / ("packages-" + name);
        const std::string component = "com.test." + name;
        make_package(packages, component, "1.0", {}, " <Default>true</Default>\n");
        fs::create_directories(packages / component / "data");
        write_text(packages / component / "meta" / "service.yaml",
                   "image: ferry-test/" + name +
                       ":1\n"
                       "command: [/bin/busybox, httpd, -f, -p, '8080']\n"
                       "ports: [{container: 8080, publish: true}]\n"
                       "connection: {TOKEN: {generate: true}}\n");
        const std::string own = make_tar({{"app/" + name, own_content}});
        write_bytes(
            packages / component / "data" / "image.tar",
            make_tar(docker_save_entries({{{"ferry-test/" + name + ":1"}, {base_layer, own}}})));
        return packages;
    }

    CommandResult publish_app(const fs::path& packages, const std::string& app) {
        return ferry({"publish", packages.string(), "--server", server().url(), "--app", app,
                      "--version", "1", "--token", token_, "--json", "--no-cache"});
    }
};

TEST_F(ServiceMarket, TwoAppsSharingABaseLayerStoreItOnce) {
    start();
    const std::string base = make_tar({{"base/blob", random_bytes(50u << 20, 7)}});
    const std::uint64_t empty = disk_usage(data());
    const CommandResult first = publish_app(service_packages("one", base, "one"), "com.test.one");
    ASSERT_EQ(first.exit_code, 0) << describe(first);
    const std::uint64_t one = disk_usage(data()) - empty;
    const CommandResult second = publish_app(service_packages("two", base, "two"), "com.test.two");
    ASSERT_EQ(second.exit_code, 0) << describe(second);
    const std::uint64_t two = disk_usage(data()) - empty;
    EXPECT_GT(one, 50u << 20);
    EXPECT_LE(static_cast<double>(two), 1.05 * static_cast<double>(one))
        << "one app: " << one << " bytes, two: " << two;
    // The second publish sent only what the market lacked.
    const Json answer = Json::parse(second.out, nullptr, false);
    EXPECT_LT(answer.value("uploaded_bytes", std::uint64_t{0}), std::uint64_t{1} << 20)
        << second.out;
}

TEST_F(ServiceMarket, WithoutDockerTheProjectIsLaidOutAndStartSaysWhatToInstall) {
    start();
    const std::string base = make_tar({{"base/file", "base"}});
    ASSERT_EQ(publish_app(service_packages("web", base, "web"), "com.test.web").exit_code, 0);
    const fs::path target = root() / "target";
    const fs::path empty_path = root() / "no-programs";
    fs::create_directories(empty_path);
    const std::map<std::string, std::string> no_docker{{"PATH", empty_path.string()}};

    const CommandResult installed =
        ferry({"install", "--market", server().url(), "com.test.web", "--root", target.string()},
              no_docker);
    ASSERT_EQ(installed.exit_code, 0) << describe(installed);
    EXPECT_THAT(installed.err, HasSubstr("apt install docker.io docker-compose"));
    EXPECT_TRUE(fs::exists(target / "docker-compose.yaml"));
    EXPECT_TRUE(fs::exists(target / "services" / "com.test.web" / "service.json"));
    const auto env = formats::parse_env_file(read_text(target / ".env"));
    EXPECT_EQ(env.at("SECRET_COM_TEST_WEB_TOKEN").size(), 32u);
    EXPECT_EQ(env.at("COM_TEST_WEB_PORT_8080"), "8080");
    // Debian's docker-compose reads what ferry wrote (config needs no engine).
    const CommandResult config =
        run({"/usr/bin/docker-compose", "--project-directory", target.string(), "-f",
             (target / "docker-compose.yaml").string(), "config", "-q"});
    EXPECT_EQ(config.exit_code, 0) << describe(config);

    const CommandResult started =
        ferry({"install", "--root", target.string(), "--start"}, no_docker);
    EXPECT_EQ(started.exit_code, 1) << describe(started);
    EXPECT_THAT(started.err, HasSubstr("cannot start the services: Docker is not installed"));
    // The secret stays what it was.
    EXPECT_EQ(formats::parse_env_file(read_text(target / ".env")).at("SECRET_COM_TEST_WEB_TOKEN"),
              env.at("SECRET_COM_TEST_WEB_TOKEN"));
}

TEST_F(ServiceMarket, APullFromUpstreamFetchesOnlyTheLayersTheMarketLacks) {
    start();  // the upstream
    const std::string base = make_tar({{"base/blob", random_bytes(2u << 20, 11)}});
    for (const std::string name : {"one", "two"}) {
        const CommandResult published =
            publish_app(service_packages(name, base, name), "com.test." + name);
        ASSERT_EQ(published.exit_code, 0) << describe(published);
    }
    MarketServer internal(FERRY_BINARY, root() / "internal", {"--upstream", server().url()});
    const std::string token = testing::create_token(FERRY_BINARY, root() / "internal");
    auto pull = [&](const std::string& app) {
        const CommandResult r = ferry({"market", "pull", app, "--server", internal.url(),
                                       "--token", token, "--json"});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return r.exit_code == 0 ? Json::parse(r.out) : Json{};
    };
    const Json first = pull("com.test.one");
    EXPECT_EQ(first.value("state", ""), "success") << first.dump();
    EXPECT_GT(first.value("done", std::uint64_t{0}), base.size());
    const Json second = pull("com.test.two");
    EXPECT_EQ(second.value("state", ""), "success") << second.dump();
    EXPECT_LT(second.value("done", std::uint64_t{0}), base.size())
        << "the base layer the internal market holds already is not fetched again";
    // The pulled app is whole on the internal market: its registry serves both layers.
    const CommandResult manifest =
        run({"/usr/bin/curl", "-fsS", internal.url() + "/v2/com.test.two/com.test.two/manifests/1.0"});
    ASSERT_EQ(manifest.exit_code, 0) << describe(manifest);
    const Json layers = Json::parse(manifest.out).at("layers");
    ASSERT_EQ(layers.size(), 2u) << manifest.out;
    for (const Json& layer : layers) {
        const CommandResult blob =
            run({"/usr/bin/curl", "-fsS", "-o", "/dev/null", "-w", "%{size_download}",
                 internal.url() + "/v2/com.test.two/com.test.two/blobs/" +
                     layer.at("digest").get<std::string>()});
        EXPECT_EQ(blob.out, std::to_string(layer.at("size").get<std::uint64_t>()));
    }
}

TEST_F(ServiceMarket, ComposeExportFollowsThePublishersPolicy) {
    start();
    const std::string base = make_tar({{"base/file", "base"}});
    const fs::path packages = service_packages("web", base, "web");
    const CommandResult allowed =
        ferry({"publish", packages.string(), "--server", server().url(), "--app", "com.test.open",
               "--version", "1", "--token", token_, "--no-cache"});
    ASSERT_EQ(allowed.exit_code, 0) << describe(allowed);
    const CommandResult forbidden =
        ferry({"publish", packages.string(), "--server", server().url(), "--app", "com.test.closed",
               "--version", "1", "--token", token_, "--no-cache", "--export-formats", "bundle"});
    ASSERT_EQ(forbidden.exit_code, 0) << describe(forbidden);

    const CommandResult exported =
        ferry({"export", "com.test.open@1", "--server", server().url(), "--format", "compose", "-o",
               (root() / "open.tar.gz").string(), "--json"});
    ASSERT_EQ(exported.exit_code, 0) << describe(exported);
    const Json answer = Json::parse(exported.out, nullptr, false);
    EXPECT_EQ(answer.value("services", Json::array()), Json::array({"com.test.web"}));
    EXPECT_TRUE(fs::exists(root() / "open.tar.gz"));

    // A plain .tar is the same package without gzip; other names are refused before any work.
    const CommandResult plain =
        ferry({"export", "com.test.open@1", "--server", server().url(), "--format", "compose", "-o",
               (root() / "open.tar").string(), "--folder", "open"});
    ASSERT_EQ(plain.exit_code, 0) << describe(plain);
    EXPECT_EQ(read_text(root() / "open.tar").substr(257, 5), "ustar");
    const CommandResult listed = run({"/usr/bin/tar", "-tf", (root() / "open.tar").string()});
    EXPECT_THAT(listed.out, HasSubstr("open/images.tar\n"));
    EXPECT_THAT(listed.out, HasSubstr("open/docker-compose.yaml\n"));
    const CommandResult unpacked =
        run({"/usr/bin/tar", "-xf", (root() / "open.tar").string(), "-C", root().string()});
    ASSERT_EQ(unpacked.exit_code, 0) << describe(unpacked);
    core::ScratchDir blobs_dir;
    const auto images = image::unpack_image_archive(root() / "open/images.tar",
                                                    image::BlobDir(blobs_dir.path() / "blobs"));
    ASSERT_EQ(images.size(), 1u);
    EXPECT_EQ(images[0].references, std::vector<std::string>{"com.test.web:1.0"});
    const CommandResult zip =
        ferry({"export", "com.test.open@1", "--server", server().url(), "--format", "compose", "-o",
               (root() / "open.zip").string()});
    EXPECT_EQ(zip.exit_code, 2) << describe(zip);
    EXPECT_THAT(zip.err, HasSubstr("a package's name ends in .tar.gz, .tgz or .tar"));

    const CommandResult refused =
        ferry({"export", "com.test.closed", "--server", server().url(), "--format", "compose", "-o",
               (root() / "closed.tar.gz").string()});
    EXPECT_EQ(refused.exit_code, 1) << describe(refused);
    EXPECT_THAT(refused.err,
                HasSubstr("the publisher of com.test.closed does not allow docker-compose export"));
    EXPECT_FALSE(fs::exists(root() / "closed.tar.gz"));
}

}  // namespace
}  // namespace ferry::testing
