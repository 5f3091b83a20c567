// The repository settings on disk: settings.json and credentials.json (owner-only), malformed
// files, URLs with credentials and the URL the downloader gets.
#include "client/settings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/error.hpp"
#include "support/test_support.hpp"

namespace ferry::client {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::read_text;
using testing::write_text;

Settings two_repositories() {
    Settings settings;
    settings.repositories.push_back({"https://example.com/repo", 5, "Main", true, "", ""});
    settings.repositories.push_back(
        {"http://mirror.example.com/private", -1, "", false, "us@r", "p:ss w0rd"});
    return settings;
}

TEST(ClientSettings, RoundTripKeepsEveryField) {
    core::ScratchDir state;
    save_settings(state.path(), two_repositories());
    EXPECT_EQ(load_settings(state.path()), two_repositories());
}

TEST(ClientSettings, MissingFilesMeanNoRepositories) {
    core::ScratchDir state;
    EXPECT_TRUE(load_settings(state.path() / "nothing-here").repositories.empty());
}

TEST(ClientSettings, CredentialsLiveInAnOwnerOnlyFileAndNotInTheSettings) {
    core::ScratchDir state;
    save_settings(state.path(), two_repositories());
    const std::string settings_json = read_text(state.path() / "settings.json");
    EXPECT_THAT(settings_json, Not(HasSubstr("p:ss w0rd")));
    EXPECT_THAT(settings_json, Not(HasSubstr("us@r")));
    EXPECT_THAT(settings_json, HasSubstr("\"display_name\": \"Main\""));

    struct stat info {};
    ASSERT_EQ(::stat((state.path() / "credentials.json").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600);
    EXPECT_THAT(read_text(state.path() / "credentials.json"), HasSubstr("p:ss w0rd"));
}

TEST(ClientSettings, CredentialsFileGoesAwayWhenNoRepositoryHasCredentials) {
    core::ScratchDir state;
    Settings settings = two_repositories();
    save_settings(state.path(), settings);
    ASSERT_TRUE(fs::exists(state.path() / "credentials.json"));
    settings.repositories[1].username.clear();
    settings.repositories[1].password.clear();
    save_settings(state.path(), settings);
    EXPECT_FALSE(fs::exists(state.path() / "credentials.json"));
    EXPECT_EQ(load_settings(state.path()), settings);
}

TEST(ClientSettings, MalformedSettingsNameTheFileAndTheCause) {
    core::ScratchDir state;
    write_text(state.path() / "settings.json", "{\"repositories\": [ {\"url\": ");
    try {
        load_settings(state.path());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr((state.path() / "settings.json").string()));
        EXPECT_THAT(e.what(), HasSubstr("parse error"));
    }
}

TEST(ClientSettings, WrongTypesInCredentialsAreAnErrorNamingTheFile) {
    core::ScratchDir state;
    save_settings(state.path(), two_repositories());
    write_text(state.path() / "credentials.json", "{\"credentials\": [{\"url\": 7}]}");
    try {
        load_settings(state.path());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr((state.path() / "credentials.json").string()));
        EXPECT_THAT(e.what(), HasSubstr("type must be string"));
    }
}

TEST(ClientSettings, AddRepositoryMovesCredentialsFromTheUrlIntoTheSetting) {
    Settings settings;
    const std::string stored =
        add_repository(settings, "https://us%40r:p%3Ass@example.com/repo", 3, "Private");
    EXPECT_EQ(stored, "https://example.com/repo");
    ASSERT_EQ(settings.repositories.size(), 1u);
    const RepositorySetting& setting = settings.repositories[0];
    EXPECT_EQ(setting.url, "https://example.com/repo");
    EXPECT_EQ(setting.username, "us@r");
    EXPECT_EQ(setting.password, "p:ss");
    EXPECT_EQ(setting.priority, 3);
    EXPECT_EQ(setting.display_name, "Private");
    EXPECT_TRUE(setting.enabled);
}

TEST(ClientSettings, AddingAKnownUrlUpdatesItInsteadOfAddingAnother) {
    Settings settings;
    add_repository(settings, "https://example.com/repo", 0, "Old name");
    add_repository(settings, "https://u:new@example.com/repo", 7);
    ASSERT_EQ(settings.repositories.size(), 1u);
    EXPECT_EQ(settings.repositories[0].priority, 7);
    EXPECT_EQ(settings.repositories[0].display_name, "Old name");
    EXPECT_EQ(settings.repositories[0].password, "new");
    EXPECT_NE(settings.find("https://example.com/repo"), nullptr);
}

TEST(ClientSettings, RemoveRepositoryIgnoresCredentialsInTheUrl) {
    Settings settings = two_repositories();
    EXPECT_TRUE(remove_repository(settings, "http://x:y@mirror.example.com/private"));
    EXPECT_FALSE(remove_repository(settings, "http://mirror.example.com/private"));
    ASSERT_EQ(settings.repositories.size(), 1u);
    EXPECT_EQ(settings.repositories[0].url, "https://example.com/repo");
}

TEST(ClientSettings, AuthenticatedUrlPercentEncodesTheUserinfo) {
    EXPECT_EQ(authenticated_url({"https://h/r", 0, "", true, "u@x", "p:w"}),
              "https://u%40x:p%3Aw@h/r");
    EXPECT_EQ(authenticated_url({"https://h/r", 0, "", true, "a b", "%/#?"}),
              "https://a%20b:%25%2F%23%3F@h/r");
    EXPECT_EQ(authenticated_url({"https://h/r", 0, "", true, "", ""}), "https://h/r");
}

}  // namespace
}  // namespace ferry::client
