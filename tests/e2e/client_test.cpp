// End-to-end: the client commands of the real ferry binary (install, update, check-updates,
// rollback, remove) on targets fed by repositories that `ferry repogen` made, served by nginx or
// read through file://, checked the way a user would: files in the target, components.xml,
// command output and exit codes.
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

// 1. The default set over HTTP.

TEST_F(Client, InstallsTheDefaultSetOverHttp) {
    make_package(packages(), "com.test.core", "1.0",
                 {{"bin/core", "core 1.0\n"}, {"share/core/readme.txt", "read me\n"}},
                 " <Default>true</Default>\n");
    make_package(packages(), "com.test.extra", "1.0", {{"extra.txt", "extra\n"}});
    make_repository(packages(), root() / "repo");
    NginxServer server(root() / "repo");

    auto r = on(target(), "install", {"--repo", server.url()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target() / "bin" / "core"), "core 1.0\n");
    EXPECT_EQ(read_text(target() / "share" / "core" / "readme.txt"), "read me\n");
    EXPECT_FALSE(fs::exists(target() / "extra.txt")) << "not in the default set";

    const std::string xml = read_text(target() / "components.xml");
    EXPECT_THAT(xml, HasSubstr("<Name>com.test.core</Name>"));
    EXPECT_THAT(xml, HasSubstr("<Version>1.0</Version>"));
    EXPECT_THAT(xml, HasSubstr("<InstallDate>2026-01-01</InstallDate>")) << "SOURCE_DATE_EPOCH";
    EXPECT_THAT(xml, Not(HasSubstr("com.test.extra")));
    EXPECT_THAT(installed_names(target()), ElementsAre("com.test.core"));

    auto verify = on(target(), "verify");
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);
    EXPECT_THAT(verify.err, HasSubstr("OK"));
}

TEST_F(Client, InstallWithoutAnyRepositorySaysHowToAddOne) {
    auto r = on(target(), "install");
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("ferry: error:"));
    EXPECT_THAT(r.err, HasSubstr("--repo"));
    EXPECT_FALSE(fs::exists(target() / "components.xml"));
}

// 2. Dependencies.

class ClientDependencies : public Client {
  protected:
    void SetUp() override {
        make_package(packages(), "com.test.app", "1.0", {{"app/bin/app", "app\n"}},
                     " <Dependencies>com.test.lib:>=1.2</Dependencies>\n");
        make_package(packages(), "com.test.lib", "1.5", {{"lib/liblib.so", "lib 1.5\n"}});
        make_package(packages(), "com.test.plugin", "1.0", {{"app/plugins/plugin.so", "plug\n"}},
                     " <AutoDependOn>com.test.app</AutoDependOn>\n");
        make_package(packages(), "com.test.other", "1.0", {{"other.txt", "other\n"}});
        make_package(packages(), "com.test.top", "1.0", {{"top.txt", "top\n"}},
                     " <Dependencies>com.test.mid</Dependencies>\n");
        make_package(packages(), "com.test.mid", "1.0", {{"mid.txt", "mid\n"}},
                     " <Dependencies>com.test.gone</Dependencies>\n");
        make_package(packages(), "com.test.newer", "1.0", {{"newer.txt", "newer\n"}},
                     " <Dependencies>com.test.lib:>=2.0</Dependencies>\n");
        make_repository(packages(), root() / "repo");
        repo_ = file_url(root() / "repo");
    }
    std::string repo_;
};

TEST_F(ClientDependencies, ANamedComponentBringsItsDependenciesAndAutoDependOn) {
    auto r = on(target(), "install", {"--repo", repo_, "com.test.app"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target() / "app" / "bin" / "app"), "app\n");
    EXPECT_EQ(read_text(target() / "lib" / "liblib.so"), "lib 1.5\n");
    EXPECT_EQ(read_text(target() / "app" / "plugins" / "plugin.so"), "plug\n");
    EXPECT_FALSE(fs::exists(target() / "other.txt"));
    EXPECT_THAT(installed_names(target()),
                UnorderedElementsAre("com.test.app", "com.test.lib", "com.test.plugin"));
    EXPECT_EQ(installed_version(target(), "com.test.lib"), "1.5");
    EXPECT_EQ(on(target(), "verify").exit_code, 0);
}

TEST_F(ClientDependencies, AnUnknownComponentExitsWith7) {
    auto r = on(target(), "install", {"--repo", repo_, "com.test.nowhere"});
    EXPECT_EQ(r.exit_code, 7) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("com.test.nowhere"));
    EXPECT_EQ(installed_version(target(), "com.test.nowhere"), "");
}

TEST_F(ClientDependencies, AMissingDependencyIsNamedWithTheChainThatNeedsIt) {
    auto r = on(target(), "install", {"--repo", repo_, "com.test.top"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("com.test.top -> com.test.mid -> com.test.gone"));
    EXPECT_FALSE(fs::exists(target() / "top.txt"));
    EXPECT_FALSE(fs::exists(target() / "mid.txt"));

    // A dependency present in a version that does not satisfy the operator.
    r = on(target(), "install", {"com.test.newer"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("com.test.newer -> com.test.lib"));
    EXPECT_THAT(r.err, HasSubstr("1.5"));
    EXPECT_FALSE(fs::exists(target() / "newer.txt"));
    EXPECT_EQ(installed_version(target(), "com.test.newer"), "");
}

// 3. Licences.

TEST_F(Client, LicencesMustBeAcceptedAndAreCopiedIntoTheTarget) {
    make_package(packages(), "com.test.licensed", "1.0", {{"licensed.txt", "payload\n"}},
                 " <Licenses>\n  <License name=\"Test Licence\" file=\"license.txt\"/>\n"
                 " </Licenses>\n");
    const std::string licence = "You may use this.\nLine two of the licence.\n";
    write_text(packages() / "com.test.licensed" / "meta" / "license.txt", licence);
    make_repository(packages(), root() / "repo");
    const std::string repo = file_url(root() / "repo");

    auto refused = on(target(), "install", {"--repo", repo, "com.test.licensed"});
    EXPECT_EQ(refused.exit_code, 1) << describe(refused);
    EXPECT_THAT(refused.err, HasSubstr("--accept-licenses"));
    EXPECT_THAT(refused.err, HasSubstr("Test Licence"));
    EXPECT_FALSE(fs::exists(target() / "licensed.txt"));
    EXPECT_FALSE(fs::exists(target() / "Licenses"));
    EXPECT_EQ(installed_version(target(), "com.test.licensed"), "");

    auto accepted = on(target(), "install", {"--accept-licenses", "com.test.licensed"});
    ASSERT_EQ(accepted.exit_code, 0) << describe(accepted);
    EXPECT_EQ(read_text(target() / "Licenses" / "license.txt"), licence);
    EXPECT_EQ(read_text(target() / "licensed.txt"), "payload\n");
    EXPECT_EQ(installed_version(target(), "com.test.licensed"), "1.0");
}

// 4. Check for updates and update, over HTTP.

TEST_F(Client, CheckUpdatesShowsANewVersionAndUpdateAppliesIt) {
    write_tool_1();
    make_package(packages(), "com.test.stay", "1.0", {{"stay.txt", "stay\n"}});
    const fs::path repo = root() / "repo";
    make_repository(packages(), repo);
    NginxServer server(repo);
    auto r = on(target(), "install", {"--repo", server.url(), "com.test.tool", "com.test.stay"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);

    write_tool_2();
    make_repository(packages(), repo);

    auto text = on(target(), "check-updates");
    EXPECT_EQ(text.exit_code, 0) << describe(text);
    EXPECT_THAT(text.out, HasSubstr("com.test.tool 1.0 -> 2.0"));
    EXPECT_THAT(text.out, Not(HasSubstr("com.test.stay")));

    auto json = on(target(), "check-updates", {"--json"});
    ASSERT_EQ(json.exit_code, 0) << describe(json);
    const Json updates = Json::parse(json.out).at("updates");
    ASSERT_EQ(updates.size(), 1u) << json.out;
    EXPECT_EQ(updates[0].at("name"), "com.test.tool");
    EXPECT_EQ(updates[0].at("installed_version"), "1.0");
    EXPECT_EQ(updates[0].at("new_version"), "2.0");

    auto xml = on(target(), "check-updates", {"--xml"});
    ASSERT_EQ(xml.exit_code, 0) << describe(xml);
    const auto index = formats::parse_updates_xml(read_text(repo / "Updates.xml"), "Updates.xml");
    const auto* tool = index.find("com.test.tool");
    ASSERT_NE(tool, nullptr);
    EXPECT_EQ(xml.out, "<updates>\n    <update name=\"Test Tool\" version=\"2.0\" size=\"" +
                           std::to_string(tool->uncompressed_size) +
                           "\" id=\"com.test.tool\"/>\n</updates>\n");

    auto update = on(target(), "update");
    ASSERT_EQ(update.exit_code, 0) << describe(update);
    EXPECT_EQ(read_text(target() / "bin" / "tool"), "tool 2.0\n");
    EXPECT_EQ(read_text(target() / "share" / "tool" / "new.txt"), "new\n");
    EXPECT_FALSE(fs::exists(target() / "share" / "tool" / "old.txt")) << "not in 2.0";
    EXPECT_EQ(installed_version(target(), "com.test.tool"), "2.0");
    EXPECT_EQ(installed_version(target(), "com.test.stay"), "1.0");
    auto verify = on(target(), "verify");
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);

    auto again = on(target(), "check-updates");
    EXPECT_EQ(again.exit_code, 0) << describe(again);
    EXPECT_THAT(again.err, HasSubstr("no updates"));
    EXPECT_EQ(again.out, "");

    // Nothing changed since: the index is asked for conditionally and comes back 304.
    auto unchanged = on(target(), "check-updates", {"--json"});
    ASSERT_EQ(unchanged.exit_code, 0) << describe(unchanged);
    const Json body = Json::parse(unchanged.out);
    EXPECT_THAT(body.at("updates"), IsEmpty());
    EXPECT_EQ(body.at("bytes_transferred"), 0) << unchanged.out;
    EXPECT_THAT(last_request_for(server.access_log(), "/Updates.xml"), HasSubstr("\" 304 "))
        << read_text(server.access_log());
}

// 5. Rollback.

TEST_F(Client, RollbackPutsBackTheVersionBeforeTheUpdate) {
    write_tool_1();
    make_package(packages(), "com.test.stay", "1.0", {{"stay.txt", "stay\n"}});
    const fs::path repo = root() / "repo";
    make_repository(packages(), repo);
    auto r = on(target(), "install", {"--repo", file_url(repo), "com.test.tool", "com.test.stay"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    write_tool_2();
    make_repository(packages(), repo);
    r = on(target(), "update");
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    ASSERT_EQ(installed_version(target(), "com.test.tool"), "2.0");

    r = on(target(), "rollback");
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target() / "bin" / "tool"), "tool 1.0\n");
    EXPECT_EQ(read_text(target() / "share" / "tool" / "old.txt"), "old\n");
    EXPECT_FALSE(fs::exists(target() / "share" / "tool" / "new.txt"));
    EXPECT_EQ(installed_version(target(), "com.test.tool"), "1.0");
    auto verify = on(target(), "verify");
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);

    auto never_updated = on(target(), "rollback", {"com.test.stay"});
    EXPECT_EQ(never_updated.exit_code, 7) << describe(never_updated);
    EXPECT_THAT(never_updated.err, HasSubstr("com.test.stay"));
    EXPECT_EQ(read_text(target() / "stay.txt"), "stay\n");
}

// 6. Remove.

TEST_F(Client, RemoveDeletesTheComponentsFilesAndItsDependents) {
    make_package(packages(), "com.test.base", "1.0",
                 {{"base/lib/base.so", "base\n"}, {"share/base.txt", "base share\n"}});
    make_package(packages(), "com.test.app", "1.0",
                 {{"app/bin/app", "app\n"}, {"app/sub/deep/file.txt", "deep\n"}},
                 " <Dependencies>com.test.base</Dependencies>\n");
    make_package(packages(), "com.test.other", "1.0",
                 {{"other/other.txt", "other\n"}, {"share/other.txt", "other share\n"}});
    make_repository(packages(), root() / "repo");
    auto r = on(target(), "install",
                {"--repo", file_url(root() / "repo"), "com.test.app", "com.test.other"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    write_text(target() / "app" / "notes.txt", "mine\n");

    r = on(target(), "remove", {"com.test.base"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("com.test.app")) << "the dependent is named as removed";
    EXPECT_THAT(installed_names(target()), ElementsAre("com.test.other"));
    EXPECT_FALSE(fs::exists(target() / "base")) << "emptied directories go";
    EXPECT_FALSE(fs::exists(target() / "app" / "bin"));
    EXPECT_FALSE(fs::exists(target() / "app" / "sub"));
    EXPECT_FALSE(fs::exists(target() / "share" / "base.txt"));
    EXPECT_EQ(read_text(target() / "app" / "notes.txt"), "mine\n") << "the user's file stays";
    EXPECT_EQ(read_text(target() / "share" / "other.txt"), "other share\n");
    EXPECT_EQ(read_text(target() / "other" / "other.txt"), "other\n");

    auto list = on(target(), "list", {"--json"});
    ASSERT_EQ(list.exit_code, 0) << describe(list);
    EXPECT_THAT(values_of(Json::parse(list.out).at("components"), "name"),
                ElementsAre("com.test.other"));
    auto verify = on(target(), "verify");
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);
}

// 7. One ferry at a time on a target.

TEST_F(Client, ASecondProcessOnTheTargetIsRefusedWhileTheLockIsHeld) {
    make_package(packages(), "com.test.a", "1.0", {{"a.txt", "a\n"}});
    make_package(packages(), "com.test.b", "1.0", {{"b.txt", "b\n"}});
    make_repository(packages(), root() / "repo");
    auto r = on(target(), "install", {"--repo", file_url(root() / "repo"), "com.test.a"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);

    const int fd = ::open((target() / ".ferry" / "lock").c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    auto refused = on(target(), "install", {"com.test.b"});
    ::close(fd);
    EXPECT_EQ(refused.exit_code, 1) << describe(refused);
    EXPECT_THAT(refused.err, HasSubstr("another ferry process"));
    EXPECT_FALSE(fs::exists(target() / "b.txt"));

    r = on(target(), "install", {"com.test.b"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target() / "b.txt"), "b\n");
}

}  // namespace
}  // namespace ferry::testing
