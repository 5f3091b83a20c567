// What the command line says when it is used wrongly: usage errors exit 2 with a message that
// names the option, an unknown command gets a suggestion, a failing --json command still prints
// JSON on stdout, and no library internals reach the user.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "e2e/e2e_support.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CliMessagesTest : public FerryTest {};

TEST_F(CliMessagesTest, UnknownCommandSuggestsTheNearestOne) {
    auto r = ferry({"instal", "--root", (root() / "t").string()});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("unknown command \"instal\""));
    EXPECT_THAT(r.err, HasSubstr("did you mean \"install\"?"));

    r = ferry({"repgoen"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("did you mean \"repogen\"?"));

    r = ferry({"frobnicate"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("unknown command \"frobnicate\""));
    EXPECT_THAT(r.err, Not(HasSubstr("did you mean")));
}

TEST_F(CliMessagesTest, RepogenUsageErrorsExitTwoAndNameTheOption) {
    const fs::path packages = example_packages();
    auto r = ferry({"repogen", (root() / "repo").string()});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("--packages"));
    EXPECT_FALSE(fs::exists(root() / "repo"));

    r = ferry({"repogen", "--ac", "4", "-p", packages.string(), (root() / "repo").string()});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("--ac"));
    EXPECT_THAT(r.err, HasSubstr("4"));

    r = ferry({"repogen", "--af", "rar", "-p", packages.string(), (root() / "repo").string()});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("rar"));
    EXPECT_FALSE(fs::exists(root() / "repo"));
}

TEST_F(CliMessagesTest, ABadSearchPatternIsAUsageError) {
    const fs::path packages = root() / "packages";
    make_package(packages, "com.test.a", "1.0.0", {{"a.txt", "a"}});
    make_repository(packages, root() / "repo");
    auto r = ferry({"search", "--root", (root() / "t").string(), "--repo",
                    file_url(root() / "repo"), "(unclosed"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("\"(unclosed\" is not a valid regular expression"));
}

TEST_F(CliMessagesTest, RepositoryLocationsAreCheckedWhenGiven) {
    const std::string target = (root() / "t").string();
    auto r = ferry({"repos", "add", "--root", target, "ftp://example.com/repo"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("not ftp://"));

    r = ferry({"repos", "add", "--root", target, "relative/repo"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("neither a URL nor an absolute path"));

    r = ferry({"install", "--root", target, "--repo", "file://host/repo"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("file:///PATH"));

    // An absolute path is what a user means by file://.
    const fs::path packages = root() / "packages";
    make_package(packages, "com.test.a", "1.0.0", {{"a.txt", "a"}});
    make_repository(packages, root() / "repo");
    r = ferry({"repos", "add", "--root", target, (root() / "repo").string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = ferry({"repos", "list", "--root", target});
    EXPECT_THAT(r.out, HasSubstr(file_url(root() / "repo")));
}

TEST_F(CliMessagesTest, AFailingJsonCommandPrintsAJsonErrorOnStdout) {
    auto r = ferry({"repo", "verify", "--json", (root() / "nothing-here").string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    const auto json = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << describe(r);
    ASSERT_TRUE(json.contains("error")) << r.out;
    EXPECT_THAT(json["error"]["message"].get<std::string>(), HasSubstr("nothing-here"));
    EXPECT_TRUE(json["error"]["kind"].is_string());
    EXPECT_THAT(r.err, HasSubstr("nothing-here"));  // people still read stderr
}

TEST_F(CliMessagesTest, JsonOutputTurnsBytesThatAreNotUtf8IntoReplacementCharacters) {
    const fs::path packages = root() / "packages";
    make_package(packages, "com.test.a", "1.0.0", {{"a.txt", "a"}}, " <Default>true</Default>\n");
    make_repository(packages, root() / "repo");
    const fs::path target = root() / "t\xff";  // a directory name Linux allows, not UTF-8
    auto r = ferry({"install", "--root", target.string(), "--repo", file_url(root() / "repo"),
                    "-q"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = ferry({"list", "--root", target.string(), "--json"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    const auto json = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << describe(r);
    EXPECT_EQ(json.value("root", ""), (root() / "t\xef\xbf\xbd").string());
    EXPECT_EQ(json["components"][0].value("name", ""), "com.test.a");
}

TEST_F(CliMessagesTest, DamagedJsonStateNamesTheFileAndTheFieldNotTheParser) {
    const fs::path target = root() / "t";
    fs::create_directories(target / ".ferry");
    write_text(target / ".ferry" / "settings.json", R"({"repositories": [{"url": 7}]})");
    auto r = ferry({"list", "--root", target.string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("settings.json"));
    EXPECT_THAT(r.err, Not(HasSubstr("json.exception")));
}

TEST_F(CliMessagesTest, CountsAreSaidWithTheRightPlural) {
    const fs::path packages = root() / "packages";
    make_package(packages, "com.test.a", "1.0.0", {{"a.txt", "a"}});
    auto r = ferry({"repogen", "-p", packages.string(), (root() / "repo").string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr(": 1 component ("));
    r = ferry({"repo", "verify", (root() / "repo").string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("OK (1 component, "));
}

}  // namespace
}  // namespace ferry::testing
