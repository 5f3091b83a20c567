// End-to-end: the client's repositories: RepositoryUpdate actions (add, replace, remove),
// credentials kept apart from the settings and never printed, and priorities between
// repositories offering one component.
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

// 1. RepositoryUpdate.

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

// 2. Credentials.

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

// 3. Priorities.

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

}  // namespace
}  // namespace ferry::testing
