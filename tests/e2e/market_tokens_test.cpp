// End-to-end: a market's tokens listed (never their secrets) and revoked, from the command line
// on the data directory and through the API with an admin token; a revoked token is refused by
// the running server at once. And the health check, open on a private market for monitoring.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/market_support.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// "ferry_<id>_<secret>" -> id.
std::string id_of(const std::string& token) {
    const auto start = std::string("ferry_").size();
    return token.substr(start, token.find('_', start) - start);
}

class MarketTokens : public Market {
  protected:
    Json listed() const {
        const CommandResult r = ferry({"token", "list", "--data", data().string(), "--json"});
        EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
        return Json::parse(r.out, nullptr, false).value("tokens", Json::array());
    }
    static const Json* find(const Json& tokens, const std::string& id) {
        for (const Json& token : tokens) {
            if (token.value("id", "") == id) {
                return &token;
            }
        }
        return nullptr;
    }
    // A request that needs a publish token.
    Answer write_with(const std::string& token) const {
        return request("POST", "/api/v1/blobs/missing", R"({"blobs": []})", token);
    }
};

TEST_F(MarketTokens, TheCommandLineListsWithoutSecretsAndRevokesAtOnce) {
    start();
    const std::string admin = create_token("admin");
    const CommandResult list = ferry({"token", "list", "--data", data().string(), "--json"});
    ASSERT_EQ(list.exit_code, 0) << testing::describe(list);
    for (const std::string& secret : {token_, admin}) {
        EXPECT_THAT(list.out, Not(HasSubstr(secret.substr(18)))) << "a secret was listed";
        EXPECT_THAT(list.out, Not(HasSubstr(sha256_of(secret)))) << "a secret's hash was listed";
    }
    Json tokens = Json::parse(list.out).at("tokens");
    ASSERT_EQ(tokens.size(), 2u) << tokens;
    const Json* publisher = find(tokens, id_of(token_));
    ASSERT_NE(publisher, nullptr) << tokens;
    EXPECT_EQ(publisher->value("role", ""), "publish");
    EXPECT_THAT(publisher->value("created_at", ""), ::testing::MatchesRegex("20..-..-..T.*Z"));
    EXPECT_TRUE(publisher->at("last_used_at").is_null()) << *publisher;
    ASSERT_NE(find(tokens, id_of(admin)), nullptr) << tokens;
    EXPECT_EQ(find(tokens, id_of(admin))->value("role", ""), "admin");

    // A use is recorded.
    EXPECT_EQ(write_with(token_).status, 200);
    tokens = listed();
    ASSERT_NE(find(tokens, id_of(token_)), nullptr);
    EXPECT_TRUE(find(tokens, id_of(token_))->at("last_used_at").is_string()) << tokens;
    EXPECT_TRUE(find(tokens, id_of(admin))->at("last_used_at").is_null()) << tokens;
    const CommandResult table = ferry({"token", "list", "--data", data().string()});
    EXPECT_THAT(table.out, HasSubstr(id_of(admin)));
    EXPECT_THAT(table.out, HasSubstr("never"));

    // Revoked while the server runs: the next request with it is refused.
    const CommandResult revoked =
        ferry({"token", "revoke", id_of(token_), "--data", data().string()});
    ASSERT_EQ(revoked.exit_code, 0) << testing::describe(revoked);
    expect_error(write_with(token_), 401, "not valid");
    EXPECT_EQ(find(listed(), id_of(token_)), nullptr);
    const CommandResult again =
        ferry({"token", "revoke", id_of(token_), "--data", data().string()});
    EXPECT_EQ(again.exit_code, 1) << testing::describe(again);
    EXPECT_THAT(again.err, HasSubstr("no token \"" + id_of(token_) + "\""));
}

TEST_F(MarketTokens, TheTableShowsADescriptionsControlCharactersAsReplacements) {
    // A description that would set the terminal's title and colour if it were printed raw (an
    // admin's API request sets descriptions as well as the command line).
    const std::string description = "CI \x1b]0;owned\x07 \x1b[31mred";
    const CommandResult created =
        ferry({"token", "create", "--data", data().string(), "--description", description});
    ASSERT_EQ(created.exit_code, 0) << testing::describe(created);
    const CommandResult table = ferry({"token", "list", "--data", data().string()});
    ASSERT_EQ(table.exit_code, 0) << testing::describe(table);
    EXPECT_THAT(table.out, HasSubstr("CI \xEF\xBF\xBD]0;owned\xEF\xBF\xBD \xEF\xBF\xBD[31mred"))
        << table.out;
    EXPECT_EQ(table.out.find('\x1b'), std::string::npos) << "an escape sequence was printed raw";
    EXPECT_EQ(table.out.find('\x07'), std::string::npos) << "a bell was printed raw";
    // The JSON answer keeps the description as it is, escaped by JSON.
    const CommandResult json = ferry({"token", "list", "--data", data().string(), "--json"});
    EXPECT_THAT(json.out, HasSubstr("\\u001b]0;owned")) << json.out;
}

TEST_F(MarketTokens, AdminsListCreateAndRevokeThroughTheApi) {
    start();
    const std::string admin = create_token("admin");
    expect_error(get("/api/v1/tokens", token_), 403, "admin");
    expect_error(get("/api/v1/tokens"), 401, "needs a token");
    const Answer list = get("/api/v1/tokens", admin);
    ASSERT_EQ(list.status, 200) << describe(list);
    EXPECT_EQ(list.json().at("tokens").size(), 2u) << list.body;
    EXPECT_THAT(list.body, Not(HasSubstr(token_.substr(18))));

    const Answer created =
        request("POST", "/api/v1/tokens", R"({"role": "publish", "description": "CI"})", admin);
    ASSERT_EQ(created.status, 201) << describe(created);
    const std::string secret = created.json().value("token", "");
    ASSERT_THAT(secret, ::testing::StartsWith("ferry_"));
    EXPECT_EQ(created.json().value("description", ""), "CI");
    EXPECT_EQ(write_with(secret).status, 200);

    const Answer revoked =
        request("DELETE", "/api/v1/tokens/" + created.json().value("id", ""), "", admin);
    EXPECT_EQ(revoked.status, 200) << describe(revoked);
    expect_error(write_with(secret), 401, "not valid");
    expect_error(request("DELETE", "/api/v1/tokens/" + id_of(token_), "", token_), 403, "admin");
    expect_error(request("DELETE", "/api/v1/tokens/nosuchtoken", "", admin), 404, "nosuchtoken");
    EXPECT_EQ(write_with(token_).status, 200) << "another token was revoked";
}

TEST_F(MarketTokens, HealthStaysOpenOnAPrivateMarket) {
    start({"--private"});
    const Answer health = get("/api/v1/health");
    EXPECT_EQ(health.status, 200) << describe(health);
    EXPECT_EQ(health.json().value("status", ""), "ok");
    expect_error(get("/api/v1/apps"), 401, "private");
    EXPECT_EQ(get("/api/v1/apps", token_).status, 200);
}

}  // namespace
}  // namespace ferry::testing
