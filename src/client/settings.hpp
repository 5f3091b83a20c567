// The target's repository settings: which repositories an installation reads, with priorities
// and names, kept in <state>/settings.json; credentials apart in <state>/credentials.json,
// readable by its owner only, so that the settings can be shown and copied without secrets.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::client {

struct RepositorySetting {
    std::string url;  // without credentials
    int priority = 0;
    std::string display_name;
    bool enabled = true;
    std::string username;  // stored in credentials.json, never printed
    std::string password;  // stored in credentials.json, never printed
    bool operator==(const RepositorySetting&) const = default;
};

struct Settings {
    std::vector<RepositorySetting> repositories;
    bool operator==(const Settings&) const = default;

    RepositorySetting* find(std::string_view url);
    const RepositorySetting* find(std::string_view url) const;
};

// Reads <state_dir>/settings.json and <state_dir>/credentials.json; missing files mean empty
// settings. Malformed files are errors naming the file and the cause.
Settings load_settings(const std::filesystem::path& state_dir);

// Writes both files atomically. credentials.json is created with mode 0600 from the start (no
// moment where another user could read it) and only when some repository has credentials;
// otherwise an existing one is removed.
void save_settings(const std::filesystem::path& state_dir, const Settings& settings);

// Adds a repository, or updates the priority, name and credentials of the one with that URL.
// A URL with user:password@ has its credentials moved into the setting. Returns the stored URL.
std::string add_repository(Settings& settings, std::string_view url, int priority = 0,
                           std::string_view display_name = {});

// Removes the repository with that URL (credentials in the URL ignored); false if absent.
bool remove_repository(Settings& settings, std::string_view url);

// The URL with the setting's credentials as percent-encoded userinfo, for the downloader only
// (never for messages): {"https://h/r", "u@x", "p:w"} -> "https://u%40x:p%3Aw@h/r".
std::string authenticated_url(const RepositorySetting& repository);

}  // namespace ferry::client
