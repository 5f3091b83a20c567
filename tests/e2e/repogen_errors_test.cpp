// End-to-end: bad input gets an error naming the package, the file and the cause, and a failed
// run leaves an existing repository exactly as it was. Also `repo verify` and `repo redirect`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "e2e/e2e_support.hpp"
#include "formats/updates_xml.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;

class RepogenErrors : public FerryTest {
  protected:
    // A valid repository "repo" from packages a and b.
    fs::path make_repository() {
        const fs::path packages = root() / "packages";
        make_package(packages, "a", "1.0", {{"a.txt", "a"}});
        make_package(packages, "b", "1.0", {{"b.txt", "b"}});
        auto r = ferry({"repogen", "-p", packages.string(), "repo"});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return packages;
    }
};

TEST_F(RepogenErrors, MissingPackageXmlIsNamed) {
    const fs::path packages = root() / "packages";
    write_text(packages / "a" / "data" / "x.txt", "x");
    auto r = ferry({"repogen", "-p", packages.string(), "repo"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("a/meta/package.xml"));
    EXPECT_FALSE(fs::exists(root() / "repo"));
}

TEST_F(RepogenErrors, InvalidComponentNameNamesTheCharacter) {
    const fs::path packages = root() / "packages";
    make_package(packages, "com.acme-app", "1.0", {{"x.txt", "x"}});
    auto r = ferry({"repogen", "-p", packages.string(), "repo"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("com.acme-app"));
    EXPECT_THAT(r.err, HasSubstr("'-'"));
}

TEST_F(RepogenErrors, InvalidVersionNamesFileAndLine) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", ">1.0", {{"x.txt", "x"}});
    auto r = ferry({"repogen", "-p", packages.string(), "repo"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("a/meta/package.xml:"));
    EXPECT_THAT(r.err, HasSubstr("Version"));
}

TEST_F(RepogenErrors, IgnoreInvalidPackagesSkipsThemWithAWarning) {
    const fs::path packages = root() / "packages";
    make_package(packages, "good", "1.0", {{"x.txt", "x"}});
    make_package(packages, "bad", "", {{"x.txt", "x"}});
    auto r = ferry({"repogen", "--ignore-invalid-packages", "-p", packages.string(), "repo"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("bad"));
    EXPECT_TRUE(fs::exists(root() / "repo/good"));
    EXPECT_FALSE(fs::exists(root() / "repo/bad"));
}

TEST_F(RepogenErrors, NonEmptyTargetWithoutUpdateIsRefusedAndUntouched) {
    const fs::path packages = make_repository();
    const auto before = snapshot_tree(root() / "repo");
    auto r = ferry({"repogen", "-p", packages.string(), "repo"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("not empty"));
    EXPECT_THAT(r.err, HasSubstr("--update"));
    EXPECT_EQ(snapshot_tree(root() / "repo"), before);

    write_text(root() / "notrepo" / "precious.txt", "keep me");
    r = ferry({"repogen", "-r", "-p", packages.string(), "notrepo"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(read_text(root() / "notrepo" / "precious.txt"), "keep me");
}

TEST_F(RepogenErrors, FailedUpdateLeavesRepositoryAsItWas) {
    const fs::path packages = make_repository();
    const auto before = snapshot_tree(root() / "repo");
    make_package(packages, "a", "2.0", {{"a.txt", "a2"}});
    write_text(packages / "b" / "meta" / "package.xml", "<Package><Version>2.0</Version>");
    auto r = ferry({"repogen", "--update", "-p", packages.string(), "repo"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("b/meta/package.xml"));
    EXPECT_EQ(snapshot_tree(root() / "repo"), before);
}

TEST_F(RepogenErrors, FullDiskLeavesRepositoryAsItWas) {
    const fs::path packages = make_repository();
    const auto before = snapshot_tree(root() / "repo");
    make_package(packages, "a", "2.0", {{"big.bin", random_bytes(3 << 20, 11)}});
    // A file size limit makes every write past 1 MB fail as a full disk would.
    auto r = run({"/usr/bin/prlimit", "--fsize=1000000", FERRY_BINARY, "repogen", "--update", "-p",
                  packages.string(), "repo"},
                 {{"SOURCE_DATE_EPOCH", "1767225600"}}, root());
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("a/2.0content.7z"));
    EXPECT_EQ(snapshot_tree(root() / "repo"), before);
    EXPECT_EQ(ferry({"repo", "verify", "repo"}).exit_code, 0);
}

TEST_F(RepogenErrors, SpecialFileInDataIsRefused) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"sub/x.txt", "x"}});
    ASSERT_EQ(::mkfifo((packages / "a/data/sub/pipe").c_str(), 0644), 0);
    auto r = ferry({"repogen", "-p", packages.string(), "repo"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("pipe"));
    EXPECT_FALSE(fs::exists(root() / "repo"));
}

TEST_F(RepogenErrors, UnknownFormatAndLevelAreUsageErrors) {
    const fs::path packages = make_repository();
    auto r = ferry({"repogen", "--af", "rar", "-p", packages.string(), "other"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.err, HasSubstr("rar"));
    r = ferry({"repogen", "--ac", "4", "-p", packages.string(), "other"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.err, HasSubstr("4"));
    EXPECT_FALSE(fs::exists(root() / "other"));
}

TEST_F(RepogenErrors, VerifyListsEveryProblem) {
    make_repository();
    const fs::path repo = root() / "repo";
    {
        std::string archive = read_text(repo / "a/1.0content.7z");
        archive[archive.size() / 2] ^= 0x55;
        write_text(repo / "a/1.0content.7z", archive);
    }
    write_text(repo / "b/1.0content.7z.sha1", "not a sha1\n");
    fs::remove(repo / "b/1.0meta.7z");
    auto r = ferry({"repo", "verify", "repo"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.out, HasSubstr("a/1.0content.7z: SHA-256"));
    EXPECT_THAT(r.out, HasSubstr("b/1.0content.7z.sha1: must hold exactly 40"));
    EXPECT_THAT(r.out, HasSubstr("b/1.0meta.7z: missing"));
    EXPECT_THAT(r.out, HasSubstr("problems"));
}

TEST_F(RepogenErrors, RedirectEditsOnlyRepositoryUpdate) {
    make_repository();
    const fs::path repo = root() / "repo";
    const auto before = formats::parse_updates_xml(read_text(repo / "Updates.xml"), "before");
    ASSERT_EQ(ferry({"repo", "redirect", "add", "repo", "--url", "../mirror", "--displayname",
                     "Mirror", "--username", "u", "--password", "p"})
                  .exit_code,
              0);
    ASSERT_EQ(
        ferry({"repo", "redirect", "remove", "repo", "--url", "http://old.example/repo"}).exit_code,
        0);
    ASSERT_EQ(ferry({"repo", "redirect", "replace", "repo", "--old-url", "http://a.example/r",
                     "--new-url", "../r2"})
                  .exit_code,
              0);
    auto after = formats::parse_updates_xml(read_text(repo / "Updates.xml"), "after");
    ASSERT_EQ(after.repository_updates.size(), 3u);
    EXPECT_EQ(after.repository_updates[0].url, "../mirror");
    EXPECT_EQ(after.repository_updates[0].display_name, "Mirror");
    EXPECT_EQ(after.repository_updates[0].username, "u");
    EXPECT_EQ(after.repository_updates[1].kind, formats::RepositoryAction::Kind::remove);
    EXPECT_EQ(after.repository_updates[2].new_url, "../r2");
    after.repository_updates.clear();
    EXPECT_EQ(after, before) << "everything but RepositoryUpdate stays as it was";
    EXPECT_EQ(ferry({"repo", "verify", "repo"}).exit_code, 0);

    // Adding the same URL again replaces the entry; drop deletes it.
    ASSERT_EQ(ferry({"repo", "redirect", "add", "repo", "--url", "../mirror"}).exit_code, 0);
    ASSERT_EQ(ferry({"repo", "redirect", "drop", "repo", "--url", "../mirror"}).exit_code, 0);
    auto listed = ferry({"repo", "redirect", "list", "repo"});
    EXPECT_THAT(listed.out, ::testing::Not(HasSubstr("../mirror")));
    EXPECT_THAT(listed.out, HasSubstr("../r2"));
    auto missing = ferry({"repo", "redirect", "drop", "repo", "--url", "../nothing"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_THAT(missing.err, HasSubstr("../nothing"));
}

}  // namespace
}  // namespace ferry::testing

namespace ferry::testing {
namespace {

TEST_F(RepogenErrors, UnreadableFileIsNamed) {
    // Run as an unprivileged user, for whom a mode-000 file really is unreadable.
    fs::permissions(root(), fs::perms::all, fs::perm_options::add);
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"secret.txt", "s"}, {"ok.txt", "o"}});
    fs::permissions(packages / "a/data/secret.txt", fs::perms::none);
    auto r = run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  FERRY_BINARY, "repogen", "-p", packages.string(), "repo"},
                 {{"SOURCE_DATE_EPOCH", "1767225600"}}, root());
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("secret.txt"));
    EXPECT_THAT(r.err, HasSubstr("Permission denied"));
    EXPECT_FALSE(fs::exists(root() / "repo"));
}

}  // namespace
}  // namespace ferry::testing
