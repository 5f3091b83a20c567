// Paths from outside input: what RelativePath accepts, and that ConfinedDir's operations stay
// beneath their directory whatever symlinks are in it.
#include <gtest/gtest.h>

#include "core/confined_dir.hpp"
#include "core/error.hpp"
#include "core/relative_path.hpp"
#include "support/test_support.hpp"

namespace ferry::core {
namespace {

using testing::error_of;
using testing::read_text;
using testing::write_text;
namespace fs = std::filesystem;

TEST(RelativePath, AcceptsOnlyCleanRelativePaths) {
    EXPECT_EQ(RelativePath::parse("a").str(), "a");
    EXPECT_EQ(RelativePath::parse("a/b.txt").str(), "a/b.txt");
    EXPECT_EQ(RelativePath::parse("..a/b..").str(), "..a/b..");
    for (const char* clean : {"a", "a/b.txt", "..a/b.."}) {
        EXPECT_EQ(relative_path_problem(clean), std::nullopt) << clean;
    }
    const std::pair<std::string, std::string> refused[] = {
        {"", "names no file"},
        {".", "names no file"},
        {"/etc/passwd", "is absolute"},
        {"..", "'..'"},
        {"../SENTINEL", "'..'"},
        {"a/../../b", "'..'"},
        {"a//b", "clean form"},
        {"./a", "clean form"},
        {"a/", "clean form"},
        {std::string("a\0b", 3), "NUL"},
    };
    for (const auto& [refused_text, cause] : refused) {
        const std::string text = refused_text;  // a lambda cannot capture a binding in clang 14
        const std::string message = error_of([&] { RelativePath::parse(text); });
        EXPECT_NE(message.find(cause), std::string::npos) << "\"" << text << "\": " << message;
        // The rule the repository's and the market's path checks ask, with the same reason.
        const auto problem = relative_path_problem(text);
        ASSERT_TRUE(problem.has_value()) << "\"" << text << "\" passed";
        EXPECT_NE(problem->find(cause), std::string::npos) << *problem;
    }
}

TEST(RelativePath, CleansArchiveNamesLeniently) {
    EXPECT_EQ(clean_relative_path("./a//b/").clean, "a/b");
    EXPECT_EQ(clean_relative_path(".").clean, "");
    EXPECT_EQ(clean_relative_path("a/../b").problem, "has a '..' component");
    EXPECT_EQ(clean_relative_path("/a").problem, "is absolute");
}

TEST(RelativePath, FileNamesHaveOneComponent) {
    EXPECT_NO_THROW(check_file_name("com.vendor.app", "component name"));
    for (std::string name : {"", ".", "..", "a/b", "../x"}) {
        EXPECT_THROW(check_file_name(name, "component name"), Error) << name;
    }
}

class ConfinedDirTest : public ::testing::Test {
  protected:
    fs::path inside() const { return scratch_.path() / "inside"; }
    fs::path outside() const { return scratch_.path() / "outside"; }
    static RelativePath at(std::string_view text) { return RelativePath::parse(text); }

    void SetUp() override {
        write_text(inside() / "dir/file", "mine");
        write_text(outside() / "SENTINEL", "keep me");
        fs::create_directory_symlink(outside(), inside() / "up");
        fs::create_directory_symlink("dir", inside() / "alias");
    }

    ScratchDir scratch_;
};

TEST_F(ConfinedDirTest, NeverResolvesThroughASymlink) {
    const ConfinedDir dir(inside());
    EXPECT_TRUE(dir.exists(at("dir/file")));
    EXPECT_TRUE(S_ISLNK(dir.status(at("up"))->st_mode)) << "the link itself, not its target";
    EXPECT_FALSE(dir.exists(at("missing/file")));
    // Through a symlink, even one that stays inside, nothing is reached.
    for (const char* path : {"up/SENTINEL", "alias/file"}) {
        const std::string message = error_of([&] { dir.status(at(path)); });
        EXPECT_NE(message.find("symlink"), std::string::npos) << path << ": " << message;
        EXPECT_THROW(dir.rename(at(path), at("taken")), Error) << path;
        EXPECT_THROW(dir.open_for_reading(at(path)), Error) << path;
    }
    EXPECT_THROW(dir.create_directories(at("up/new")), Error);
    EXPECT_FALSE(fs::exists(outside() / "new"));
    EXPECT_EQ(read_text(outside() / "SENTINEL"), "keep me");
}

TEST_F(ConfinedDirTest, RemoveAllDeletesSymlinksNotWhatTheyPointTo) {
    const ConfinedDir dir(inside());
    fs::create_directory_symlink(outside(), inside() / "dir/out");
    dir.remove_all(at("dir"));
    dir.remove_all(at("up"));
    EXPECT_FALSE(fs::exists(fs::symlink_status(inside() / "dir")));
    EXPECT_FALSE(fs::exists(fs::symlink_status(inside() / "up")));
    EXPECT_EQ(read_text(outside() / "SENTINEL"), "keep me");
    EXPECT_THROW(dir.remove_all(at("alias/file")), Error) << "a symlinked parent is refused";
}

TEST_F(ConfinedDirTest, MovesAndCreatesBeneathTheRoot) {
    const ConfinedDir dir(inside());
    dir.create_directories(at("a/b/c"));
    EXPECT_FALSE(dir.create_directory(at("a/b")));
    dir.rename(at("dir/file"), at("a/b/c/file"));
    EXPECT_EQ(read_text(inside() / "a/b/c/file"), "mine");
    dir.remove_if_empty(at("a/b/c"));
    EXPECT_TRUE(fs::exists(inside() / "a/b/c")) << "not empty: kept";
    EXPECT_EQ(dir.read_link(at("alias")), "dir");
}

}  // namespace
}  // namespace ferry::core
