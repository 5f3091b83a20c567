// `ferry import` of Rainbond packages, end to end: the real binary imports into a data directory
// and into a running market, `ferry serve` serves the app, `ferry install` lays out its Compose
// project and `ferry export` writes its compose package.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "archive/archive.hpp"

#include "e2e/e2e_support.hpp"
#include "support/market_server.hpp"
#include "support/rainbond_packages.hpp"

namespace ferry::testing {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kKey = "3c5a9d7e0b1f4e2a8d6c4b2a0f9e8d7c";

class ImportTest : public FerryTest {
  protected:
    fs::path package() const {
        const fs::path file = root() / "shop-1.0-ram.tar.gz";
        if (!fs::exists(file)) {
            write_ram_package(file, rainbond_metadata(), rainbond_images());
        }
        return file;
    }
    fs::path data() const { return root() / "data"; }
};

TEST_F(ImportTest, IntoADataDirectoryThenServedInstalledAndExported) {
    CommandResult r = ferry({"import", package().string(), "--data", data().string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const Json record = Json::parse(r.out);
    EXPECT_EQ(record.at("result"), "success");
    const Json first = record.at("files").at(0);
    EXPECT_EQ(first.at("state"), "success");
    EXPECT_EQ(first.at("kind"), "rainbond-app");
    EXPECT_EQ(first.at("layout"), "ram.tar.gz");
    EXPECT_EQ(first.at("apps").at(0).at("key"), kKey);
    EXPECT_EQ(first.at("apps").at(0).at("major"), "1.0");
    EXPECT_FALSE(first.at("apps").at(0).at("unchanged").get<bool>());
    EXPECT_EQ(first.at("apps").at(0).at("components").size(), 3u);

    // The same file again: a no-op success.
    r = ferry({"import", package().string(), "--data", data().string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("unchanged, this market has it as revision 1"));

    MarketServer server(FERRY_BINARY, data());
    const fs::path target = root() / "installation";
    // No Docker daemon answers there: the install lays the project out and says so.
    r = ferry({"install", "--market", server.url(), kKey, "--root", target.string()},
              {{"DOCKER_HOST", "unix://" + (root() / "no-docker.sock").string()}});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("the Compose project is laid out in"));
    const std::string compose = read_text(target / "docker-compose.yaml");
    EXPECT_THAT(compose, HasSubstr("web-shop"));
    EXPECT_THAT(compose, HasSubstr("svc-8f2b1c0d9e8f"));
    EXPECT_THAT(compose, HasSubstr("8080"));

    const fs::path exported = root() / "shop.compose.tar.gz";
    r = ferry(
        {"export", kKey, "--server", server.url(), "--format", "compose", "-o", exported.string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    std::string listing;
    for (const auto& entry : archive::list_archive(exported)) {
        listing += entry.path + "\n";
    }
    EXPECT_THAT(listing, HasSubstr("/docker-compose.yaml"));
    EXPECT_THAT(listing, HasSubstr("/images.tar"));
    EXPECT_THAT(listing, HasSubstr("/run.sh"));
}

TEST_F(ImportTest, ThroughARunningMarket) {
    fs::create_directories(data());
    const std::string token = create_token(FERRY_BINARY, data());
    MarketServer server(FERRY_BINARY, data());
    const fs::path zip = root() / "shop.zip";
    write_zip_package(zip, rainbond_metadata("2.0"), rainbond_images());
    CommandResult r = ferry({"import", zip.string(), "--server", server.url(), "--token", token});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("@2.0"));
    EXPECT_THAT(r.err, HasSubstr("as revision 1"));
    r = ferry({"import", zip.string(), "--server", server.url(), "--token", token});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("unchanged"));
    httplib::Client api("127.0.0.1", server.port());
    const auto app = api.Get(std::string("/api/v1/apps/") + kKey);
    ASSERT_TRUE(app && app->status == 200);
    EXPECT_EQ(Json::parse(app->body).at("source"), "imported");

    // Its data directory is the running server's.
    r = ferry({"import", package().string(), "--data", data().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("a running market imports through --server URL --token T"));

    // Without a token the market refuses; nothing is published.
    r = ferry({"import", package().string(), "--server", server.url()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
}

TEST_F(ImportTest, RefusalsAndUsage) {
    write_text(root() / "notes.txt", "not a package");
    CommandResult r = ferry({"import", (root() / "notes.txt").string(), "--data", data().string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("neither a ferry bundle nor a Rainbond package"));

    Json metadata = rainbond_metadata();
    metadata["apps"][2]["probes"] = "none";
    const fs::path bad = root() / "bad-1.0-ram.tar.gz";
    write_ram_package(bad, metadata, rainbond_images());
    r = ferry({"import", bad.string(), "--data", data().string(), "--json"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.out, HasSubstr("apps[2].probes: expected a list, found a string"));
    EXPECT_FALSE(fs::exists(data() / "repo" / kKey)) << "nothing of a refused package is stored";

    r = ferry({"import", package().string()});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    r = ferry({"import", "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("--data"));
}

}  // namespace
}  // namespace ferry::testing
