// Tests of the Updates.xml reader and writer: golden files for the written bytes, round trips,
// IFW-made repositories (our fixtures; IFW's own test data is in updates_xml_ifw_test.cpp) and
// the rejected inputs.
//
// Golden files: tests/data/golden/updates_*.xml hold the exact bytes write_updates_xml must
// produce. After an intended format change, regenerate them with
//   FERRY_UPDATE_GOLDEN=1 ./build/dev/tests/ferry_unit_tests --gtest_filter='UpdatesXml*'
// and review the diff like any other change.
#include "formats/updates_xml.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "support/test_support.hpp"

namespace ferry::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

ArchiveRecord archive_of(const std::string& name, const std::string& content) {
    return {name, content.size(), core::sha1_hex(content), core::sha256_hex(content), {}};
}

// A package with every field set, including text that needs escaping.
PackageUpdate full_package() {
    PackageUpdate p;
    ComponentDescription& c = p.component;
    c.name = "com.example.app";
    c.display_names = {{"", "Example App"}, {"de", "Beispiel-App"}, {"ja", "サンプル"}};
    c.descriptions = {{"", "Tools & \"extras\" <beta> 'quoted'"}, {"de", "Werkzeuge > Extras"}};
    c.version = "1.2.3-1";
    c.release_date = "2024-02-29";
    c.default_value = "true";
    c.sorting_priority = 100;
    c.essential = true;
    c.forced_installation = true;
    c.forced_update = true;
    c.requires_admin_rights = true;
    c.checkable = true;
    c.expanded_by_default = true;
    c.dependencies = {"com.example.lib:>=1.0", "com.example.data"};
    c.auto_depend_on = {"com.example.lib"};
    c.replaces = {"com.example.oldapp", "com.example.legacy"};
    c.tree_name = TreeName{"apps.example", true};
    c.script = "installscript.qs";
    c.update_text = "Fixes a crash when\nthe window closes &\tmore.";
    c.licenses = {{"GPL \"v3\"", "gpl3.txt", "1"}, {"CC0 & friends", "cc0.txt", ""}};
    c.user_interfaces = {"page.ui", "form.ui"};
    c.translations = {"de.qm", "ja.qm"};
    c.operations = {{"Mkdir", {"@TargetDir@/data"}},
                    {"Execute", {"@TargetDir@/bin/setup", "--name=<x & y>", ""}}};
    c.downloadable_archives = {"content.7z", "docs.tar.gz"};
    c.content_sha1 = core::sha1_hex("content of the app");
    p.compressed_size = 12345;
    p.uncompressed_size = 18446744073709551615u;  // the largest size must survive
    p.os = "Any";
    p.meta_sha1 = core::sha1_hex("meta of the app");
    p.archives = {archive_of("1.2.3-1content.7z", "content"),
                  archive_of("1.2.3-1docs.tar.gz", "d")};
    p.archives[0].input_sha256 = core::sha256_hex("input of the content archive");
    p.meta_archive = archive_of("1.2.3-1meta.7z", "meta");
    p.retained = {{"1.2.2", {"com.example.app/1.2.2content.7z", "com.example.app/1.2.2meta.7z"}},
                  {"1.2.1", {"com.example.app/1.2.1content.7z"}}};
    return p;
}

// A virtual, uncheckable package with the least IFW writes.
PackageUpdate small_package() {
    PackageUpdate p;
    p.component.name = "com.example.lib";
    p.component.display_names = {{"", "Library"}};
    p.component.version = "1.0";
    p.component.release_date = "2023-01-02";
    p.component.default_value = "false";
    p.component.is_virtual = true;
    p.component.checkable = false;
    p.component.sorting_priority = -5;
    p.component.tree_name = TreeName{"libs.example", false};
    p.os = "Linux";
    return p;
}

// Per-component metadata: each PackageUpdate has its own <SHA1>.
RepositoryIndex component_meta_index() {
    RepositoryIndex index;
    index.application_name = "Ferry Demo & <Co>";
    index.application_version = "2.1.0";
    index.checksum = true;
    RepositoryAction add;
    add.kind = RepositoryAction::Kind::add;
    add.url = "../extra";
    add.username = "alice";
    add.password = "s3cr\"t&<";
    add.display_name = "Extra repository";
    RepositoryAction remove;
    remove.kind = RepositoryAction::Kind::remove;
    remove.url = "https://old.example.com/repo?a=1&b=2";
    RepositoryAction replace;
    replace.kind = RepositoryAction::Kind::replace;
    replace.old_url = "http://example.com/v1";
    replace.new_url = "https://example.com/v2";
    replace.username = "bob";
    replace.display_name = "Example\tv2\nmirror";
    index.repository_updates = {add, remove, replace};
    index.packages = {full_package(), small_package()};
    return index;
}

// United metadata: one meta archive for the repository, named at the root.
RepositoryIndex united_meta_index() {
    RepositoryIndex index;
    index.checksum = false;
    PackageUpdate full = full_package();
    full.meta_sha1.clear();
    full.meta_archive.reset();
    PackageUpdate small = small_package();
    index.packages = {full, small};
    index.metadata_sha1 = core::sha1_hex("united meta");
    index.metadata_name = "2024-03-01-1200_meta.7z";
    index.metadata_archive = archive_of("2024-03-01-1200_meta.7z", "united meta");
    index.retained_metadata = {{"", {"2024-02-01-1200_meta.7z"}}};
    return index;
}

// A service component: its description file and the blobs of its image.
RepositoryIndex service_index() {
    RepositoryIndex index;
    PackageUpdate web;
    web.component.name = "com.example.web";
    web.component.version = "2.0.0";
    web.component.release_date = "2024-05-01";
    web.component.dependencies = {"com.example.db"};
    ServiceRecord service;
    service.description = archive_of("service.json", "{\"image\":\"example/web:2\"}");
    service.image = "example/web:2";
    service.manifest = {"sha256:" + core::sha256_hex("manifest"), 420,
                        "application/vnd.docker.distribution.manifest.v2+json"};
    service.blobs = {{"sha256:" + core::sha256_hex("config"), 1024,
                      "application/vnd.docker.container.image.v1+json"},
                     {"sha256:" + core::sha256_hex("base"), 52428800,
                      "application/vnd.docker.image.rootfs.diff.tar"},
                     {"sha256:" + core::sha256_hex("app"), 4096,
                      "application/vnd.docker.image.rootfs.diff.tar.gzip"}};
    web.service = service;
    index.packages = {web, small_package()};
    return index;
}

TEST(UpdatesXml, ServiceMatchesGolden) {
    testing::expect_matches_golden("updates_service.xml", write_updates_xml(service_index()));
}

TEST(UpdatesXml, RoundTripKeepsAService) {
    const RepositoryIndex index = service_index();
    const std::string xml = write_updates_xml(index);
    const RepositoryIndex back = parse_updates_xml(xml, "Updates.xml");
    EXPECT_TRUE(back == index) << xml;
    ASSERT_TRUE(back.packages[0].service.has_value());
    EXPECT_EQ(back.packages[0].service->blobs.size(), 3u);
    EXPECT_FALSE(back.packages[1].service.has_value());
}

TEST(UpdatesXml, ComponentMetadataMatchesGolden) {
    testing::expect_matches_golden("updates_component_meta.xml",
                                   write_updates_xml(component_meta_index()));
}

TEST(UpdatesXml, UnitedMetadataMatchesGolden) {
    testing::expect_matches_golden("updates_united_meta.xml",
                                   write_updates_xml(united_meta_index()));
}

TEST(UpdatesXml, WriterLayoutLooksLikeIfw) {
    const std::string xml = write_updates_xml(component_meta_index());
    EXPECT_THAT(xml, ::testing::StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                           "<Updates>\n <ApplicationName>"));
    EXPECT_THAT(xml, ::testing::EndsWith("</PackageUpdate>\n</Updates>\n"));
    EXPECT_THAT(xml, HasSubstr("\n  <UpdateFile CompressedSize=\"12345\" "
                               "UncompressedSize=\"18446744073709551615\" OS=\"Any\"/>\n"));
    EXPECT_THAT(xml, HasSubstr("\n  <Repository action=\"remove\" "
                               "url=\"https://old.example.com/repo?a=1&amp;b=2\"/>\n"));
    EXPECT_THAT(xml, HasSubstr("<ApplicationName>Ferry Demo &amp; &lt;Co&gt;</ApplicationName>"));
    // Same index, same bytes.
    EXPECT_EQ(xml, write_updates_xml(component_meta_index()));
}

TEST(UpdatesXml, WriterAlwaysWritesUpdateFileAndSkipsUnsetElements) {
    RepositoryIndex index;
    PackageUpdate p;
    p.component.name = "a";
    p.component.version = "1";
    p.component.release_date = "2020-01-01";
    index.packages = {p};
    EXPECT_EQ(write_updates_xml(index),
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<Updates>\n"
              " <ApplicationName>{AnyApplication}</ApplicationName>\n"
              " <ApplicationVersion>1.0.0</ApplicationVersion>\n"
              " <Checksum>true</Checksum>\n"
              " <PackageUpdate>\n"
              "  <Name>a</Name>\n"
              "  <Version>1</Version>\n"
              "  <ReleaseDate>2020-01-01</ReleaseDate>\n"
              "  <UpdateFile CompressedSize=\"0\" UncompressedSize=\"0\" OS=\"Any\"/>\n"
              " </PackageUpdate>\n"
              "</Updates>\n");
}

TEST(UpdatesXml, WriterRefusesControlCharacters) {
    RepositoryIndex index;
    index.application_name = std::string("bad\x01name");
    EXPECT_THROW(write_updates_xml(index), Error);
}

TEST(UpdatesXml, RoundTripKeepsEveryField) {
    for (const RepositoryIndex& index : {component_meta_index(), united_meta_index()}) {
        const std::string xml = write_updates_xml(index);
        const RepositoryIndex back = parse_updates_xml(xml, "Updates.xml");
        EXPECT_TRUE(back == index) << xml;
        EXPECT_EQ(write_updates_xml(back), xml);
    }
}

TEST(UpdatesXml, RoundTripKeepsTheMarketRevision) {
    RepositoryIndex index = component_meta_index();
    index.revision = RevisionStamp{"com.acme.app", "2-lts", 7};
    const std::string xml = write_updates_xml(index);
    EXPECT_THAT(xml,
                HasSubstr("<FerryRevision app=\"com.acme.app\" major=\"2-lts\" number=\"7\"/>"));
    EXPECT_EQ(parse_updates_xml(xml, "Updates.xml").revision, index.revision);
    EXPECT_FALSE(parse_updates_xml(write_updates_xml(component_meta_index()), "Updates.xml")
                     .revision.has_value());
}

TEST(UpdatesXml, RoundTripKeepsSpecialText) {
    const RepositoryIndex back =
        parse_updates_xml(write_updates_xml(component_meta_index()), "Updates.xml");
    const PackageUpdate* app = back.find("com.example.app");
    ASSERT_NE(app, nullptr);
    EXPECT_EQ(back.application_name, "Ferry Demo & <Co>");
    EXPECT_EQ(app->component.descriptions[0].text, "Tools & \"extras\" <beta> 'quoted'");
    EXPECT_EQ(app->component.update_text, "Fixes a crash when\nthe window closes &\tmore.");
    EXPECT_EQ(back.repository_updates[0].password, "s3cr\"t&<");
    EXPECT_EQ(back.repository_updates[2].display_name, "Example\tv2\nmirror");
}

TEST(UpdatesXml, FindReturnsThePackageOrNull) {
    const RepositoryIndex index = component_meta_index();
    ASSERT_NE(index.find("com.example.lib"), nullptr);
    EXPECT_EQ(index.find("com.example.lib")->component.version, "1.0");
    EXPECT_EQ(index.find("com.example"), nullptr);
    EXPECT_EQ(index.find(""), nullptr);
}

TEST(UpdatesXml, ChecksumIsTrueOnlyWhenItSaysTrue) {
    auto checksum = [](const std::string& element) {
        return parse_updates_xml(
                   "<Updates><ApplicationName>a</ApplicationName>"
                   "<ApplicationVersion>1</ApplicationVersion>" +
                       element + "</Updates>",
                   "u.xml")
            .checksum;
    };
    EXPECT_TRUE(checksum("<Checksum>true</Checksum>"));
    EXPECT_TRUE(checksum("<Checksum>TRUE</Checksum>"));
    EXPECT_FALSE(checksum("<Checksum>false</Checksum>"));
    EXPECT_FALSE(checksum("<Checksum>yes</Checksum>"));
    EXPECT_FALSE(checksum(""));
}

fs::path fixture(const char* name) {
    return fs::path(FERRY_TEST_DATA) / "formats" / name;
}

RepositoryIndex read_fixture(const char* name) {
    const fs::path path = fixture(name);
    return parse_updates_xml(testing::read_text(path), path.string());
}

TEST(UpdatesXml, ReadsRootMetadataBetweenPackages) {
    const RepositoryIndex index = read_fixture("updates_united_between_packages.xml");
    EXPECT_TRUE(index.checksum);
    ASSERT_EQ(index.packages.size(), 2u);
    EXPECT_EQ(index.metadata_sha1, "6c2e8b0f0a3d4e5f60718293a4b5c6d7e8f90a1b");
    EXPECT_EQ(index.metadata_name, "2023-06-30-0915_meta.7z");
    const PackageUpdate* editor = index.find("org.example.editor");
    ASSERT_NE(editor, nullptr);
    EXPECT_EQ(editor->meta_sha1, "0b2f5ea4bbd8d48e6c4f1f4fc1a9e3a7c1d0e2f3");
    EXPECT_EQ(editor->compressed_size, 4096u);
    EXPECT_EQ(editor->uncompressed_size, 10240u);
    const PackageUpdate* spell = index.find("org.example.editor.spellcheck");
    ASSERT_NE(spell, nullptr);
    EXPECT_EQ(spell->component.dependencies, std::vector<std::string>{"org.example.editor:>=3.0"});
    EXPECT_EQ(spell->component.downloadable_archives,
              (std::vector<std::string>{"dict-en.7z", "dict-de.7z"}));
    EXPECT_EQ(spell->compressed_size, 1024u);
}

TEST(UpdatesXml, ReadsFileWithoutDeclaration) {
    const RepositoryIndex index = read_fixture("updates_without_declaration.xml");
    EXPECT_EQ(index.application_name, "Example Suite");
    EXPECT_EQ(index.application_version, "2.0");
    EXPECT_FALSE(index.checksum);  // no <Checksum> at all
    ASSERT_EQ(index.packages.size(), 1u);
    const ComponentDescription& core = index.packages[0].component;
    EXPECT_EQ(core.display_names, (std::vector<LocalizedText>{{"", "Core"}, {"fr", "Noyau"}}));
    EXPECT_TRUE(core.essential);
    EXPECT_TRUE(core.forced_installation);
    EXPECT_TRUE(index.packages[0].meta_sha1.empty());
}

TEST(UpdatesXml, SkipsUnknownElementsEverywhere) {
    const RepositoryIndex index = read_fixture("updates_unknown_elements.xml");
    ASSERT_EQ(index.repository_updates.size(), 1u);
    const RepositoryAction& replace = index.repository_updates[0];
    EXPECT_EQ(replace.kind, RepositoryAction::Kind::replace);
    EXPECT_EQ(replace.old_url, "http://old.example.org/repo");
    EXPECT_EQ(replace.new_url, "https://new.example.org/repo");
    EXPECT_EQ(replace.username, "reader");  // IFW's documented name= spelling
    EXPECT_EQ(replace.password, "pw");
    EXPECT_EQ(replace.display_name, "Mirror");
    ASSERT_EQ(index.packages.size(), 1u);
    const PackageUpdate& viewer = index.packages[0];
    EXPECT_EQ(viewer.component.script, "viewer.qs");
    EXPECT_EQ(viewer.component.user_interfaces, (std::vector<std::string>{"page.ui", "extra.ui"}));
    EXPECT_EQ(viewer.component.licenses, (std::vector<License>{{"MIT", "mit.txt", "2"}}));
    EXPECT_EQ(viewer.compressed_size, 7u);
    EXPECT_EQ(viewer.uncompressed_size, 9u);
}

struct Rejection {
    const char* label;
    std::string body;  // placed after the header, starting on line 4
    int line;
    std::string cause;
};

void PrintTo(const Rejection& r, std::ostream* os) {
    *os << r.label;
}

std::string with_header(const std::string& body) {
    return "<Updates>\n"
           " <ApplicationName>{AnyApplication}</ApplicationName>\n"
           " <ApplicationVersion>1.0.0</ApplicationVersion>\n" +
           body + "</Updates>\n";
}

// A valid PackageUpdate (on one line) with extra children.
std::string package_with(const std::string& children) {
    return "<PackageUpdate><Name>A</Name><Version>1</Version><ReleaseDate>2020-01-01"
           "</ReleaseDate>" +
           children + "</PackageUpdate>\n";
}

const std::string kSha1(40, 'a');
const std::string kSha256(64, 'b');

std::string ferry_archive(const std::string& element, const std::string& size,
                          const std::string& sha1, const std::string& sha256) {
    return "<" + element + " name=\"c.7z\" size=\"" + size + "\" sha1=\"" + sha1 + "\" sha256=\"" +
           sha256 + "\"/>";
}

class UpdatesXmlRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(UpdatesXmlRejects, NamesSourceLineAndCause) {
    const Rejection& r = GetParam();
    const std::string xml = r.line == 0 ? r.body : with_header(r.body);
    try {
        parse_updates_xml(xml, "repo/Updates.xml");
        FAIL() << "accepted:\n" << xml;
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), ::testing::StartsWith(
                                  fmt::format("repo/Updates.xml:{}: ", r.line == 0 ? 1 : r.line)));
        EXPECT_THAT(e.what(), HasSubstr(r.cause));
    }
}

INSTANTIATE_TEST_SUITE_P(
    Validation, UpdatesXmlRejects,
    ::testing::Values(
        // line 0: body is the whole document and the error is on its line 1.
        Rejection{"Malformed", "<Updates><ApplicationName>x</Updates>", 0, "malformed XML"},
        Rejection{"Empty", "", 0, "malformed XML: No document element found"},
        Rejection{"RevisionWithoutNumber",
                  "<Updates><ApplicationName>a</ApplicationName>"
                  "<ApplicationVersion>1</ApplicationVersion>"
                  "<FerryRevision app=\"a\" major=\"1\" number=\"x\"/></Updates>",
                  0, "FerryRevision needs app, major and a revision number"},
        Rejection{"WrongRoot", "<Package/>", 0, "root element is <Package>, expected <Updates>"},
        Rejection{"NoApplicationName",
                  "<Updates><ApplicationVersion>1</ApplicationVersion>"
                  "</Updates>",
                  0, "<Updates> has no ApplicationName"},
        Rejection{"NoApplicationVersion",
                  "<Updates><ApplicationName>a</ApplicationName>"
                  "</Updates>",
                  0, "<Updates> has no ApplicationVersion"},
        Rejection{"EmptyApplicationName",
                  "<Updates><ApplicationName> </ApplicationName>"
                  "<ApplicationVersion>1</ApplicationVersion></Updates>",
                  0, "ApplicationName is empty"},
        Rejection{"EmptyApplicationVersion",
                  "<Updates><ApplicationName>a</ApplicationName>"
                  "<ApplicationVersion/></Updates>",
                  0, "ApplicationVersion is empty"},
        Rejection{"PackageWithoutName",
                  package_with("") + "<PackageUpdate>\n<Version>1</Version>"
                                     "<ReleaseDate>2020-01-01</ReleaseDate></PackageUpdate>\n",
                  5, "PackageUpdate #2 has no Name"},
        Rejection{"PackageWithoutVersion",
                  "<PackageUpdate><Name>A</Name><ReleaseDate>2020-01-01</ReleaseDate>"
                  "</PackageUpdate>\n",
                  4, "PackageUpdate \"A\" has no Version"},
        Rejection{"PackageWithoutReleaseDate",
                  "\n<PackageUpdate><Name>A</Name><Version>1</Version></PackageUpdate>\n", 5,
                  "PackageUpdate \"A\" has no ReleaseDate"},
        Rejection{"CompressedSizeNotANumber",
                  package_with("\n<UpdateFile CompressedSize=\"12kB\" UncompressedSize=\"1\"/>"), 5,
                  "PackageUpdate \"A\": UpdateFile CompressedSize \"12kB\" is not a byte count"},
        Rejection{"UncompressedSizeNegative",
                  package_with("<UpdateFile CompressedSize=\"1\" UncompressedSize=\"-1\"/>"), 4,
                  "UpdateFile UncompressedSize \"-1\" is not a byte count"},
        Rejection{"UnknownRepositoryAction",
                  "<RepositoryUpdate>\n<Repository action=\"move\" url=\"x\"/>\n"
                  "</RepositoryUpdate>\n",
                  5, "Repository action \"move\" is unknown"},
        Rejection{"RepositoryWithoutAction",
                  "<RepositoryUpdate><Repository url=\"x\"/></RepositoryUpdate>\n", 4,
                  "Repository action \"\" is unknown"},
        Rejection{"AddWithoutUrl",
                  "<RepositoryUpdate><Repository action=\"add\"/></RepositoryUpdate>\n", 4,
                  "Repository action \"add\" has no url attribute"},
        Rejection{"RemoveWithoutUrl",
                  "<RepositoryUpdate><Repository action=\"remove\" url=\"\"/>"
                  "</RepositoryUpdate>\n",
                  4, "Repository action \"remove\" has no url attribute"},
        Rejection{"ReplaceWithoutOldUrl",
                  "<RepositoryUpdate><Repository action=\"replace\" newUrl=\"n\"/>"
                  "</RepositoryUpdate>\n",
                  4, "Repository action \"replace\" has no oldUrl attribute"},
        Rejection{"ReplaceWithoutNewUrl",
                  "<RepositoryUpdate><Repository action=\"replace\" oldUrl=\"o\"/>"
                  "</RepositoryUpdate>\n",
                  4, "Repository action \"replace\" has no newUrl attribute"},
        Rejection{"FerryArchiveBadSize",
                  package_with(ferry_archive("FerryArchive", "ten", kSha1, kSha256)), 4,
                  "PackageUpdate \"A\": FerryArchive \"c.7z\": size \"ten\" is not a byte count"},
        Rejection{"FerryArchiveUppercaseSha1",
                  package_with(ferry_archive("FerryArchive", "1", std::string(40, 'A'), kSha256)),
                  4, "sha1 \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" is not 40 lowercase hex"},
        Rejection{"FerryArchiveShortSha1",
                  package_with(ferry_archive("FerryArchive", "1", "abc", kSha256)), 4,
                  "sha1 \"abc\" is not 40 lowercase hex digits"},
        Rejection{"FerryArchiveBadSha256",
                  package_with(ferry_archive("FerryArchive", "1", kSha1, kSha1)), 4,
                  "sha256 \"" + kSha1 + "\" is not 64 lowercase hex digits"},
        Rejection{"FerryMetaArchiveBadSha256",
                  package_with(ferry_archive("FerryMetaArchive", "1", kSha1, "xyz")), 4,
                  "FerryMetaArchive \"c.7z\": sha256 \"xyz\""},
        Rejection{"FerryMetadataArchiveBadSize",
                  "\n" + ferry_archive("FerryMetadataArchive", "", kSha1, kSha256) + "\n", 5,
                  "FerryMetadataArchive \"c.7z\": size \"\" is not a byte count"},
        Rejection{"FerryArchiveWithoutName",
                  package_with("<FerryArchive size=\"1\" sha1=\"" + kSha1 + "\" sha256=\"" +
                               kSha256 + "\"/>"),
                  4, "FerryArchive has no name attribute"},
        // Names become paths and URLs in repogen and in the client: checked as they are read.
        Rejection{"NameWithSlash",
                  "<PackageUpdate><Name>../A</Name><Version>1</Version></PackageUpdate>\n", 4,
                  "component name \"../A\" contains '/'"},
        Rejection{"VersionLeavingTheRepository",
                  "<PackageUpdate><Name>A</Name>\n<Version>../../OUTSIDE</Version>"
                  "</PackageUpdate>\n",
                  5, "Version \"../../OUTSIDE\" contains '/'"},
        Rejection{"VersionWithSpace",
                  "<PackageUpdate><Name>A</Name><Version>1 0</Version></PackageUpdate>\n", 4,
                  "Version \"1 0\" contains a space"},
        Rejection{"ArchiveNameWithSlash",
                  package_with("<DownloadableArchives>a.7z, ../b.7z</DownloadableArchives>"), 4,
                  "archive name \"../b.7z\" contains '/'"},
        Rejection{"ScriptOutsideTheMetadata", package_with("<Script>../../x.qs</Script>"), 4,
                  "meta file name \"../../x.qs\" has the path element \"..\""},
        Rejection{"LicenseFileAbsolute",
                  package_with("<Licenses><License name=\"L\" file=\"/etc/passwd\"/></Licenses>"),
                  4, "meta file name \"/etc/passwd\" has an empty path element"},
        Rejection{"MetadataNameWithSlash", "<MetadataName>../m.7z</MetadataName>\n", 4,
                  "MetadataName \"../m.7z\" contains '/'"},
        Rejection{"FerryArchiveNameOutside",
                  package_with("<FerryArchive name=\"../c.7z\" size=\"1\" sha1=\"" + kSha1 +
                               "\" sha256=\"" + kSha256 + "\"/>"),
                  4, "FerryArchive name \"../c.7z\" has a directory that starts with '.'"},
        Rejection{"ServiceWithoutImage",
                  package_with(ferry_archive("FerryService", "1", kSha1, kSha256)), 4,
                  "PackageUpdate \"A\" has FerryService but no FerryImage"},
        Rejection{"ImageWithoutService",
                  package_with("<FerryImage reference=\"r\" digest=\"sha256:" + kSha256 +
                               "\" size=\"1\" media-type=\"m\"><Blob/></FerryImage>"),
                  4, "PackageUpdate \"A\": FerryImage without FerryService before it"},
        Rejection{"ImageDigestNotSha256",
                  package_with(ferry_archive("FerryService", "1", kSha1, kSha256) +
                               "\n<FerryImage reference=\"r\" digest=\"md5:" + kSha1 +
                               "\" size=\"1\" media-type=\"m\"/>"),
                  5, "FerryImage digest \"md5:" + kSha1 + "\" is not sha256: and 64 lowercase"},
        Rejection{"ImageBlobBadSize",
                  package_with(ferry_archive("FerryService", "1", kSha1, kSha256) +
                               "<FerryImage reference=\"r\" digest=\"sha256:" + kSha256 +
                               "\" size=\"1\" media-type=\"m\">\n<Blob digest=\"sha256:" + kSha256 +
                               "\" size=\"-2\" media-type=\"m\"/></FerryImage>"),
                  5, "Blob sha256:" + kSha256 + ": size \"-2\" is not a byte count"},
        Rejection{"ImageWithoutBlobs",
                  package_with(ferry_archive("FerryService", "1", kSha1, kSha256) +
                               "<FerryImage reference=\"r\" digest=\"sha256:" + kSha256 +
                               "\" size=\"1\" media-type=\"m\"/>"),
                  4, "FerryImage lists no blobs"},
        Rejection{"RetainedFileOutside",
                  package_with("<FerryRetained version=\"0.9\" files=\"A/0.9c.7z,/etc/x\"/>"), 4,
                  "FerryRetained file \"/etc/x\" has a directory that is empty"}),
    [](const ::testing::TestParamInfo<Rejection>& info) { return info.param.label; });

}  // namespace
}  // namespace ferry::formats
