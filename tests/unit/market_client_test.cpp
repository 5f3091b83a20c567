// `ferry publish` as a library call against a market running in-process: a first publish, --bump
// on a new app, a new major and a changed component, and names the market would refuse stopped
// before anything is built or sent.
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "core/file_lock.hpp"
#include "core/files.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/market_client.hpp"
#include "market/publish_build.hpp"
#include "market/publisher.hpp"
#include "market/tokens.hpp"
#include "server/http_server.hpp"
#include "server/market_api.hpp"
#include "support/test_support.hpp"

namespace ferry::market {
namespace {

using ::testing::HasSubstr;

class MarketClientTest : public ::testing::Test {
  protected:
    MarketClientTest() {
        api_.install(*server_);
        runner_ = std::thread([this] { server_->run(); });
    }
    ~MarketClientTest() override {
        server_->stop();
        runner_.join();
    }

    // com.test.NAME at version with one file holding content, replacing an earlier one.
    void package(const std::string& name, const std::string& version, const std::string& content) {
        const fs::path dir = packages_ / ("com.test." + name);
        fs::remove_all(dir);
        testing::write_text(dir / "meta" / "package.xml",
                            "<?xml version=\"1.0\"?>\n<Package>\n <DisplayName>" + name +
                                "</DisplayName>\n <Description>test</Description>\n"
                                " <!-- raised by --bump: -->\n <Version>" +
                                version +
                                "</Version>\n <ReleaseDate>2026-01-01</ReleaseDate>\n"
                                " <Default>true</Default>\n</Package>\n");
        testing::write_text(dir / "data" / (name + ".txt"), content);
    }

    PublishOutcome publish(const std::string& major, bool bump = false) {
        PublishJob job;
        job.source = packages_;
        job.app_key = "com.test.app";
        job.major = major;
        job.bump = bump;
        job.use_cache = false;
        PublishEvents events;
        events.say = [this](const std::string& line) { said_.push_back(line); };
        return publish_to_market(client_, job, events);
    }

    // name -> version of app@major's latest revision in the catalog.
    std::map<std::string, std::string> versions(const std::string& major) {
        std::map<std::string, std::string> result;
        const auto found = catalog_->find_major("com.test.app", major);
        const auto revision =
            found ? catalog_->find_revision("com.test.app", major, found->latest_revision)
                  : std::nullopt;
        for (const auto& c : revision ? revision->components : std::vector<RevisionComponent>{}) {
            result[c.name] = c.version;
        }
        return result;
    }

    core::ScratchDir scratch_;
    fs::path packages_ = scratch_.path() / "packages";
    DataDir data_{scratch_.path() / "data"};
    std::unique_ptr<Catalog> catalog_ = open_sqlite_catalog(data_.catalog_file());
    Publisher publisher_{data_, *catalog_};
    std::unique_ptr<server::HttpServer> server_ =
        std::make_unique<server::HttpServer>(server::ServerOptions{});
    server::MarketApi api_{data_, *catalog_, publisher_, nullptr, {}};
    std::thread runner_;
    std::string token_ = create_token(*catalog_, Token::Role::publish, "test").secret;
    MarketClient client_{server_->url(), token_};
    std::vector<std::string> said_;
};

TEST_F(MarketClientTest, AFirstPublishUploadsEveryFileAndARepublishNone) {
    package("a", "1.0", "a 1.0");
    const PublishOutcome first = publish("1");
    EXPECT_EQ(first.answer.at("revision"), 1);
    EXPECT_GT(first.uploaded_files, 0u);
    EXPECT_EQ(versions("1"), (std::map<std::string, std::string>{{"com.test.a", "1.0"}}));
    const PublishOutcome again = publish("1");
    EXPECT_TRUE(again.answer.at("unchanged").get<bool>());
    EXPECT_EQ(again.uploaded_files, 0u);
}

TEST_F(MarketClientTest, BumpPublishesANewAppAndANewMajorAsTheyAre) {
    package("a", "1.0", "a 1.0");
    EXPECT_EQ(publish("1", true).answer.at("revision"), 1);
    package("a", "1.0", "a 1.0, for major 2");
    EXPECT_EQ(publish("2", true).answer.at("revision"), 1);
    EXPECT_EQ(versions("2"), (std::map<std::string, std::string>{{"com.test.a", "1.0"}}));
    EXPECT_THAT(said_, ::testing::Each(::testing::Not(HasSubstr("--bump"))));
}

TEST_F(MarketClientTest, BumpRaisesOnlyTheChangedComponentAndLeavesThePackagesAlone) {
    package("a", "1.0", "a 1.0");
    package("b", "2.9", "b 2.9");
    publish("1");
    package("b", "2.9", "b 2.9, changed");
    const std::string package_xml = testing::read_text(packages_ / "com.test.b/meta/package.xml");
    const PublishOutcome bumped = publish("1", true);
    EXPECT_EQ(bumped.answer.at("revision"), 2);
    EXPECT_EQ(bumped.answer.at("changed"), nlohmann::json::array({"com.test.b"}));
    EXPECT_EQ(versions("1"),
              (std::map<std::string, std::string>{{"com.test.a", "1.0"}, {"com.test.b", "2.10"}}));
    EXPECT_THAT(said_, ::testing::Contains("--bump: com.test.b becomes 2.10"));
    EXPECT_EQ(testing::read_text(packages_ / "com.test.b/meta/package.xml"), package_xml);
}

TEST_F(MarketClientTest, WithoutBumpAChangedComponentIsRefusedByTheMarket) {
    package("a", "1.0", "a 1.0");
    publish("1");
    package("a", "1.0", "a 1.0, changed");
    EXPECT_THAT(
        testing::error_of([&] { publish("1"); }),
        ::testing::AllOf(HasSubstr("com.test.a (published 1.0, now 1.0)"), HasSubstr("--bump")));
}

// The names are checked before the source is even looked at: a missing packages directory and
// a market nobody listens on are not what the user is told about.
TEST_F(MarketClientTest, AKeyOrMajorTheMarketWouldRefuseStopsBeforeAnythingIsBuilt) {
    MarketClient nowhere("http://127.0.0.1:1", "");
    const std::pair<std::string, std::string> cases[] = {
        {"1/2", "major version \"1/2\" contains '/'"},
        {"..", "major version \"..\" starts with '.'"},
        {"", "major version \"\" is empty"},
        {"1 0", "major version \"1 0\" contains ' '"},
        {std::string(200, '7'), "major version is 200 characters long (at most 128)"},
    };
    for (const auto& [major, message] : cases) {
        PublishJob job;
        job.source = scratch_.path() / "no such packages";
        job.app_key = "com.test.app";
        job.major = major;
        EXPECT_EQ(
            testing::error_of([&] { publish_to_market(nowhere, job); }).substr(0, message.size()),
            message);
    }
    PublishJob job;
    job.source = packages_;
    job.app_key = "com/test";
    job.major = "1";
    EXPECT_THAT(testing::error_of([&] { publish_to_market(nowhere, job); }),
                HasSubstr("app key \"com/test\" contains '/'"));
}

// The cache of a packages tree is held through core::FileLock: a second publish of the tree
// finds it taken and can say by whom.
TEST(BuildCache, IsLockedWhileItIsUsedAndNamesItsHolder) {
    core::ScratchDir scratch;
    fs::create_directories(scratch.path() / "packages");
    std::string holder;
    fs::path lock_file;
    {
        const BuildCache cache(scratch.path() / "cache", scratch.path() / "packages");
        ASSERT_TRUE(cache.enabled());
        lock_file = cache.repository().parent_path() / "lock";
        EXPECT_FALSE(core::FileLock::try_lock(lock_file, holder).has_value());
        EXPECT_EQ(holder, std::to_string(::getpid()));
    }
    EXPECT_TRUE(core::FileLock::try_lock(lock_file, holder).has_value()) << "released with it";
}

}  // namespace
}  // namespace ferry::market
