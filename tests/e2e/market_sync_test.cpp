// The chain of markets end to end: an upstream ("cloud") market, an internal market that lists
// and pulls from it, and an installation from the internal market that sees a new upstream
// revision as an update once it has been pulled.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "e2e/e2e_support.hpp"
#include "support/market_server.hpp"

namespace ferry::testing {
namespace {

using Json = nlohmann::json;

class MarketSync : public FerryTest {
  protected:
    MarketSync()
        : upstream_(FERRY_BINARY, root() / "upstream"),
          internal_(FERRY_BINARY, root() / "internal", {"--upstream", upstream_.url()}),
          upstream_token_(create_token(FERRY_BINARY, root() / "upstream")),
          internal_token_(create_token(FERRY_BINARY, root() / "internal")) {
        packages_ = root() / "packages";
        make_package(packages_, "com.acme.core", "1.0", {{"core.bin", random_bytes(40000, 1)}},
                     " <Default>true</Default>\n");
        make_package(packages_, "com.acme.tools", "1.0", {{"tools.txt", "tools 1.0"}},
                     " <Default>true</Default>\n");
    }

    void publish_upstream() {
        const CommandResult r =
            ferry({"publish", packages_.string(), "--server", upstream_.url(), "--token",
                   upstream_token_, "--app", "com.acme.suite", "--version", "3", "-q"});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
    }

    Json remote() {
        const CommandResult r = ferry({"market", "remote", "--server", internal_.url(), "--json"});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return Json::parse(r.out);
    }

    Json pull(const std::string& app) {
        const CommandResult r = ferry({"market", "pull", app, "--server", internal_.url(),
                                       "--token", internal_token_, "--json"});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return r.exit_code == 0 ? Json::parse(r.out) : Json{};
    }

    MarketServer upstream_;
    MarketServer internal_;
    std::string upstream_token_;
    std::string internal_token_;
    fs::path packages_;
};

TEST_F(MarketSync, PullCopiesAnAppAndACloudUpdateCarriesOnlyTheChangedComponent) {
    publish_upstream();
    Json listed = remote();
    ASSERT_EQ(listed.at("apps").size(), 1u) << listed.dump(2);
    EXPECT_EQ(listed["apps"][0]["key"], "com.acme.suite");
    EXPECT_FALSE(listed["apps"][0]["present"].get<bool>());
    EXPECT_EQ(listed["apps"][0]["majors"][0]["upstream_revision"], 1);
    EXPECT_EQ(listed["apps"][0]["majors"][0]["local_revision"], 0);

    const Json first = pull("com.acme.suite");
    EXPECT_EQ(first.at("state"), "success");
    const std::uint64_t first_bytes = first.at("done").get<std::uint64_t>();
    EXPECT_GT(first_bytes, 40000u);
    listed = remote();
    EXPECT_TRUE(listed["apps"][0]["present"].get<bool>());
    EXPECT_EQ(listed["apps"][0]["majors"][0]["local_revision"], 1);
    EXPECT_FALSE(listed["apps"][0]["majors"][0]["update_available"].get<bool>());

    // One-click install from the internal market: the app's newest major.
    const fs::path target = root() / "installation";
    CommandResult r = ferry({"install", "--market", internal_.url(), "com.acme.suite", "--root",
                             target.string(), "-q"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target / "tools.txt"), "tools 1.0");

    // A new revision upstream changes one component.
    make_package(packages_, "com.acme.tools", "1.1", {{"tools.txt", "tools 1.1"}},
                 " <Default>true</Default>\n");
    publish_upstream();
    listed = remote();
    EXPECT_EQ(listed["apps"][0]["majors"][0]["upstream_revision"], 2);
    EXPECT_TRUE(listed["apps"][0]["majors"][0]["update_available"].get<bool>());
    r = ferry({"check-updates", "--root", target.string(), "--json"});
    EXPECT_TRUE(Json::parse(r.out).at("updates").empty()) << "not pulled yet: " << r.out;

    const Json second = pull("com.acme.suite@3");
    EXPECT_EQ(second.at("state"), "success");
    EXPECT_LT(second.at("done").get<std::uint64_t>(), 40000u)
        << "only the changed component travels, not core's 40 kB";

    r = ferry({"check-updates", "--root", target.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const Json updates = Json::parse(r.out).at("updates");
    ASSERT_EQ(updates.size(), 1u) << r.out;
    EXPECT_EQ(updates[0]["name"], "com.acme.tools");
    EXPECT_EQ(updates[0]["new_version"], "1.1");
    r = ferry({"update", "--root", target.string(), "-q"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target / "tools.txt"), "tools 1.1");
    EXPECT_EQ(ferry({"verify", "--root", target.string(), "-q"}).exit_code, 0);
}

TEST_F(MarketSync, PullingSomethingUpstreamLacksFailsWithTheReason) {
    publish_upstream();
    const CommandResult r = ferry({"market", "pull", "com.acme.nothing", "--server",
                                   internal_.url(), "--token", internal_token_});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("no upstream market has the app \"com.acme.nothing\""), std::string::npos)
        << r.err;
    const CommandResult no_token =
        ferry({"market", "pull", "com.acme.suite", "--server", internal_.url()});
    EXPECT_EQ(no_token.exit_code, 1);
    EXPECT_NE(no_token.err.find("401"), std::string::npos) << no_token.err;
}

TEST_F(MarketSync, AMarketWithoutUpstreamsSaysSo) {
    const CommandResult r = ferry({"market", "pull", "com.acme.suite", "--server", upstream_.url(),
                                   "--token", upstream_token_});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no upstream market"), std::string::npos) << r.err;
}

TEST_F(MarketSync, TheAppsDescriptionIsThePublishersAndStaysUntilChanged) {
    CommandResult r = ferry({"publish", packages_.string(), "--server", upstream_.url(), "--token",
                             upstream_token_, "--app", "com.acme.suite", "--version", "3", "--name",
                             "Acme Suite", "--icon", "https://acme.example/icon.png",
                             "--export-formats", "rainbond-app,docker-compose", "-q"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    make_package(packages_, "com.acme.tools", "1.1", {{"tools.txt", "tools 1.1"}},
                 " <Default>true</Default>\n");
    publish_upstream();  // without --name, --icon or --export-formats
    r = ferry({"market", "remote", "--server", internal_.url(), "--json"});
    const Json app = Json::parse(r.out).at("apps").at(0);
    EXPECT_EQ(app["name"], "Acme Suite");
    EXPECT_EQ(app["icon"], "https://acme.example/icon.png");
    EXPECT_EQ(app["export_formats"], Json::array({"rainbond-app", "docker-compose"}));
    EXPECT_EQ(app["kind"], "app");
}

TEST_F(FerryTest, AStartingMarketDropsHalfWrittenUploadsButKeepsPullsToResume) {
    const fs::path data = root() / "data";
    { MarketServer first(FERRY_BINARY, data); }
    write_text(data / "uploads" / ".deadbeef.tmp-1", "half an upload");
    write_text(data / "uploads" / "pull-abc.part", "half a pull");
    MarketServer again(FERRY_BINARY, data);
    EXPECT_FALSE(fs::exists(data / "uploads" / ".deadbeef.tmp-1"));
    EXPECT_TRUE(fs::exists(data / "uploads" / "pull-abc.part"));
}

}  // namespace
}  // namespace ferry::testing
