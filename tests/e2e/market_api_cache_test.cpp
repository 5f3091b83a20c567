// End-to-end: the read API's answers are kept while the catalog is unchanged. Whatever changes
// the catalog (a publish, a new revision, another program writing the database) must show in
// the very next answer, and a client holding an answer's ETag gets 304 until then.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "e2e/e2e_support.hpp"
#include "support/market_server.hpp"

namespace ferry::testing {
namespace {

using Json = nlohmann::json;

class MarketApiCache : public FerryTest {
  protected:
    MarketApiCache()
        : market_(FERRY_BINARY, root() / "data"),
          token_(create_token(FERRY_BINARY, root() / "data")),
          client_("127.0.0.1", market_.port()) {
        make_package(root() / "packages", "com.acme.core", "1.0", {{"core.txt", "core 1.0"}},
                     " <Default>true</Default>\n");
    }

    void publish(const std::string& app, const std::string& version) {
        const CommandResult r =
            ferry({"publish", (root() / "packages").string(), "--server", market_.url(), "--token",
                   token_, "--app", app, "--version", version, "-q"});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
    }

    httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) {
        auto res = client_.Get(path, headers);
        EXPECT_TRUE(res) << path;
        return res;
    }

    Json get_json(const std::string& path) {
        auto res = get(path);
        EXPECT_EQ(res ? res->status : 0, 200) << path;
        return res ? Json::parse(res->body, nullptr, false) : Json{};
    }

    MarketServer market_;
    std::string token_;
    httplib::Client client_;
};

TEST_F(MarketApiCache, APublishShowsInTheNextAnswer) {
    EXPECT_EQ(get_json("/api/v1/apps").at("total"), 0);
    EXPECT_EQ(get("/api/v1/apps/com.acme.suite")->status, 404);

    publish("com.acme.suite", "1");
    Json apps = get_json("/api/v1/apps");
    ASSERT_EQ(apps.at("total"), 1) << apps.dump(2);
    EXPECT_EQ(apps.at("apps").at(0).at("key"), "com.acme.suite");
    EXPECT_EQ(get_json("/api/v1/apps/com.acme.suite/versions/1").at("revision"), 1);

    make_package(root() / "packages", "com.acme.core", "1.1", {{"core.txt", "core 1.1"}},
                 " <Default>true</Default>\n");
    publish("com.acme.suite", "1");
    EXPECT_EQ(get_json("/api/v1/apps/com.acme.suite/versions/1").at("revision"), 2);
    EXPECT_EQ(get_json("/api/v1/apps/com.acme.suite").at("majors").at(0).at("latest_revision"), 2);
}

TEST_F(MarketApiCache, AnETagAnswers304UntilTheCatalogChanges) {
    publish("com.acme.suite", "1");
    auto first = get("/api/v1/apps?limit=10");
    ASSERT_EQ(first->status, 200);
    const std::string etag = first->get_header_value("ETag");
    ASSERT_FALSE(etag.empty());

    auto again = get("/api/v1/apps?limit=10", {{"If-None-Match", etag}});
    EXPECT_EQ(again->status, 304);
    EXPECT_TRUE(again->body.empty());
    // Another query is another answer with its own tag.
    auto other = get("/api/v1/apps?limit=5", {{"If-None-Match", etag}});
    EXPECT_EQ(other->status, 200);

    publish("com.acme.other", "1");
    auto changed = get("/api/v1/apps?limit=10", {{"If-None-Match", etag}});
    ASSERT_EQ(changed->status, 200);
    EXPECT_NE(changed->get_header_value("ETag"), etag);
    EXPECT_EQ(Json::parse(changed->body).at("total"), 2);
}

// An operator editing the catalog with the sqlite3 tool while the market runs: the market's
// next answer has the edit.
TEST_F(MarketApiCache, AChangeByAnotherProgramShowsInTheNextAnswer) {
    publish("com.acme.suite", "1");
    EXPECT_EQ(get_json("/api/v1/apps").at("apps").at(0).at("name"), "com.acme.suite");

    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((root() / "data" / "catalog.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE apps SET name = 'Acme Suite' WHERE key = 'com.acme.suite'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);

    EXPECT_EQ(get_json("/api/v1/apps").at("apps").at(0).at("name"), "Acme Suite");
    EXPECT_EQ(get_json("/api/v1/apps/com.acme.suite").at("name"), "Acme Suite");
}

}  // namespace
}  // namespace ferry::testing
