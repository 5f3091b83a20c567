// Tests of the one rule set for names that become paths: what each kind accepts, and that what it
// refuses is explained by the first offending character.
#include "formats/names.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ferry::formats {
namespace {

using ::testing::HasSubstr;

struct NameCase {
    NameKind kind;
    std::string text;
    std::string problem;  // empty: accepted
};

void PrintTo(const NameCase& c, std::ostream* os) {
    *os << to_string(c.kind) << " \"" << c.text << "\"";
}

class Names : public ::testing::TestWithParam<NameCase> {};

TEST_P(Names, AcceptOrExplain) {
    const NameCase& c = GetParam();
    const auto problem = name_problem(c.kind, c.text);
    if (c.problem.empty()) {
        EXPECT_EQ(problem, std::nullopt) << *problem;
    } else {
        ASSERT_NE(problem, std::nullopt);
        EXPECT_THAT(*problem, HasSubstr(c.problem));
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, Names,
    ::testing::Values(
        NameCase{NameKind::component, "org.qtproject.ifw.example", ""},
        NameCase{NameKind::component, "qt.tools.qtcreator_gui", ""},
        NameCase{NameKind::component, "_private", ""},
        NameCase{NameKind::component, "", "is empty"},
        NameCase{NameKind::component, "..", "starts with '.'"},
        NameCase{NameKind::component, ".hidden", "starts with '.'"},
        NameCase{NameKind::component, "a/b", "contains '/'"},
        NameCase{NameKind::component, "a\\b", "contains '\\'"},
        NameCase{NameKind::component, "a b", "contains a space"},
        NameCase{NameKind::component, "a:b", "contains ':'"},
        NameCase{NameKind::component, "caf\xc3\xa9", "contains a non-ASCII character"},
        NameCase{NameKind::component, std::string(201, 'a'), "longer than 200"},
        NameCase{NameKind::version, "1.0.0", ""},
        NameCase{NameKind::version, "1.0.0-beta2", ""},
        NameCase{NameKind::version, "2.1+build.7~rc1", ""},
        NameCase{NameKind::version, "1.x", ""},
        NameCase{NameKind::version, "../../OUTSIDE", "contains '/'"},
        NameCase{NameKind::version, "1/2", "contains '/'"},
        NameCase{NameKind::version, "1 0", "contains a space"},
        NameCase{NameKind::version, "1\n0", "contains a control character (0x0a)"},
        NameCase{NameKind::version, "1%2e", "contains '%'"},
        NameCase{NameKind::version, ".1", "starts with '.'"},
        NameCase{NameKind::version, "_1", "starts with '_'"},
        NameCase{NameKind::version, "-1", "starts with '-'"},
        NameCase{NameKind::version, std::string(101, '1'), "longer than 100"},
        NameCase{NameKind::archive, "content.7z", ""},
        NameCase{NameKind::archive, "docs.tar.gz", ""},
        NameCase{NameKind::archive, "2026-01-01-1200_meta.7z", ""},
        NameCase{NameKind::archive, "../x.7z", "contains '/'"},
        NameCase{NameKind::archive, "a,b.7z", "contains ','"},
        NameCase{NameKind::archive, "a?.7z", "contains '?'"},
        NameCase{NameKind::archive, ".7z", "starts with '.'"},
        NameCase{NameKind::meta_file, "installscript.qs", ""},
        NameCase{NameKind::meta_file, "licenses/GPL 3.txt", ""},
        NameCase{NameKind::meta_file, "../data/x", "has the path element \"..\""},
        NameCase{NameKind::meta_file, "a/./b", "has the path element \".\""},
        NameCase{NameKind::meta_file, "/etc/passwd", "empty path element"},
        NameCase{NameKind::meta_file, "a//b", "empty path element"},
        NameCase{NameKind::meta_file, "a\\..\\b", "contains '\\'"},
        NameCase{NameKind::meta_file, "a\tb", "control character (0x09)"}));

TEST(RepositoryPaths, AreAComponentDirectoryAndAFileOrAFileAtTheTop) {
    EXPECT_EQ(repository_path_problem("A/1.0.0content.7z"), std::nullopt);
    EXPECT_EQ(repository_path_problem("A/1.0.0content.7z.sha1"), std::nullopt);
    EXPECT_EQ(repository_path_problem("0123456789abcdef_meta.7z"), std::nullopt);
    // <Version><archive>.sha1 may use the whole length of a file name.
    EXPECT_EQ(repository_path_problem("A/" + std::string(100, '1') + std::string(146, 'a') +
                                      ".7z.sha1"),
              std::nullopt);
    EXPECT_THAT(repository_path_problem("A/B/x.7z").value_or(""),
                HasSubstr("more than one directory"));
    EXPECT_THAT(repository_path_problem("../x.7z").value_or(""),
                HasSubstr("a directory that starts with '.'"));
    EXPECT_THAT(repository_path_problem("/x.7z").value_or(""), HasSubstr("a directory that is empty"));
    EXPECT_THAT(repository_path_problem("A/..").value_or(""), HasSubstr("starts with '.'"));
    EXPECT_THAT(repository_path_problem("A/").value_or(""), HasSubstr("a file name that is empty"));
}

TEST(RepositoryPaths, ImageBlobsAreNamedByTheirSha256) {
    const std::string hex(64, 'a');
    EXPECT_EQ(repository_path_problem("images/sha256/" + hex), std::nullopt);
    EXPECT_THAT(repository_path_problem("images/sha256/" + hex.substr(1)).value_or(""),
                HasSubstr("more than one directory"));
    EXPECT_THAT(repository_path_problem("images/sha256/../../x").value_or(""),
                HasSubstr("more than one directory"));
    EXPECT_THAT(repository_path_problem("images/md5/" + hex).value_or(""),
                HasSubstr("more than one directory"));
}

}  // namespace
}  // namespace ferry::formats
