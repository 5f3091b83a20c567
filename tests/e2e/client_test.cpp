// End-to-end: the client commands of the real ferry binary (install, update, check-updates,
// rollback, remove, list, search, verify, repos) on targets fed by repositories that
// `ferry repogen` made, served by nginx or read through file://, checked the way a user would:
// files in the target, components.xml, command output and exit codes.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "e2e/e2e_support.hpp"
#include "formats/components_xml.hpp"
#include "formats/updates_xml.hpp"
#include "support/nginx_server.hpp"

namespace ferry::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using Json = nlohmann::json;

formats::InstalledComponents installed(const fs::path& target) {
    return formats::parse_components_xml(read_text(target / "components.xml"), "components.xml");
}

// The version components.xml records for name; empty when it does not list it.
std::string installed_version(const fs::path& target, const std::string& name) {
    if (!fs::exists(target / "components.xml")) {
        return "";
    }
    const formats::InstalledComponents state = installed(target);
    const auto* component = state.find(name);
    return component != nullptr ? component->version : "";
}

std::vector<std::string> installed_names(const fs::path& target) {
    std::vector<std::string> names;
    const formats::InstalledComponents state = installed(target);
    for (const auto& component : state.components) {
        names.push_back(component.name);
    }
    return names;
}

// The values of key in the objects of a JSON array.
std::vector<std::string> values_of(const Json& array, const std::string& key) {
    std::vector<std::string> values;
    for (const auto& item : array) {
        values.push_back(item.at(key).get<std::string>());
    }
    return values;
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t count = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
        ++count;
    }
    return count;
}

// The last line of an nginx access log that mentions path.
std::string last_request_for(const fs::path& log, const std::string& path) {
    std::ifstream in(log);
    std::string found;
    for (std::string line; std::getline(in, line);) {
        if (line.find(path) != std::string::npos) {
            found = line;
        }
    }
    return found;
}

class Client : public FerryTest {
  protected:
    fs::path packages() const { return root() / "packages"; }
    fs::path target() const { return root() / "target"; }

    // Runs a client command on a target: ferry COMMAND --root TARGET ARGS...
    CommandResult on(const fs::path& target, const std::string& command,
                     std::vector<std::string> args = {}) const {
        args.insert(args.begin(), {command, "--root", target.string()});
        return ferry(args);
    }

    // com.test.tool (shown as "Test Tool") at version with files, replacing an earlier one.
    void write_tool(const std::string& version, const std::map<std::string, std::string>& files,
                    const std::string& extra_xml = "") const {
        fs::remove_all(packages() / "com.test.tool");
        make_package(packages(), "com.test.tool", version, files, extra_xml);
        const fs::path xml = packages() / "com.test.tool" / "meta" / "package.xml";
        std::string text = read_text(xml);
        const std::string shown = "<DisplayName>com.test.tool</DisplayName>";
        text.replace(text.find(shown), shown.size(), "<DisplayName>Test Tool</DisplayName>");
        write_text(xml, text);
    }

    void write_tool_1() const {
        write_tool("1.0", {{"bin/tool", "tool 1.0\n"}, {"share/tool/old.txt", "old\n"}});
    }
    void write_tool_2() const {
        write_tool("2.0", {{"bin/tool", "tool 2.0\n"}, {"share/tool/new.txt", "new\n"}});
    }
};

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

// 7. RepositoryUpdate.

class ClientRepositoryUpdate : public Client {
  protected:
    // Under site/<scenario>/: repository a with com.test.a and b with com.test.b.
    void SetUp() override {
        make_package(root() / "packages-a", "com.test.a", "1.0", {{"a.txt", "a\n"}});
        make_package(root() / "packages-b", "com.test.b", "1.0", {{"b.txt", "b\n"}});
        for (const char* scenario : {"add", "replace", "remove"}) {
            make_repository(root() / "packages-a", site() / scenario / "a");
            make_repository(root() / "packages-b", site() / scenario / "b");
        }
    }
    fs::path site() const { return root() / "site"; }

    std::vector<std::string> repository_urls(const fs::path& target) const {
        auto r = ferry({"repos", "list", "--root", target.string(), "--json"});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return values_of(Json::parse(r.out).at("repositories"), "url");
    }
    void redirect(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{"repo", "redirect"};
        argv.insert(argv.end(), args.begin(), args.end());
        auto r = ferry(argv);
        ASSERT_EQ(r.exit_code, 0) << describe(r);
    }
};

TEST_F(ClientRepositoryUpdate, AddAppendsTheRepositoryAndItsComponentsBecomeInstallable) {
    NginxServer server(site());
    redirect({"add", (site() / "add" / "a").string(), "--url", "../b"});
    const fs::path t = root() / "t";

    auto r = on(t, "install", {"--repo", server.url("add/a"), "com.test.a"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(repository_urls(t), ElementsAre(server.url("add/a"), server.url("add/b")));

    r = on(t, "install", {"com.test.b"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(t / "b.txt"), "b\n");
    EXPECT_EQ(installed_version(t, "com.test.b"), "1.0");
}

TEST_F(ClientRepositoryUpdate, ReplaceSwapsTheOldRepositoryForTheNewOne) {
    NginxServer server(site());
    const fs::path t = root() / "t";
    auto r = ferry({"repos", "add", "--root", t.string(), server.url("replace/a")});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    redirect(
        {"replace", (site() / "replace" / "a").string(), "--old-url", "../a", "--new-url", "../b"});

    r = on(t, "check-updates");
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(repository_urls(t), ElementsAre(server.url("replace/b")));

    r = on(t, "install", {"com.test.b"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(t / "b.txt"), "b\n");
    r = on(t, "install", {"com.test.a"});
    EXPECT_EQ(r.exit_code, 7) << "a's repository was replaced\n" << describe(r);
}

TEST_F(ClientRepositoryUpdate, RemoveDropsTheRepository) {
    NginxServer server(site());
    const fs::path t = root() / "t";
    for (const char* repo : {"remove/a", "remove/b"}) {
        auto r = ferry({"repos", "add", "--root", t.string(), server.url(repo)});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
    }
    redirect({"remove", (site() / "remove" / "a").string(), "--url", "../b"});

    auto r = on(t, "check-updates");
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(repository_urls(t), ElementsAre(server.url("remove/a")));
    r = on(t, "search", {"com.test.b"});
    EXPECT_EQ(r.exit_code, 7) << describe(r);
}

// 8. Credentials.

TEST_F(Client, CredentialsAreStoredApartAndNeverPrinted) {
    make_package(packages(), "com.test.private", "1.0", {{"private.txt", "private\n"}},
                 " <Default>true</Default>\n");
    make_repository(packages(), root() / "repo");
    auto hash = run({"/usr/bin/openssl", "passwd", "-apr1", "secret"});
    ASSERT_EQ(hash.exit_code, 0) << describe(hash);
    hash.out.erase(hash.out.find_last_not_of("\n") + 1);
    write_text(root() / "htpasswd", "user:" + hash.out + "\n");
    NginxServer server(root() / "repo",
                       "    auth_basic \"ferry test\";\n    auth_basic_user_file " +
                           (root() / "htpasswd").string() + ";\n");
    const std::string with_password =
        "http://user:secret@127.0.0.1:" + std::to_string(server.port()) + "/";

    // Without credentials the server refuses: the test's protection is real.
    auto anonymous = on(root() / "anonymous", "install", {"--repo", server.url()});
    EXPECT_NE(anonymous.exit_code, 0) << describe(anonymous);

    std::vector<CommandResult> outputs;
    outputs.push_back(on(target(), "install", {"--repo", with_password}));
    ASSERT_EQ(outputs.back().exit_code, 0) << describe(outputs.back());
    EXPECT_EQ(read_text(target() / "private.txt"), "private\n");

    struct stat st {};
    ASSERT_EQ(::stat((target() / ".ferry" / "credentials.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600);
    EXPECT_THAT(read_text(target() / ".ferry" / "credentials.json"), HasSubstr("secret"));
    EXPECT_THAT(read_text(target() / ".ferry" / "settings.json"), Not(HasSubstr("secret")));

    outputs.push_back(ferry({"repos", "list", "--root", target().string()}));
    EXPECT_EQ(outputs.back().exit_code, 0) << describe(outputs.back());
    EXPECT_THAT(outputs.back().out, HasSubstr("with credentials"));
    outputs.push_back(ferry({"repos", "list", "--root", target().string(), "--json"}));
    EXPECT_EQ(outputs.back().exit_code, 0) << describe(outputs.back());
    outputs.push_back(on(target(), "check-updates", {"-v"}));
    EXPECT_EQ(outputs.back().exit_code, 0) << describe(outputs.back());
    outputs.push_back(on(target(), "check-updates", {"--json"}));
    EXPECT_EQ(outputs.back().exit_code, 0) << describe(outputs.back());
    outputs.push_back(on(target(), "install", {"-v", "--repo", with_password}));
    EXPECT_EQ(outputs.back().exit_code, 0) << describe(outputs.back());
    for (const auto& output : outputs) {
        EXPECT_THAT(output.out + output.err, Not(HasSubstr("secret"))) << describe(output);
    }

    const std::string wrong = "http://user:Wr0ngPa55@127.0.0.1:" + std::to_string(server.port());
    auto refused = on(root() / "other", "install", {"--repo", wrong});
    EXPECT_EQ(refused.exit_code, 1) << describe(refused);
    EXPECT_THAT(refused.err, HasSubstr("ferry: error:"));
    EXPECT_THAT(refused.out + refused.err, Not(HasSubstr("Wr0ngPa55")));
}

// 9. Essential and forced updates.

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

// 10. Virtual components and IFW's short command names.

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

// 11. Priorities.

TEST_F(Client, TheHigherPriorityWinsAtOneVersionAndTheHigherVersionWinsOtherwise) {
    make_package(root() / "one", "com.test.p", "1.0", {{"p.txt", "from one\n"}});
    make_package(root() / "one", "com.test.q", "2.0", {{"q.txt", "q 2.0\n"}});
    make_package(root() / "two", "com.test.p", "1.0", {{"p.txt", "from two\n"}});
    make_package(root() / "two", "com.test.q", "1.0", {{"q.txt", "q 1.0\n"}});
    make_repository(root() / "one", root() / "repo-one");
    make_repository(root() / "two", root() / "repo-two");
    const std::string one = file_url(root() / "repo-one");
    const std::string two = file_url(root() / "repo-two");

    // The same outcome whichever repository is listed first.
    for (const auto& order : {std::vector<std::string>{one, two}, {two, one}}) {
        const fs::path t = root() / ("t" + std::to_string(order[0] == one));
        for (const auto& url : order) {
            auto r = ferry(
                {"repos", "add", "--root", t.string(), url, "--priority", url == two ? "10" : "1"});
            ASSERT_EQ(r.exit_code, 0) << describe(r);
        }
        auto r = on(t, "install", {"com.test.p", "com.test.q"});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        EXPECT_EQ(read_text(t / "p.txt"), "from two\n") << "priority 10 beats 1";
        EXPECT_EQ(read_text(t / "q.txt"), "q 2.0\n") << "2.0 beats 1.0 despite the priority";
        EXPECT_EQ(installed_version(t, "com.test.q"), "2.0");
    }
}

// 12. Install scripts are not run.

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

// 13. One ferry at a time on a target.

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
