// End-to-end: what `ferry publish` refuses before it builds or sends anything (app keys and
// majors the market could not take), and --bump where the market has nothing to compare with
// yet (a new app, a new major).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/market_support.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST_F(Market, ANameTheMarketCouldNotTakeIsAUsageErrorBeforeAnythingIsBuiltOrSent) {
    start();
    write_three(packages());
    const std::pair<std::string, std::string> majors[] = {
        {"1/2", "major version \"1/2\" contains '/'"},
        {"..", "major version \"..\" starts with '.'"},
        {"", "major version \"\" is empty"},
        {"1 0", "major version \"1 0\" contains ' '"},
        {std::string(200, '1'), "major version is 200 characters long (at most 128)"},
    };
    for (const auto& [major, says] : majors) {
        const CommandResult r = publish(packages(), major);
        EXPECT_EQ(r.exit_code, 2) << testing::describe(r);
        EXPECT_THAT(r.err, HasSubstr(says)) << testing::describe(r);
        EXPECT_THAT(r.err, Not(HasSubstr("404"))) << testing::describe(r);
        EXPECT_THAT(r.err, Not(HasSubstr("URL"))) << testing::describe(r);
    }
    const CommandResult key = ferry({"publish", packages().string(), "--server", server().url(),
                                     "--app", "com/test", "--version", "1", "--token", token_});
    EXPECT_EQ(key.exit_code, 2) << testing::describe(key);
    EXPECT_THAT(key.err, HasSubstr("app key \"com/test\" contains '/'"));

    EXPECT_FALSE(fs::exists(root() / "cache" / "publish")) << "a build was made";
    // The request log: "<address> <method> <path> <status> ...".
    EXPECT_THAT(server().log(), Not(HasSubstr(" GET /api/"))) << "a request was sent";
    EXPECT_THAT(server().log(), Not(HasSubstr(" POST /api/"))) << "a request was sent";
    EXPECT_EQ(get("/api/v1/apps").json().at("apps").size(), 0u);
}

TEST_F(Market, BumpPublishesANewAppAndANewMajor) {
    start();
    write_three(packages());
    const Json first = published(packages(), "1", {"--bump"});
    EXPECT_EQ(first.value("revision", 0), 1) << first;
    EXPECT_EQ(component_versions("1").at("com.test.a"), "1.0");

    write_component(packages(), "a", "1.0", "a 1.0, in major 2\n");
    const Json major_two = published(packages(), "2", {"--bump"});
    EXPECT_EQ(major_two.value("revision", 0), 1) << major_two;
    EXPECT_EQ(component_versions("2").at("com.test.a"), "1.0") << "nothing to raise it above";
    EXPECT_EQ(component_versions("1").at("com.test.a"), "1.0");
}

}  // namespace
}  // namespace ferry::testing
