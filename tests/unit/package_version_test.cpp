// Raising a component's version for `ferry publish --bump`: the next version compares greater,
// and package.xml changes in the text of its <Version> and nowhere else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/version.hpp"
#include "formats/package_version.hpp"
#include "formats/package_xml.hpp"
#include "support/test_support.hpp"

namespace ferry::formats {
namespace {

using ::testing::HasSubstr;

TEST(PackageVersion, TheRaisedVersionIsTheNextOneAndComparesGreater) {
    const std::pair<std::string, std::string> cases[] = {
        {"1.0", "1.1"},
        {"2.0.9", "2.0.10"},
        {"1.0-beta2", "1.0-beta3"},
        {"1.0-beta", "1.1-beta"},
        {"beta", "beta.1"},
        {"1.99", "1.100"},
        {"1.99999999999999999999999", "1.100000000000000000000000"},
    };
    for (const auto& [version, next] : cases) {
        EXPECT_EQ(raised_version(version), next) << version;
        EXPECT_GT(core::compare_versions(raised_version(version), version), 0) << version;
    }
}

TEST(PackageVersion, OnlyTheTextOfThePackagesVersionChanges) {
    // CRLF line ends, a comment naming a version before the real one, entities, CDATA and an
    // element that merely ends in "Version": all of it stays byte for byte.
    const std::string before =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
        "<!-- <Version>0.1</Version> was the first -->\r\n"
        "<Package>\r\n"
        "    <DisplayName>A &amp; B &apos;quoted&apos;</DisplayName>\r\n"
        "    <Description></Description>\r\n"
        "    <MinVersion>0.9</MinVersion>\r\n"
        "    <Version>1.0</Version>\r\n"
        "    <Script><![CDATA[a<b]]></Script>\r\n"
        "    <Dependencies  a='x\"y'>com.acme.base</Dependencies>\r\n"
        "</Package>\r\n";
    std::string expected = before;
    expected.replace(expected.find("<Version>1.0<") + 9, 3, "1.1");
    const std::string after = with_package_version(before, "1.1", "p/meta/package.xml");
    EXPECT_EQ(after, expected);
    EXPECT_EQ(parse_package_xml(after, "p", "package.xml").version, "1.1");
}

TEST(PackageVersion, TheVersionIsEscapedAndTheFileIsRewritten) {
    core::ScratchDir scratch;
    const std::filesystem::path file = scratch.path() / "package.xml";
    testing::write_text(file, "<Package><Version>1.0</Version></Package>\n");
    set_package_version(file, "2.0<&>");
    EXPECT_EQ(testing::read_text(file), "<Package><Version>2.0&lt;&amp;&gt;</Version></Package>\n");
}

TEST(PackageVersion, AVersionItCannotRaiseIsAnErrorNamingTheFile) {
    const std::pair<std::string, std::string> cases[] = {
        {"<Package><DisplayName>x</DisplayName></Package>", "no <Version>"},
        {"<Package><Version/></Package>", "more than plain text"},
        {"<Package><Version><!-- x -->1.0</Version></Package>", "more than plain text"},
        {"<Package><Version><![CDATA[1.0]]></Version></Package>", "more than plain text"},
        {"<Other><Version>1.0</Version></Other>", "no <Version>"},
        {"<Package><Version>1.0</Package>", "malformed XML"},
    };
    for (const auto& [case_text, reason] : cases) {
        const std::string text = case_text;  // a lambda cannot capture a binding in clang 14
        const std::string message =
            testing::error_of([&] { with_package_version(text, "2.0", "a/meta/package.xml"); });
        EXPECT_THAT(message, HasSubstr("a/meta/package.xml")) << text;
        EXPECT_THAT(message, HasSubstr(reason)) << text;
    }
}

}  // namespace
}  // namespace ferry::formats
