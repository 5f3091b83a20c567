// Tests of the printable-text rule: control characters and bytes that are not UTF-8 become
// U+FFFD, in the function and in every value read from XML.
#include "core/text.hpp"

#include <gtest/gtest.h>

#include <string>

#include "formats/components_xml.hpp"
#include "formats/updates_xml.hpp"

namespace ferry::core {
namespace {

const std::string kR = "\xEF\xBF\xBD";  // U+FFFD

struct TextCase {
    const char* what;
    std::string in;
    std::string out;
};

class PrintableText : public ::testing::TestWithParam<TextCase> {};

TEST_P(PrintableText, ReplacesWhatATerminalWouldObey) {
    const TextCase& c = GetParam();
    EXPECT_EQ(printable_text(c.in), c.out) << c.what;
    EXPECT_EQ(is_printable_text(c.in), c.in == c.out) << c.what;
}

INSTANTIATE_TEST_SUITE_P(
    Text, PrintableText,
    ::testing::Values(TextCase{"plain", "Editor 2.0", "Editor 2.0"},
                      TextCase{"tab and newline stay", "a\tb\nc", "a\tb\nc"},
                      TextCase{"escape sequence", "a\x1b[31mb", "a" + kR + "[31mb"},
                      TextCase{"bell and carriage return", "a\x07\rb", "a" + kR + kR + "b"},
                      TextCase{"delete", "a\x7f", "a" + kR},
                      TextCase{"C1 CSI as UTF-8",
                               "a\xC2\x9B"
                               "2J",
                               "a" + kR + "2J"},
                      TextCase{"raw C1 byte",
                               "a\x9b"
                               "2J",
                               "a" + kR + "2J"},
                      TextCase{"UTF-8 kept",
                               "Gr\xC3\xBC\xC3\x9F"
                               "e \xE2\x9C\x93 \xF0\x9F\x9A\xA2",
                               "Gr\xC3\xBC\xC3\x9F"
                               "e \xE2\x9C\x93 \xF0\x9F\x9A\xA2"},
                      TextCase{"overlong slash", "\xC0\xAF", kR + kR},
                      TextCase{"surrogate", "\xED\xA0\x80", kR + kR + kR},
                      TextCase{"truncated", "ab\xE2\x9C", "ab" + kR + kR},
                      TextCase{"nul", std::string("a\0b", 3), "a" + kR + "b"}));

TEST(Text, XmlValuesAreReadPrintable) {
    // A reference and a raw byte alike, in text and in attributes.
    const std::string xml =
        "<?xml version=\"1.0\"?>\n<Updates>\n <ApplicationName>{AnyApplication}</ApplicationName>\n"
        " <ApplicationVersion>1.0</ApplicationVersion>\n <Checksum>false</Checksum>\n"
        " <PackageUpdate>\n  <Name>a</Name>\n  <Version>1.0</Version>\n"
        "  <ReleaseDate>2026-01-01</ReleaseDate>\n"
        "  <DisplayName>Ti&#27;]0;x&#7;tle</DisplayName>\n"
        "  <Description>one\x1b[2Jtwo\nthree</Description>\n"
        " </PackageUpdate>\n"
        " <RepositoryUpdate>\n"
        "  <Repository action=\"add\" url=\"http://h/r\" displayname=\"M&#27;[5m\"/>\n"
        " </RepositoryUpdate>\n"
        "</Updates>\n";
    const auto index = formats::parse_updates_xml(xml, "Updates.xml");
    ASSERT_EQ(index.packages.size(), 1u);
    const auto& c = index.packages[0].component;
    ASSERT_EQ(c.display_names.size(), 1u);
    EXPECT_EQ(c.display_names[0].text, "Ti" + kR + "]0;x" + kR + "tle");
    ASSERT_EQ(c.descriptions.size(), 1u);
    EXPECT_EQ(c.descriptions[0].text, "one" + kR + "[2Jtwo\nthree");
    ASSERT_EQ(index.repository_updates.size(), 1u);
    EXPECT_EQ(index.repository_updates[0].display_name, "M" + kR + "[5m");
}

TEST(Text, TitlesReadFromComponentsXmlCanBeWrittenBack) {
    // components.xml written by another tool, with a bell in a title: read, written, read again.
    const std::string xml =
        "<?xml version=\"1.0\"?>\n<Packages>\n <ApplicationName>app</ApplicationName>\n"
        " <ApplicationVersion>1.0</ApplicationVersion>\n <Package>\n  <Name>a</Name>\n"
        "  <Title>Ring&#7;</Title>\n  <Version>1.0</Version>\n </Package>\n</Packages>\n";
    const auto installed = formats::parse_components_xml(xml, "components.xml");
    ASSERT_EQ(installed.components.size(), 1u);
    EXPECT_EQ(installed.components[0].title, "Ring" + kR);
    const auto again =
        formats::parse_components_xml(formats::write_components_xml(installed), "components.xml");
    EXPECT_EQ(again.components[0].title, "Ring" + kR);
}

}  // namespace
}  // namespace ferry::core
