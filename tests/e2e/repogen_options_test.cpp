// End-to-end: the remaining repogen options (-r, --ignore-translations,
// --ignore-invalid-repositories), the progress line on a terminal, and --help everywhere.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "e2e/e2e_support.hpp"
#include "formats/updates_xml.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RepogenOptions : public FerryTest {};

TEST_F(RepogenOptions, RemoveReplacesTheRepositoryAndReusesUnchangedArchives) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"a.bin", random_bytes(50000, 3)}});
    make_package(packages, "gone", "1.0", {{"g.txt", "g"}});
    ASSERT_EQ(ferry({"repogen", "-p", packages.string(), "repo"}).exit_code, 0);
    struct stat before {};
    ASSERT_EQ(::stat((root() / "repo/a/1.0content.7z").c_str(), &before), 0);

    fs::remove_all(packages / "gone");
    auto r = ferry({"repogen", "-r", "--json", "-p", packages.string(), "repo"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("\"reused\""));
    const auto summary = nlohmann::json::parse(r.out);
    EXPECT_LT(summary["bytes_written"].get<std::uint64_t>(),
              fs::file_size(root() / "repo/a/1.0content.7z"))
        << "a linked archive is not counted as written";
    EXPECT_FALSE(fs::exists(root() / "repo/gone")) << "-r starts the repository afresh";
    struct stat after {};
    ASSERT_EQ(::stat((root() / "repo/a/1.0content.7z").c_str(), &after), 0);
    EXPECT_EQ(before.st_ino, after.st_ino) << "the unchanged archive is linked, not rewritten";
    for (const auto& entry : fs::directory_iterator(root())) {
        EXPECT_THAT(entry.path().filename().string(), Not(HasSubstr("ferry-new")))
            << "no staging directory is left behind";
    }
    EXPECT_EQ(ferry({"repo", "verify", "repo"}).exit_code, 0);
}

TEST_F(RepogenOptions, IgnoreTranslationsLeavesThemOutOfTheMetadata) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"a.txt", "a"}},
                 " <Translations><Translation>de.qm</Translation></Translations>\n");
    write_text(packages / "a/meta/de.qm", "translation");
    ASSERT_EQ(ferry({"repogen", "-p", packages.string(), "with"}).exit_code, 0);
    ASSERT_EQ(
        ferry({"repogen", "--ignore-translations", "-p", packages.string(), "without"}).exit_code,
        0);
    auto listing = [&](const std::string& repo) {
        return run({"/usr/bin/bsdtar", "-tf", (root() / repo / "a/1.0meta.7z").string()}).out;
    };
    EXPECT_THAT(listing("with"), HasSubstr("a/de.qm"));
    EXPECT_THAT(listing("without"), Not(HasSubstr("de.qm")));

    fs::remove(packages / "a/meta/de.qm");
    auto r = ferry({"repogen", "-p", packages.string(), "missing"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("Translation \"de.qm\" not found"));
}

TEST_F(RepogenOptions, IgnoreInvalidRepositoriesSkipsThemWithAWarning) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"a.txt", "a"}});
    fs::create_directories(root() / "not-a-repo");
    auto r = ferry({"repogen", "-p", packages.string(), "--repository", "not-a-repo", "one"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("not-a-repo"));
    r = ferry({"repogen", "--ignore-invalid-repositories", "-p", packages.string(), "--repository",
               "not-a-repo", "two"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("warning"));
    EXPECT_TRUE(fs::exists(root() / "two/Updates.xml"));
}

TEST_F(RepogenOptions, ProgressShowsOnATerminalOnly) {
    const fs::path packages = example_packages();
    // script(1) gives the command a pseudo-terminal and records what it printed there.
    auto r = run({"/usr/bin/script", "-qec",
                  std::string(FERRY_BINARY) + " repogen -p " + packages.string() + " tty",
                  (root() / "typescript").string()},
                 {}, root());
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(read_text(root() / "typescript"), HasSubstr("component"));
    EXPECT_THAT(read_text(root() / "typescript"), HasSubstr(" of 3"));

    r = ferry({"repogen", "-p", packages.string(), "pipe"});
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.err, "") << "no progress when stderr is not a terminal";
}

TEST_F(RepogenOptions, EveryCommandHasHelp) {
    for (std::vector<std::string> command : {std::vector<std::string>{},
                                             {"repogen"},
                                             {"repo"},
                                             {"repo", "verify"},
                                             {"repo", "redirect"},
                                             {"repo", "redirect", "add"},
                                             {"repo", "redirect", "remove"},
                                             {"repo", "redirect", "replace"},
                                             {"repo", "redirect", "drop"},
                                             {"repo", "redirect", "list"}}) {
        command.push_back("--help");
        auto r = ferry(command);
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        EXPECT_THAT(r.out, HasSubstr("Usage"));
    }
    auto r = ferry({"repogen"});
    EXPECT_EQ(r.exit_code, 2) << "a missing REPOSITORY_DIR is a usage error";
    EXPECT_THAT(r.err, HasSubstr("REPOSITORY_DIR"));
    r = ferry({"--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("ferry"));
}

}  // namespace
}  // namespace ferry::testing
