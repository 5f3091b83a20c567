// Tests of the installation state file (IFW's components.xml): golden bytes, round trips, a file
// as IFW's maintenance tool writes it, and the rejected inputs.
//
// Golden file: tests/data/golden/components_installed.xml holds the exact bytes
// write_components_xml must produce. After an intended format change, regenerate it with
//   FERRY_UPDATE_GOLDEN=1 ./build/dev/tests/ferry_unit_tests --gtest_filter='ComponentsXml*'
#include "formats/components_xml.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/test_support.hpp"

namespace ferry::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

InstalledComponents sample_state() {
    InstalledComponents s;
    s.application_name = "Ferry Demo & <Co>";
    s.application_version = "2.1.0";
    InstalledComponent app;
    app.name = "com.example.app";
    app.title = "Example \"App\"";
    app.description = "Tools & extras";
    app.version = "1.2.3-1";
    app.last_update_date = "2024-02-29";
    app.install_date = "2023-12-01";
    app.size = 18446744073709551615u;  // the largest size must survive
    app.sorting_priority = 100;
    app.tree_name = TreeName{"apps.example", true};
    app.dependencies = {"com.example.lib:>=1.0", "com.example.data"};
    app.auto_depend_on = {"com.example.lib"};
    app.forced_installation = true;
    app.checkable = true;
    app.expanded_by_default = true;
    app.content_sha1 = "0123456789abcdef0123456789abcdef01234567";
    InstalledComponent lib;
    lib.name = "com.example.lib";
    lib.title = "Library";
    lib.version = "1.0";
    lib.inherit_version_from = "com.example.app";
    lib.install_date = "2023-12-01";
    lib.last_update_date = "2023-12-01";
    lib.size = 42;
    lib.is_virtual = true;
    s.components = {app, lib};
    return s;
}

TEST(ComponentsXml, WriterMatchesGolden) {
    testing::expect_matches_golden("components_installed.xml",
                                   write_components_xml(sample_state()));
}

TEST(ComponentsXml, WriterUsesIfwElementOrderAndOmitsUnsetFlags) {
    const std::string xml = write_components_xml(sample_state());
    EXPECT_THAT(xml, ::testing::StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                           "<Packages>\n <ApplicationName>Ferry Demo &amp; "
                                           "&lt;Co&gt;</ApplicationName>\n"));
    EXPECT_THAT(xml, HasSubstr("  <Version inheritVersionFrom=\"com.example.app\">1.0</Version>\n"
                               "  <LastUpdateDate>2023-12-01</LastUpdateDate>\n"
                               "  <InstallDate>2023-12-01</InstallDate>\n"
                               "  <Size>42</Size>\n"
                               "  <Virtual>true</Virtual>\n"
                               " </Package>\n"));
    // The library is not forced, has no dependencies and no ContentSha1: nothing written.
    const std::string lib = xml.substr(xml.find("<Name>com.example.lib</Name>"));
    EXPECT_THAT(lib, ::testing::Not(HasSubstr("ForcedInstallation")));
    EXPECT_THAT(lib, ::testing::Not(HasSubstr("Dependencies")));
    EXPECT_THAT(lib, ::testing::Not(HasSubstr("ContentSha1")));
    EXPECT_EQ(xml, write_components_xml(sample_state()));
}

TEST(ComponentsXml, RoundTripKeepsEveryField) {
    const InstalledComponents state = sample_state();
    EXPECT_EQ(parse_components_xml(write_components_xml(state), "components.xml"), state);
}

TEST(ComponentsXml, ReadsIfwLayoutInAnyOrderIgnoringUnknownElements) {
    const std::string xml = R"(<Packages>
 <ApplicationName>Maintenance Tool Test</ApplicationName>
 <ApplicationVersion>1.0.0</ApplicationVersion>
 <Package>
  <Version>1.0.0</Version>
  <Name>componentA</Name>
  <Pixmap></Pixmap>
  <Title>Component A</Title>
  <Description>This component does not depend on any other component.</Description>
  <LastUpdateDate>2014-08-25</LastUpdateDate>
  <InstallDate>2024-05-06</InstallDate>
  <Size>101</Size>
  <Checkable>True</Checkable>
  <ContentSha1>10</ContentSha1>
 </Package>
 <SomethingNew/>
 <Package>
  <Name>componentC</Name>
  <Title>Component C</Title>
  <Version>1.0.0</Version>
  <Dependencies>componentA , componentB:>=1.0</Dependencies>
  <AutoDependOn>componentA</AutoDependOn>
  <ForcedInstallation>true</ForcedInstallation>
  <Virtual>false</Virtual>
  <Size>0</Size>
 </Package>
</Packages>
)";
    const InstalledComponents s = parse_components_xml(xml, "target/components.xml");
    EXPECT_EQ(s.application_name, "Maintenance Tool Test");
    EXPECT_EQ(s.application_version, "1.0.0");
    ASSERT_EQ(s.components.size(), 2u);
    const InstalledComponent* a = s.find("componentA");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->version, "1.0.0");
    EXPECT_EQ(a->last_update_date, "2014-08-25");
    EXPECT_EQ(a->install_date, "2024-05-06");
    EXPECT_EQ(a->size, 101u);
    EXPECT_TRUE(a->checkable);
    EXPECT_FALSE(a->forced_installation);
    EXPECT_EQ(a->content_sha1, "10");
    const InstalledComponent* c = s.find("componentC");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->dependencies, (std::vector<std::string>{"componentA", "componentB:>=1.0"}));
    EXPECT_EQ(c->auto_depend_on, (std::vector<std::string>{"componentA"}));
    EXPECT_TRUE(c->forced_installation);
    EXPECT_FALSE(c->is_virtual);
    EXPECT_FALSE(c->checkable);  // absent means false in components.xml
    EXPECT_EQ(s.find("componentB"), nullptr);
}

struct BadInput {
    const char* what;
    const char* xml;
    const char* message;
};

class ComponentsXmlRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(ComponentsXmlRejects, NamesFileLineAndCause) {
    try {
        parse_components_xml(GetParam().xml, "t/components.xml");
        FAIL() << "accepted: " << GetParam().what;
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr(GetParam().message)) << GetParam().what;
    }
}

INSTANTIATE_TEST_SUITE_P(
    ComponentsXml, ComponentsXmlRejects,
    ::testing::Values(
        BadInput{"wrong root", "<Updates/>", "t/components.xml:1: root element is <Updates>"},
        BadInput{"malformed", "<Packages>\n<Package>", "t/components.xml:2: malformed XML"},
        BadInput{"no name", "<Packages>\n <Package><Version>1</Version></Package>\n</Packages>",
                 "t/components.xml:2: <Package> has no Name"},
        BadInput{"twice",
                 "<Packages>\n<Package><Name>a</Name></Package>\n"
                 "<Package><Name>a</Name></Package></Packages>",
                 "t/components.xml:3: component \"a\" is listed twice"},
        BadInput{"size", "<Packages><Package><Name>a</Name>\n<Size>12k</Size></Package></Packages>",
                 "t/components.xml:2: Size \"12k\" is not a byte count"},
        BadInput{"date",
                 "<Packages><Package><Name>a</Name>\n\n"
                 "<InstallDate>2023-02-30</InstallDate></Package></Packages>",
                 "t/components.xml:3: InstallDate \"2023-02-30\" is not a date"}));

TEST(ComponentsXml, IsoDates) {
    EXPECT_TRUE(is_iso_date("2024-02-29"));
    EXPECT_TRUE(is_iso_date("2014-08-25"));
    EXPECT_FALSE(is_iso_date("2023-02-29"));
    EXPECT_FALSE(is_iso_date("1900-02-29"));
    EXPECT_TRUE(is_iso_date("2000-02-29"));
    EXPECT_FALSE(is_iso_date("2024-13-01"));
    EXPECT_FALSE(is_iso_date("2024-4-01"));
    EXPECT_FALSE(is_iso_date("25.08.2014"));
    EXPECT_FALSE(is_iso_date(""));
}

}  // namespace
}  // namespace ferry::formats
