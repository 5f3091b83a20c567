// Tests of the package.xml reader: every element IFW knows, and each check IFW's repogen makes,
// with errors that must name the file, the line and the cause.
#include "formats/package_xml.hpp"

#include <cstdlib>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/source_date.hpp"
#include "support/test_support.hpp"

namespace ferry::formats {
namespace {

using ::testing::HasSubstr;

constexpr const char* kSource = "packages/com.example/meta/package.xml";

ComponentDescription parse(const std::string& xml, std::string_view name = "com.example") {
    return parse_package_xml(xml, name, kSource);
}

// A minimal valid package.xml with extra elements inserted on line 3 onwards.
std::string package_with(const std::string& elements) {
    return "<?xml version=\"1.0\"?>\n<Package>\n" + elements + "</Package>\n";
}

// Sets an environment variable for one test and puts the old value back afterwards.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        ::setenv(name, value, 1);
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    const char* name_;
    std::optional<std::string> old_;
};

TEST(PackageXml, FullExampleReadsEveryElement) {
    const ComponentDescription c =
        read_package_xml(FERRY_TEST_DATA "/formats/packages/com.example.full");
    EXPECT_EQ(c.name, "com.example.full");
    EXPECT_EQ(c.display_names,
              (std::vector<LocalizedText>{{"", "Full Example"}, {"de", "Vollständiges Beispiel"}}));
    EXPECT_EQ(c.descriptions, (std::vector<LocalizedText>{{"", "Shows every element & attribute"},
                                                          {"de", "Zeigt jedes Element"}}));
    EXPECT_EQ(c.version, "2.5.0-1");
    EXPECT_EQ(c.release_date, "2024-02-29");
    EXPECT_EQ(c.default_value, "script");
    EXPECT_FALSE(c.is_virtual);
    EXPECT_EQ(c.dependencies,
              (std::vector<std::string>{"com.example.base:>=1.0", "com.example.data"}));
    EXPECT_EQ(c.auto_depend_on, std::vector<std::string>{"com.example.base"});
    EXPECT_EQ(c.script, "installscript.qs");
    EXPECT_EQ(c.sorting_priority, -20);
    EXPECT_EQ(c.update_text, "Fixes the crash on exit.");
    EXPECT_TRUE(c.essential);
    EXPECT_FALSE(c.forced_installation);
    EXPECT_TRUE(c.forced_update);
    EXPECT_EQ(c.replaces, (std::vector<std::string>{"com.example.old", "com.example.older"}));
    EXPECT_TRUE(c.requires_admin_rights);
    EXPECT_EQ(c.checkable, true);
    EXPECT_TRUE(c.expanded_by_default);
    EXPECT_EQ(c.tree_name, (TreeName{"examples.full", true}));
    EXPECT_EQ(c.licenses, (std::vector<License>{{"Example License", "license.txt", "high"},
                                                {"Other", "other.txt", ""}}));
    EXPECT_EQ(c.user_interfaces, (std::vector<std::string>{"page.ui", "options.ui"}));
    EXPECT_EQ(c.translations, std::vector<std::string>{"de.qm"});
    EXPECT_EQ(c.operations,
              (std::vector<Operation>{
                  {"Mkdir", {"@TargetDir@/cache"}},
                  {"Extract", {"installer://com.example.full/extra.7z", "@TargetDir@"}}}));
    EXPECT_EQ(c.downloadable_archives, (std::vector<std::string>{"content.7z", "extra.7z"}));
    EXPECT_EQ(c.content_sha1, "3b5d0c1f2e4a6b8d9c7e5f3a1b2c4d6e8f0a1b2c");
}

TEST(PackageXml, MinimalPackageHasIfwDefaults) {
    const ComponentDescription c =
        parse(package_with("<Version>1.0</Version><ReleaseDate>2020-01-01</ReleaseDate>"));
    EXPECT_EQ(c.name, "com.example");
    EXPECT_EQ(c.version, "1.0");
    EXPECT_TRUE(c.display_names.empty());
    EXPECT_EQ(c.default_value, "");
    EXPECT_FALSE(c.checkable.has_value());
    EXPECT_FALSE(c.sorting_priority.has_value());
    EXPECT_FALSE(c.tree_name.has_value());
    EXPECT_FALSE(c.is_virtual);
    EXPECT_TRUE(c.dependencies.empty());
}

TEST(PackageXml, LocalizedTextsKeepOrderAndLanguage) {
    const ComponentDescription c =
        parse(package_with("<Version>1</Version><ReleaseDate>2020-01-01</ReleaseDate>\n"
                           "<DisplayName xml:lang=\"fr\">Exemple</DisplayName>\n"
                           "<DisplayName>Example</DisplayName>\n"
                           "<DisplayName xml:lang=\"zh_CN\">示例</DisplayName>\n"
                           "<Description xml:lang=\"fr\">Un &lt;exemple&gt;</Description>\n"));
    EXPECT_EQ(c.display_names,
              (std::vector<LocalizedText>{{"fr", "Exemple"}, {"", "Example"}, {"zh_CN", "示例"}}));
    EXPECT_EQ(c.descriptions, (std::vector<LocalizedText>{{"fr", "Un <exemple>"}}));
}

TEST(PackageXml, UnknownElementsAndAttributesAreIgnored) {
    const ComponentDescription with_extras = parse(package_with(
        "<Version>1</Version><ReleaseDate>2020-01-01</ReleaseDate>\n"
        "<Frobnicate level=\"9\"><Deep>x</Deep></Frobnicate>\n"
        "<Script postLoad=\"true\">s.qs</Script>\n"
        "<Licenses><License name=\"L\" file=\"l.txt\" extra=\"1\"/><Note/></Licenses>\n"));
    const ComponentDescription plain =
        parse(package_with("<Version>1</Version><ReleaseDate>2020-01-01</ReleaseDate>\n"
                           "<Script>s.qs</Script>\n"
                           "<Licenses><License name=\"L\" file=\"l.txt\"/></Licenses>\n"));
    EXPECT_EQ(with_extras, plain);
}

TEST(PackageXml, BooleansAcceptAnyCaseAndBlanks) {
    const ComponentDescription c = parse(package_with(
        "<Version>1</Version><ReleaseDate>2020-01-01</ReleaseDate>\n"
        "<Virtual> TRUE </Virtual><Essential>False</Essential><Checkable>FALSE</Checkable>\n"
        "<Default>False</Default>\n"));
    EXPECT_TRUE(c.is_virtual);
    EXPECT_FALSE(c.essential);
    EXPECT_EQ(c.checkable, false);
    EXPECT_EQ(c.default_value, "false");
}

TEST(PackageXml, DefaultCombinationsIfwAllows) {
    EXPECT_EQ(parse(package_with("<Version>1</Version><Default>true</Default>"
                                 "<Checkable>true</Checkable><Virtual>false</Virtual>"))
                  .default_value,
              "true");
    EXPECT_EQ(parse(package_with("<Version>1</Version><Default>false</Default>"
                                 "<Virtual>true</Virtual><Checkable>false</Checkable>"))
                  .default_value,
              "false");
    // A script expression is kept verbatim for the installer to evaluate.
    EXPECT_EQ(parse(package_with("<Version>1</Version>"
                                 "<Default>installer.value(\"os\") == \"x11\"</Default>"))
                  .default_value,
              "installer.value(\"os\") == \"x11\"");
}

TEST(PackageXml, MissingOrEmptyReleaseDateUsesSourceDateEpoch) {
    ScopedEnv epoch("SOURCE_DATE_EPOCH", "1700000000");  // 2023-11-14T22:13:20Z
    EXPECT_EQ(parse(package_with("<Version>1</Version>\n")).release_date, "2023-11-14");
    EXPECT_EQ(parse(package_with("<Version>1</Version><ReleaseDate/>\n")).release_date,
              "2023-11-14");
    EXPECT_EQ(
        parse(package_with("<Version>1</Version><ReleaseDate> </ReleaseDate>\n")).release_date,
        "2023-11-14");
    // A given date wins over the environment.
    EXPECT_EQ(parse(package_with("<Version>1</Version><ReleaseDate>2001-02-03</ReleaseDate>"))
                  .release_date,
              "2001-02-03");
}

TEST(PackageXml, SourceDateEpochThatIsNoNumberIsAnErrorNamingIt) {
    ScopedEnv epoch("SOURCE_DATE_EPOCH", "garbage");
    EXPECT_THAT(ferry::testing::error_of([] { parse(package_with("<Version>1</Version>\n")); }),
                HasSubstr("SOURCE_DATE_EPOCH \"garbage\" is not a number of seconds"));
    EXPECT_THAT(ferry::testing::error_of([] { core::reproducible_mtime(); }),
                HasSubstr("SOURCE_DATE_EPOCH \"garbage\""));
}

TEST(PackageXml, SaysWhetherTheReleaseDateWasGiven) {
    bool given = true;
    parse_package_xml(package_with("<Version>1</Version>\n"), "com.example", kSource, &given);
    EXPECT_FALSE(given);
    parse_package_xml(package_with("<Version>1</Version><ReleaseDate>2024-02-29</ReleaseDate>"),
                      "com.example", kSource, &given);
    EXPECT_TRUE(given);
    EXPECT_EQ(core::epoch_of_date("2024-02-29"), 1709164800);
    EXPECT_EQ(core::epoch_of_date("2024-02-29x"), std::nullopt);
}

TEST(PackageXml, ReadingAMissingFileNamesIt) {
    core::ScratchDir dir;
    try {
        read_package_xml(dir.path() / "com.example.none");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("com.example.none/meta/package.xml"));
        EXPECT_THAT(e.what(), HasSubstr("not found"));
    }
}

TEST(PackageXml, ReadingTakesTheNameFromTheDirectory) {
    core::ScratchDir dir;
    testing::write_text(dir.path() / "org.acme.tool" / "meta" / "package.xml",
                        package_with("<Version>4.2</Version>"));
    EXPECT_EQ(read_package_xml(dir.path() / "org.acme.tool").name, "org.acme.tool");
    EXPECT_EQ(read_package_xml(dir.path() / "org.acme.tool/").name, "org.acme.tool");
    testing::write_text(dir.path() / "org.acme-tool" / "meta" / "package.xml",
                        package_with("<Version>4.2</Version>"));
    EXPECT_THROW(read_package_xml(dir.path() / "org.acme-tool"), Error);
}

struct Rejection {
    const char* label;
    std::string component_name;
    std::string xml;
    int line;  // 0: the message names only the file
    std::string cause;
};

void PrintTo(const Rejection& r, std::ostream* os) {
    *os << r.label;
}

class PackageXmlRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(PackageXmlRejects, NamesFileLineAndCause) {
    const Rejection& r = GetParam();
    try {
        ComponentDescription c = parse(r.xml, r.component_name);
        FAIL() << "accepted, version " << c.version;
    } catch (const Error& e) {
        const std::string where =
            r.line > 0 ? fmt::format("{}:{}: ", kSource, r.line) : fmt::format("{}: ", kSource);
        EXPECT_THAT(e.what(), ::testing::StartsWith(where));
        EXPECT_THAT(e.what(), HasSubstr(r.cause));
    }
}

const std::string kOk = "<Version>1.0</Version>\n";

INSTANTIATE_TEST_SUITE_P(
    Validation, PackageXmlRejects,
    ::testing::Values(
        Rejection{"NameWithDash", "com.acme-app", package_with(kOk), 0,
                  "component name \"com.acme-app\" contains '-'"},
        Rejection{"NameWithColon", "com:acme", package_with(kOk), 0,
                  "component name \"com:acme\" contains ':'"},
        Rejection{"EmptyName", "", package_with(kOk), 0, "component name is empty"},
        Rejection{"MalformedXml", "com.example",
                  "<Package>\n<Version>1</Version>\n<Script>a</Scrpt>\n</Package>\n", 3,
                  "malformed XML: Start-end tags mismatch"},
        Rejection{"WrongRoot", "com.example", "<?xml version=\"1.0\"?>\n<Updates/>\n", 2,
                  "root element is <Updates>, expected <Package>"},
        Rejection{"MissingVersion", "com.example", package_with("<Script>s.qs</Script>\n"), 2,
                  "has no Version"},
        Rejection{"EmptyVersion", "com.example", package_with("<Version></Version>\n"), 3,
                  "Version is empty"},
        Rejection{"VersionWithWhitespace", "com.example",
                  package_with("<Script/>\n<Version> 1.0</Version>\n"), 4,
                  "Version \" 1.0\" has surrounding whitespace"},
        Rejection{"VersionStartingWithLess", "com.example",
                  package_with("<Version>&lt;1.0</Version>\n"), 3,
                  "Version \"<1.0\" must not start with '<', '=' or '>'"},
        Rejection{"VersionStartingWithEquals", "com.example",
                  package_with("<Version>=1.0</Version>\n"), 3, "must not start with"},
        Rejection{"VersionStartingWithGreater", "com.example",
                  package_with("<Version>>1.0</Version>\n"), 3, "must not start with"},
        Rejection{"ReleaseDateMonth13", "com.example",
                  package_with(kOk + "<ReleaseDate>2024-13-01</ReleaseDate>\n"), 4,
                  "ReleaseDate \"2024-13-01\" is not a date in the form YYYY-MM-DD"},
        Rejection{"ReleaseDateNoLeapDay", "com.example",
                  package_with(kOk + "<ReleaseDate>2023-02-29</ReleaseDate>\n"), 4,
                  "ReleaseDate \"2023-02-29\""},
        Rejection{"ReleaseDateApril31", "com.example",
                  package_with(kOk + "<ReleaseDate>2023-04-31</ReleaseDate>\n"), 4,
                  "ReleaseDate \"2023-04-31\""},
        Rejection{"ReleaseDateShort", "com.example",
                  package_with(kOk + "<ReleaseDate>2023-4-1</ReleaseDate>\n"), 4,
                  "ReleaseDate \"2023-4-1\""},
        Rejection{"ReleaseDateOtherOrder", "com.example",
                  package_with(kOk + "<ReleaseDate>01.02.2023</ReleaseDate>\n"), 4,
                  "ReleaseDate \"01.02.2023\""},
        Rejection{"DefaultAndVirtual", "com.example",
                  package_with(kOk + "<Virtual>true</Virtual>\n<Default>true</Default>\n"), 5,
                  "Default \"true\" cannot be combined with Virtual \"true\""},
        Rejection{"DefaultAndNotCheckable", "com.example",
                  package_with(kOk + "<Default>TRUE</Default>\n<Checkable>false</Checkable>\n"), 4,
                  "Default \"true\" cannot be combined with Checkable \"false\""},
        Rejection{"BadBoolean", "com.example", package_with(kOk + "<Essential>yes</Essential>\n"),
                  4, "Essential must be \"true\" or \"false\", not \"yes\""},
        Rejection{"EmptyBoolean", "com.example", package_with(kOk + "<Virtual/>\n"), 4,
                  "Virtual must be \"true\" or \"false\", not \"\""},
        Rejection{"BadCheckable", "com.example", package_with(kOk + "<Checkable>1</Checkable>\n"),
                  4, "Checkable must be \"true\" or \"false\""},
        Rejection{"BadTreeNameAttribute", "com.example",
                  package_with(kOk + "<TreeName moveChildren=\"yes\">x</TreeName>\n"), 4,
                  "moveChildren must be \"true\" or \"false\", not \"yes\""},
        Rejection{"SortingPriorityNotInteger", "com.example",
                  package_with(kOk + "<SortingPriority>high</SortingPriority>\n"), 4,
                  "SortingPriority \"high\" is not an integer"},
        Rejection{"SortingPriorityFraction", "com.example",
                  package_with(kOk + "<SortingPriority>1.5</SortingPriority>\n"), 4,
                  "SortingPriority \"1.5\" is not an integer"},
        Rejection{"LicenseWithoutFile", "com.example",
                  package_with(kOk + "<Licenses>\n<License name=\"GPL\"/>\n</Licenses>\n"), 5,
                  "License needs both a name and a file attribute"},
        Rejection{"OperationWithoutName", "com.example",
                  package_with(kOk + "<Operations>\n<Operation/>\n</Operations>\n"), 5,
                  "Operation has no name attribute"},
        Rejection{"EmptyUserInterface", "com.example",
                  package_with(kOk + "<UserInterfaces><UserInterface/></UserInterfaces>\n"), 4,
                  "UserInterface is empty"},
        // Names that become paths: the component's directory, its files' prefix, its archives
        // and its meta files.
        Rejection{"NameWithSpace", "com example", package_with(kOk), 0,
                  "component name \"com example\" contains a space"},
        Rejection{"NameDotDot", "..", package_with(kOk), 0, "component name \"..\" starts with '.'"},
        Rejection{"VersionLeavingTheRepository", "com.example",
                  package_with("<Version>../../OUTSIDE</Version>\n"), 3,
                  "Version \"../../OUTSIDE\" contains '/' (a version is part of the repository's "
                  "file names"},
        Rejection{"VersionWithSlash", "com.example", package_with("<Version>1/2</Version>\n"), 3,
                  "Version \"1/2\" contains '/'"},
        Rejection{"VersionWithSpace", "com.example", package_with("<Version>1 0</Version>\n"), 3,
                  "Version \"1 0\" contains a space"},
        Rejection{"VersionWithNewline", "com.example", package_with("<Version>1\n0</Version>\n"),
                  3, "Version \"1\n0\" contains a control character (0x0a)"},
        Rejection{"DownloadableArchiveLeavingTheRepository", "com.example",
                  package_with(kOk + "<DownloadableArchives>../x.7z</DownloadableArchives>\n"), 4,
                  "archive name \"../x.7z\" contains '/'"},
        Rejection{"ScriptOutsideMeta", "com.example",
                  package_with(kOk + "<Script>../data/x.qs</Script>\n"), 4,
                  "meta file name \"../data/x.qs\" has the path element \"..\""},
        Rejection{"LicenseFileAbsolute", "com.example",
                  package_with(kOk + "<Licenses>\n<License name=\"L\" file=\"/etc/passwd\"/>\n"
                                     "</Licenses>\n"),
                  4, "meta file name \"/etc/passwd\" has an empty path element"},
        Rejection{"TranslationOutsideMeta", "com.example",
                  package_with(kOk + "<Translations><Translation>../de.qm</Translation>"
                                     "</Translations>\n"),
                  4, "meta file name \"../de.qm\""}),
    [](const ::testing::TestParamInfo<Rejection>& info) { return info.param.label; });

}  // namespace
}  // namespace ferry::formats
