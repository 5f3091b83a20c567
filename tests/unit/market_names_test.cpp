// The one rule for app keys and major versions: every refusal says which rule the name breaks,
// a long name is told it is long, and hostile text never reaches a message raw.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "market/catalog.hpp"
#include "market/names.hpp"
#include "support/test_support.hpp"

namespace ferry::market {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MarketNames, EachRefusalSaysWhichRuleTheNameBreaks) {
    const std::pair<std::string, std::string> cases[] = {
        {"", "is empty"},
        {"..", "starts with '.'"},
        {".hidden", "starts with '.'"},
        {"-1", "starts with '-'"},
        {"1/2", "contains '/'"},
        {"1 0", "contains ' '"},
        {"a%2f", "contains '%'"},
        {"1.", "ends with '.'"},
        {std::string(200, '1'), "is 200 characters long (at most 128)"},
        {std::string(129, 'a') + "/", "is 130 characters long (at most 128)"},
        {"a\nb", "contains byte 0x0a"},
    };
    for (const auto& [text, reason] : cases) {
        const auto problem = key_problem(text);
        ASSERT_TRUE(problem.has_value()) << text;
        EXPECT_THAT(*problem, HasSubstr(reason)) << text;
        EXPECT_FALSE(is_valid_key(text)) << text;
    }
    const std::string valid[] = {"1", "2.0", "com.acme.app", "v1_beta-2", std::string(128, 'x')};
    for (const std::string& text : valid) {
        EXPECT_EQ(key_problem(text), std::nullopt) << text;
        EXPECT_TRUE(is_valid_key(text)) << text;
    }
}

TEST(MarketNames, TheErrorNamesWhatAndQuotesOnlyShortPrintableText) {
    EXPECT_EQ(testing::error_of([] { check_key("1/2", "major version"); }),
              "major version \"1/2\" contains '/' (allowed: letters, digits, '.', '_' and '-')");
    const std::string long_message =
        testing::error_of([] { check_key(std::string(200, 'a'), "app key"); });
    EXPECT_EQ(long_message, "app key is 200 characters long (at most 128)");
    const std::string control = testing::error_of([] { check_key("a\x1b[2Jb", "app key"); });
    EXPECT_THAT(control, HasSubstr("byte 0x1b"));
    EXPECT_THAT(control, Not(HasSubstr("\x1b")));
    EXPECT_NO_THROW(check_key("com.acme.app", "app key"));
}

}  // namespace
}  // namespace ferry::market
