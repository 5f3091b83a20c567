// Tests of the repository actions: the RFC 3986 reference resolver (RFC examples and IFW's
// relative repository URLs), replace/remove/add in IFW's order, and the bounded, loop-free chain.
#include "client/repository_actions.hpp"

#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"

namespace ferry::client {
namespace {

using formats::RepositoryAction;
using Kind = RepositoryAction::Kind;

TEST(RepositoryActions, RelativeUrlsResolveAgainstTheRepositoryDirectory) {
    EXPECT_EQ(resolve_repository_url("http://www.example.com/repositories/generic", "../module"),
              "http://www.example.com/repositories/module");
    EXPECT_EQ(resolve_repository_url("http://www.example.com/repositories/generic/", "../module"),
              "http://www.example.com/repositories/module");
    EXPECT_EQ(resolve_repository_url("http://h/r/generic", "./x"), "http://h/r/generic/x");
    EXPECT_EQ(resolve_repository_url("http://h/r/generic", "/abs/path"), "http://h/abs/path");
    EXPECT_EQ(resolve_repository_url("http://h/r/generic", "//mirror/x"), "http://mirror/x");
    EXPECT_EQ(resolve_repository_url("http://h/r/generic", "./"), "http://h/r/generic");
}

RepositoryAction add(const std::string& url, const std::string& user = "",
                     const std::string& password = "", const std::string& name = "") {
    RepositoryAction a;
    a.kind = Kind::add;
    a.url = url;
    a.username = user;
    a.password = password;
    a.display_name = name;
    return a;
}

RepositoryAction remove(const std::string& url) {
    RepositoryAction a;
    a.kind = Kind::remove;
    a.url = url;
    return a;
}

RepositoryAction replace(const std::string& old_url, const std::string& new_url) {
    RepositoryAction a;
    a.kind = Kind::replace;
    a.old_url = old_url;
    a.new_url = new_url;
    return a;
}

std::vector<std::string> urls(const std::vector<RepositoryEntry>& list) {
    std::vector<std::string> out;
    for (const RepositoryEntry& e : list) {
        out.push_back(e.url);
    }
    return out;
}

TEST(RepositoryActions, ReplaceSwapsOldForNewAndKeepsCredentials) {
    const std::vector<RepositoryEntry> list = {{"http://h/a", "user", "secret", "A"},
                                               {"http://h/b", "", "", ""}};
    const auto result =
        apply_repository_actions(list, {replace("http://h/a", "http://h/a2")}, "http://h/b");
    EXPECT_EQ(result, (std::vector<RepositoryEntry>{{"http://h/a2", "user", "secret", "A"},
                                                    {"http://h/b", "", "", ""}}));
}

TEST(RepositoryActions, AppliesReplaceThenRemoveThenAdd) {
    // Written in the opposite order: add c, remove the replacement, replace a by a2.
    const auto result = apply_repository_actions(
        {{"http://h/a", "", "", ""}, {"http://h/b", "", "", ""}},
        {add("../c", "u", "p", "C repo"), remove("../a2"), replace("../a", "../a2")}, "http://h/b");
    EXPECT_EQ(urls(result), (std::vector<std::string>{"http://h/b", "http://h/c"}));
    EXPECT_EQ(result[1], (RepositoryEntry{"http://h/c", "u", "p", "C repo"}));
}

TEST(RepositoryActions, UnknownUrlsAndDuplicatesChangeNothing) {
    const std::vector<RepositoryEntry> list = {{"http://h/a", "", "", ""}};
    EXPECT_EQ(apply_repository_actions(
                  list, {replace("http://h/x", "http://h/y"), remove("http://h/z"), add("./")},
                  "http://h/a"),
              list);
}

TEST(RepositoryActions, FollowsUntilStable) {
    std::map<std::string, std::vector<RepositoryAction>> actions = {
        {"http://h/old", {replace("http://h/old", "../mid")}},
        {"http://h/mid", {replace("http://h/mid", "../new"), add("../extra")}},
    };
    const auto result = follow_repository_actions(
        {{"http://h/old", "", "", ""}}, [&](const std::string& url) { return actions[url]; });
    EXPECT_EQ(urls(result), (std::vector<std::string>{"http://h/new", "http://h/extra"}));
}

TEST(RepositoryActions, ReportsALoop) {
    std::map<std::string, std::vector<RepositoryAction>> actions = {
        {"http://h/a", {replace("http://h/a", "http://h/b")}},
        {"http://h/b", {replace("http://h/b", "http://h/a")}},
    };
    try {
        follow_repository_actions({{"http://h/a", "", "", ""}},
                                  [&](const std::string& url) { return actions[url]; });
        FAIL() << "a loop was followed";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "repository updates loop: [http://h/a] -> [http://h/b] -> [http://h/a]");
    }
}

TEST(RepositoryActions, LoopMessageHidesCredentials) {
    std::map<std::string, std::vector<RepositoryAction>> actions = {
        {"https://me:secret@h/a", {replace("https://me:secret@h/a", "https://h/b")}},
        {"https://h/b", {replace("https://h/b", "https://me:secret@h/a")}},
    };
    try {
        follow_repository_actions({{"https://me:secret@h/a", "", "", ""}},
                                  [&](const std::string& url) { return actions[url]; });
        FAIL() << "a loop was followed";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "repository updates loop: [https://h/a] -> [https://h/b] -> [https://h/a]");
    }
}

TEST(RepositoryActions, StopsAfterTheHopLimit) {
    // Every repository sends the client one step further: r0 -> r1 -> r2 -> ...
    auto actions_of = [](const std::string& url) {
        const int n = std::stoi(url.substr(url.rfind('r') + 1));
        return std::vector<RepositoryAction>{replace(url, "../r" + std::to_string(n + 1))};
    };
    EXPECT_EQ(urls(follow_repository_actions({{"http://h/x/r0", "", "", ""}},
                                             [&](const std::string& url) {
                                                 return url.ends_with("r3")
                                                            ? std::vector<RepositoryAction>{}
                                                            : actions_of(url);
                                             })),
              (std::vector<std::string>{"http://h/x/r3"}));
    try {
        follow_repository_actions({{"http://h/x/r0", "", "", ""}}, actions_of, 4);
        FAIL() << "an endless chain was followed";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("did not settle after 4 rounds"));
    }
}

}  // namespace
}  // namespace ferry::client
