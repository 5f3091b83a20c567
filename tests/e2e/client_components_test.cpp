// End-to-end: how the client treats kinds of components: essential and forced updates, virtual
// components (and IFW's short command names), and components with install scripts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/client_support.hpp"

namespace ferry::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

// 1. Essential and forced updates.

TEST_F(Client, AnEssentialUpdateComesBeforeEverythingElse) {
    make_package(packages(), "com.test.ess", "1.0", {{"ess.txt", "ess 1.0\n"}});
    make_package(packages(), "com.test.app", "1.0", {{"app.txt", "app 1.0\n"}});
    make_package(packages(), "com.test.later", "1.0", {{"later.txt", "later\n"}});
    const fs::path repo = root() / "repo";
    make_repository(packages(), repo);
    auto r = on(target(), "install", {"--repo", file_url(repo), "com.test.ess", "com.test.app"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);

    make_package(packages(), "com.test.ess", "2.0", {{"ess.txt", "ess 2.0\n"}},
                 " <Essential>true</Essential>\n");
    make_package(packages(), "com.test.app", "2.0", {{"app.txt", "app 2.0\n"}});
    make_repository(packages(), repo);

    auto check = on(target(), "check-updates");
    EXPECT_EQ(check.exit_code, 5) << describe(check);
    EXPECT_THAT(check.out, HasSubstr("com.test.ess 1.0 -> 2.0 (essential)"));

    auto blocked = on(target(), "install", {"com.test.later"});
    EXPECT_EQ(blocked.exit_code, 5) << describe(blocked);
    EXPECT_THAT(blocked.err, HasSubstr("com.test.ess"));
    EXPECT_FALSE(fs::exists(target() / "later.txt"));

    auto first = on(target(), "update");
    EXPECT_EQ(first.exit_code, 6) << describe(first);
    EXPECT_EQ(read_text(target() / "ess.txt"), "ess 2.0\n");
    EXPECT_EQ(installed_version(target(), "com.test.ess"), "2.0");
    EXPECT_EQ(read_text(target() / "app.txt"), "app 1.0\n") << "waits for the next run";
    EXPECT_EQ(installed_version(target(), "com.test.app"), "1.0");

    auto second = on(target(), "update");
    EXPECT_EQ(second.exit_code, 0) << describe(second);
    EXPECT_EQ(read_text(target() / "app.txt"), "app 2.0\n");
    EXPECT_EQ(installed_version(target(), "com.test.app"), "2.0");
    EXPECT_EQ(on(target(), "check-updates").exit_code, 0);
    EXPECT_EQ(on(target(), "install", {"com.test.later"}).exit_code, 0);
}

TEST_F(Client, AForcedUpdateIsPendingUntilApplied) {
    make_package(packages(), "com.test.forced", "1.0", {{"forced.txt", "1.0\n"}});
    const fs::path repo = root() / "repo";
    make_repository(packages(), repo);
    auto r = on(target(), "install", {"--repo", file_url(repo), "com.test.forced"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    make_package(packages(), "com.test.forced", "1.1", {{"forced.txt", "1.1\n"}},
                 " <ForcedUpdate>true</ForcedUpdate>\n");
    make_repository(packages(), repo);

    auto check = on(target(), "check-updates", {"--json"});
    EXPECT_EQ(check.exit_code, 5) << describe(check);
    EXPECT_EQ(Json::parse(check.out).at("mandatory"), Json::array({"com.test.forced"}));
    auto update = on(target(), "update");
    EXPECT_EQ(update.exit_code, 0) << "nothing else waits\n" << describe(update);
    EXPECT_EQ(read_text(target() / "forced.txt"), "1.1\n");
    EXPECT_EQ(on(target(), "check-updates").exit_code, 0);
}

// 2. Virtual components and IFW's short command names.

TEST_F(Client, VirtualComponentsAreHiddenAndShortNamesWork) {
    make_package(packages(), "com.test.main", "1.0", {{"main.txt", "main 1.0\n"}},
                 " <Default>true</Default>\n <Dependencies>com.test.hidden</Dependencies>\n");
    make_package(packages(), "com.test.hidden", "1.0", {{"hidden.txt", "hidden\n"}},
                 " <Virtual>true</Virtual>\n");
    make_package(packages(), "com.test.spare", "1.0", {{"spare.txt", "spare\n"}});
    const fs::path repo = root() / "repo";
    make_repository(packages(), repo);

    auto r = on(target(), "in", {"--repo", file_url(repo)});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target() / "hidden.txt"), "hidden\n") << "installed as a dependency";

    auto list = on(target(), "li");
    EXPECT_EQ(list.exit_code, 0) << describe(list);
    EXPECT_THAT(list.out, HasSubstr("com.test.main 1.0"));
    EXPECT_THAT(list.out, Not(HasSubstr("com.test.hidden")));
    EXPECT_THAT(on(target(), "li", {"--all"}).out, HasSubstr("com.test.hidden 1.0"));
    EXPECT_EQ(Json::parse(on(target(), "li", {"--json", "--all"}).out),
              Json::parse(on(target(), "list", {"--json", "--all"}).out));

    auto search = on(target(), "se", {"test"});
    EXPECT_EQ(search.exit_code, 0) << describe(search);
    EXPECT_THAT(search.out, HasSubstr("com.test.spare 1.0"));
    EXPECT_THAT(search.out, HasSubstr("com.test.main 1.0"));
    EXPECT_THAT(search.out, Not(HasSubstr("com.test.hidden")));
    EXPECT_THAT(on(target(), "se", {"test", "--all"}).out, HasSubstr("com.test.hidden"));
    EXPECT_EQ(Json::parse(on(target(), "se", {"--json"}).out),
              Json::parse(on(target(), "search", {"--json"}).out));
    auto none = on(target(), "se", {"no-such-thing"});
    EXPECT_EQ(none.exit_code, 7) << describe(none);
    EXPECT_EQ(on(target(), "search", {"no-such-thing"}).exit_code, 7);

    make_package(packages(), "com.test.main", "2.0", {{"main.txt", "main 2.0\n"}},
                 " <Default>true</Default>\n <Dependencies>com.test.hidden</Dependencies>\n");
    make_repository(packages(), repo);
    auto ch = on(target(), "ch", {"--json"});
    EXPECT_EQ(ch.exit_code, 0) << describe(ch);
    EXPECT_EQ(values_of(Json::parse(ch.out).at("updates"), "name"),
              std::vector<std::string>{"com.test.main"});
    EXPECT_EQ(Json::parse(ch.out).at("updates"),
              Json::parse(on(target(), "check-updates", {"--json"}).out).at("updates"));
    r = on(target(), "up");
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target() / "main.txt"), "main 2.0\n");

    r = on(target(), "in", {"com.test.spare"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_TRUE(fs::exists(target() / "spare.txt"));
    r = on(target(), "rm", {"com.test.spare"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_FALSE(fs::exists(target() / "spare.txt"));
    EXPECT_EQ(installed_version(target(), "com.test.spare"), "");
}

// 3. Install scripts are not run.

TEST_F(Client, ComponentsWithScriptsAreInstalledAndTheSkippedScriptsNamedOnce) {
    for (const char* name : {"com.test.scripted", "com.test.scripted2"}) {
        make_package(packages(), name, "1.0", {{std::string(name) + ".txt", "data\n"}},
                     " <Script>installscript.qs</Script>\n");
        write_text(packages() / name / "meta" / "installscript.qs",
                   "function Component() {}\n"
                   "Component.prototype.createOperations = function() {\n"
                   "    component.createOperations();\n"
                   "}\n");
    }
    make_package(packages(), "com.test.plain", "1.0", {{"plain.txt", "plain\n"}});
    make_repository(packages(), root() / "repo");

    auto r = on(target(), "install",
                {"--repo", file_url(root() / "repo"), "com.test.scripted", "com.test.scripted2",
                 "com.test.plain"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target() / "com.test.scripted.txt"), "data\n");
    EXPECT_EQ(read_text(target() / "com.test.scripted2.txt"), "data\n");
    EXPECT_EQ(read_text(target() / "plain.txt"), "plain\n");
    EXPECT_EQ(count_of(r.err, "does not run"), 1u) << r.err;
    const std::string note = r.err.substr(r.err.find("does not run"));
    const std::string note_line = note.substr(0, note.find('\n'));
    EXPECT_THAT(note_line, HasSubstr("com.test.scripted"));
    EXPECT_THAT(note_line, HasSubstr("com.test.scripted2"));
    EXPECT_THAT(note_line, Not(HasSubstr("com.test.plain")));
}

}  // namespace
}  // namespace ferry::testing
