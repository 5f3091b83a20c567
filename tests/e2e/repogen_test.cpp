// End-to-end: the real `ferry repogen` on real packages trees, checked the way a publisher
// would check the result (files on disk, Updates.xml, 7z/bsdtar, repo verify).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "core/hash.hpp"
#include "e2e/e2e_support.hpp"
#include "formats/updates_xml.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;

formats::RepositoryIndex read_index(const fs::path& repository) {
    return formats::parse_updates_xml(read_text(repository / "Updates.xml"), "Updates.xml");
}

std::vector<std::string> archive_listing(const fs::path& archive) {
    auto r = run({"/usr/bin/bsdtar", "-tf", archive.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> names;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        names.push_back(line);
    }
    return names;
}

class Repogen : public FerryTest {};

TEST_F(Repogen, ExampleRepositoryHasIfwLayoutAndVerifies) {
    const fs::path packages = example_packages();
    auto r = ferry({"repogen", "-p", packages.string(), "repo"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const fs::path repo = root() / "repo";
    const auto index = read_index(repo);
    EXPECT_TRUE(index.checksum);
    ASSERT_EQ(index.packages.size(), 3u);

    const auto* app = index.find("com.example.app");
    ASSERT_NE(app, nullptr);
    EXPECT_EQ(app->component.version, "1.0.0");
    EXPECT_EQ(app->component.downloadable_archives,
              (std::vector<std::string>{"bin.7z", "content.7z", "share.7z"}));
    std::uint64_t total = 0;
    for (const auto& name : app->component.downloadable_archives) {
        const fs::path archive = repo / "com.example.app" / ("1.0.0" + name);
        ASSERT_TRUE(fs::is_regular_file(archive)) << archive;
        total += fs::file_size(archive);
        const std::string sidecar = read_text(archive.string() + ".sha1");
        EXPECT_EQ(sidecar, core::digest_file(archive).sha1) << "sidecar: 40 hex, no newline";
        EXPECT_EQ(run({"/usr/bin/7z", "t", archive.string()}).exit_code, 0) << archive;
    }
    EXPECT_EQ(app->compressed_size, total) << "UpdateFile counts the archives, not the sidecars";
    EXPECT_THAT(archive_listing(repo / "com.example.app" / "1.0.0bin.7z"),
                ::testing::UnorderedElementsAre("bin/", "bin/example", "bin/example-app"));
    EXPECT_THAT(archive_listing(repo / "com.example.app" / "1.0.0content.7z"),
                ::testing::ElementsAre("README.txt"));

    // Per-component metadata holds <Name>/ with the script and the licence, and its SHA1 is in
    // the index; the united metadata is named at the root.
    const fs::path meta = repo / "com.example.app" / "1.0.0meta.7z";
    EXPECT_THAT(archive_listing(meta), ::testing::IsSupersetOf({"com.example.app/installscript.qs",
                                                                "com.example.app/license.txt"}));
    EXPECT_EQ(app->meta_sha1, core::digest_file(meta).sha1);
    ASSERT_FALSE(index.metadata_name.empty());
    EXPECT_EQ(index.metadata_sha1, core::digest_file(repo / index.metadata_name).sha1);
    EXPECT_THAT(archive_listing(repo / index.metadata_name),
                ::testing::IsSupersetOf(
                    {"com.example.app/license.txt", "com.example.docs/", "com.example.runtime/"}));

    auto verify = ferry({"repo", "verify", "repo"});
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);
    EXPECT_THAT(verify.out, HasSubstr("OK"));
}

TEST_F(Repogen, SameInputGivesByteIdenticalRepository) {
    const fs::path packages = example_packages();
    ASSERT_EQ(ferry({"repogen", "-p", packages.string(), "one"}).exit_code, 0);
    // Touch every input: times and unrelated permission bits must not matter.
    for (const auto& entry : fs::recursive_directory_iterator(packages)) {
        if (entry.is_regular_file() && !entry.is_symlink()) {
            fs::last_write_time(entry.path(), fs::file_time_type::clock::now());
            fs::permissions(entry.path(), fs::perms::group_write, fs::perm_options::add);
        }
    }
    ASSERT_EQ(ferry({"repogen", "-j", "1", "-p", packages.string(), "two"}).exit_code, 0);
    EXPECT_EQ(snapshot_tree(root() / "one"), snapshot_tree(root() / "two"));
}

TEST_F(Repogen, UpdateRebuildsOnlySelectedComponentsAndKeepsOneEarlierVersion) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"a.txt", "a one"}});
    make_package(packages, "b", "1.0", {{"b.txt", "b one"}});
    ASSERT_EQ(ferry({"repogen", "-p", packages.string(), "repo"}).exit_code, 0);
    const fs::path repo = root() / "repo";
    struct stat b_before {};
    ASSERT_EQ(::stat((repo / "b/1.0content.7z").c_str(), &b_before), 0);

    make_package(packages, "a", "2.0", {{"a.txt", "a two"}});
    make_package(packages, "b", "9.0", {{"b.txt", "b changed but not selected"}});
    auto r = ferry({"repogen", "--update", "-i", "a", "-p", packages.string(), "repo", "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto summary = nlohmann::json::parse(r.out);
    ASSERT_EQ(summary["components"].size(), 2u);
    EXPECT_EQ(summary["components"][0]["action"], "built");
    EXPECT_EQ(summary["components"][1]["action"], "unchanged");

    auto index = read_index(repo);
    EXPECT_EQ(index.find("a")->component.version, "2.0");
    EXPECT_EQ(index.find("b")->component.version, "1.0");
    EXPECT_TRUE(fs::exists(repo / "a/2.0content.7z"));
    EXPECT_TRUE(fs::exists(repo / "a/1.0content.7z")) << "kept for older clients";
    EXPECT_TRUE(fs::exists(repo / "a/1.0content.7z.sha1"));
    struct stat b_after {};
    ASSERT_EQ(::stat((repo / "b/1.0content.7z").c_str(), &b_after), 0);
    EXPECT_EQ(b_before.st_ino, b_after.st_ino) << "b was not selected and must not be touched";
    EXPECT_EQ(b_before.st_mtime, b_after.st_mtime);
    EXPECT_EQ(ferry({"repo", "verify", "repo"}).exit_code, 0);

    make_package(packages, "a", "3.0", {{"a.txt", "a three"}});
    ASSERT_EQ(ferry({"repogen", "--update", "-i", "a", "-p", packages.string(), "repo"}).exit_code,
              0);
    EXPECT_TRUE(fs::exists(repo / "a/3.0content.7z"));
    EXPECT_TRUE(fs::exists(repo / "a/2.0content.7z"));
    EXPECT_FALSE(fs::exists(repo / "a/1.0content.7z")) << "--keep 1 keeps one earlier version";
    EXPECT_FALSE(fs::exists(repo / "a/1.0meta.7z"));
    auto verify = ferry({"repo", "verify", "repo"});
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);
}

TEST_F(Repogen, UnchangedComponentsReuseTheirArchives) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"a.txt", std::string(100000, 'a')}});
    make_package(packages, "b", "1.0", {{"b.txt", "b"}});
    ASSERT_EQ(ferry({"repogen", "-p", packages.string(), "repo"}).exit_code, 0);
    make_package(packages, "b", "1.1", {{"b.txt", "b changed"}});
    auto r = ferry({"repogen", "--update", "-p", packages.string(), "repo", "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto summary = nlohmann::json::parse(r.out);
    EXPECT_EQ(summary["components"][0]["name"], "a");
    EXPECT_EQ(summary["components"][0]["action"], "reused");
    EXPECT_EQ(summary["components"][1]["action"], "built");
}

TEST_F(Repogen, UpdateNewComponentsTakesOnlyNewerVersions) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"a.txt", "a"}});
    make_package(packages, "b", "1.0", {{"b.txt", "b"}});
    ASSERT_EQ(ferry({"repogen", "-p", packages.string(), "repo"}).exit_code, 0);
    make_package(packages, "a", "1.0", {{"a.txt", "same version, other content"}});
    make_package(packages, "b", "1.1", {{"b.txt", "newer"}});
    make_package(packages, "c", "0.1", {{"c.txt", "new component"}});
    auto r = ferry({"repogen", "--update-new-components", "-p", packages.string(), "repo"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto index = read_index(root() / "repo");
    EXPECT_EQ(index.find("b")->component.version, "1.1");
    ASSERT_NE(index.find("c"), nullptr);
    EXPECT_EQ(index.find("a")->archives, read_index(root() / "repo").find("a")->archives);
    auto listing = archive_listing(root() / "repo/a/1.0content.7z");
    EXPECT_THAT(listing, ::testing::ElementsAre("a.txt"));
}

TEST_F(Repogen, IncludeAndExcludeSelectComponents) {
    const fs::path packages = example_packages();
    ASSERT_EQ(ferry({"repogen", "-p", packages.string(), "-i",
                     "com.example.app,com.example.runtime", "inc"})
                  .exit_code,
              0);
    auto inc = read_index(root() / "inc");
    EXPECT_EQ(inc.packages.size(), 2u);
    EXPECT_EQ(inc.find("com.example.docs"), nullptr);
    ASSERT_EQ(ferry({"repogen", "-p", packages.string(), "-e", "com.example.app", "exc"}).exit_code,
              0);
    auto exc = read_index(root() / "exc");
    EXPECT_EQ(exc.packages.size(), 2u);
    EXPECT_EQ(exc.find("com.example.app"), nullptr);
    EXPECT_FALSE(fs::exists(root() / "exc/com.example.app"));
}

TEST_F(Repogen, MetadataModes) {
    const fs::path packages = example_packages();
    ASSERT_EQ(ferry({"repogen", "--unite-metadata", "-p", packages.string(), "united"}).exit_code,
              0);
    auto united = read_index(root() / "united");
    EXPECT_FALSE(united.metadata_name.empty());
    EXPECT_TRUE(united.find("com.example.app")->meta_sha1.empty());
    EXPECT_FALSE(fs::exists(root() / "united/com.example.app/1.0.0meta.7z"));

    ASSERT_EQ(
        ferry({"repogen", "--component-metadata", "-p", packages.string(), "component"}).exit_code,
        0);
    auto component = read_index(root() / "component");
    EXPECT_TRUE(component.metadata_name.empty());
    EXPECT_FALSE(component.find("com.example.app")->meta_sha1.empty());
    EXPECT_TRUE(fs::exists(root() / "component/com.example.app/1.0.0meta.7z"));
    for (const char* dir : {"united", "component"}) {
        auto verify = ferry({"repo", "verify", dir});
        EXPECT_EQ(verify.exit_code, 0) << describe(verify);
    }
}

TEST_F(Repogen, EveryArchiveFormatIsReadableByBsdtar) {
    const fs::path packages = example_packages();
    for (std::string format : {"7z", "zip", "tar", "tar.gz", "tar.bz2", "tar.xz", "tar.zst"}) {
        const std::string dir = "repo-" + format;
        auto r = ferry({"repogen", "--af", format, "--ac", "9", "-p", packages.string(), dir});
        ASSERT_EQ(r.exit_code, 0) << format << "\n" << describe(r);
        const fs::path archive = root() / dir / "com.example.app" / ("1.0.0bin." + format);
        ASSERT_TRUE(fs::exists(archive)) << archive;
        EXPECT_THAT(archive_listing(archive), ::testing::Contains("bin/example-app"));
        EXPECT_EQ(ferry({"repo", "verify", dir}).exit_code, 0) << format;
    }
}

TEST_F(Repogen, ShaUpdateWritesContentSha1) {
    const fs::path packages = example_packages();
    ASSERT_EQ(
        ferry({"repogen", "-s", "com.example.app", "-p", packages.string(), "repo"}).exit_code, 0);
    auto index = read_index(root() / "repo");
    EXPECT_TRUE(core::is_hex_digest(index.find("com.example.app")->component.content_sha1, 40));
    EXPECT_TRUE(index.find("com.example.docs")->component.content_sha1.empty());
}

TEST_F(Repogen, RepositoryOptionCopiesComponentsFromAnotherRepository) {
    const fs::path packages = root() / "packages";
    const fs::path others = root() / "others";
    make_package(packages, "a", "1.0", {{"a.txt", "a"}});
    make_package(others, "z", "3.0", {{"z.txt", "z"}});
    ASSERT_EQ(ferry({"repogen", "-p", others.string(), "source"}).exit_code, 0);
    auto r = ferry({"repogen", "-p", packages.string(), "--repository", "source", "repo"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto index = read_index(root() / "repo");
    ASSERT_NE(index.find("z"), nullptr);
    EXPECT_EQ(read_text(root() / "repo/z/3.0content.7z"),
              read_text(root() / "source/z/3.0content.7z"));
    EXPECT_EQ(ferry({"repo", "verify", "repo"}).exit_code, 0);
}

TEST_F(Repogen, InvokedAsRepogenBehavesLikeIfwTool) {
    const fs::path packages = example_packages();
    fs::create_symlink(FERRY_BINARY, root() / "repogen");
    auto r = run({(root() / "repogen").string(), "-p", packages.string(), "repo"}, {}, root());
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_TRUE(fs::exists(root() / "repo/Updates.xml"));
}

}  // namespace
}  // namespace ferry::testing

namespace ferry::testing {
namespace {

// The whole pipeline's output for the example tree, as a reviewer sees it in a diff. Set
// FERRY_UPDATE_GOLDEN=1 to rewrite the golden file after an intended change.
TEST_F(Repogen, ExampleIndexMatchesGoldenFile) {
    const fs::path packages = example_packages();
    auto r = ferry({"repogen", "-p", packages.string(), "repo"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    expect_matches_golden("example-repository.xml", read_text(root() / "repo/Updates.xml"));
}

}  // namespace
}  // namespace ferry::testing

namespace ferry::testing {
namespace {

TEST_F(Repogen, ChangedDataWithoutANewVersionIsWarnedAbout) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"a.txt", "one"}});
    make_package(packages, "b", "1.0", {{"b.txt", "b"}});
    ASSERT_EQ(ferry({"repogen", "-p", packages.string(), "repo"}).exit_code, 0);
    make_package(packages, "a", "1.0", {{"a.txt", "two"}});
    auto r = ferry({"repogen", "--update", "-p", packages.string(), "repo"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("component a: its data changed but its Version 1.0 did not"));
    EXPECT_THAT(r.err, ::testing::Not(HasSubstr("component b")));

    make_package(packages, "a", "1.0", {{"a.txt", "three"}});
    r = ferry({"repogen", "--update", "-s", "a", "-p", packages.string(), "repo"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err, "") << "with -s the ContentSha1 announces the change";
}

}  // namespace
}  // namespace ferry::testing
