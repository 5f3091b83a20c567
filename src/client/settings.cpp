// settings.json and credentials.json of a target: read, written atomically (the credentials
// with mode 0600 from their first byte on disk), and the repository list edited.
#include "client/settings.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/json_error.hpp"
#include "net/url.hpp"

namespace ferry::client {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSettingsFile = "settings.json";
constexpr const char* kCredentialsFile = "credentials.json";
constexpr std::uint64_t kMaxSettingsBytes = 16u << 20;

// Hands the parsed file to use; a missing file holds nothing, an unreadable one is an error.
// Every failure names the file.
template <typename Fn>
void read_json(const fs::path& path, Fn&& use) {
    const auto text = core::read_file_if_exists(path, kMaxSettingsBytes);
    if (!text) {
        return;
    }
    try {
        use(nlohmann::json::parse(*text));
    } catch (const nlohmann::json::exception& e) {
        throw Error::format("{}: malformed: {}", path.string(), core::json_error_text(e));
    }
}

std::string escape(const std::string& text) {
    std::unique_ptr<char, decltype(&curl_free)> escaped(
        curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size())), &curl_free);
    if (!escaped) {
        throw Error("cannot percent-encode a repository credential");
    }
    return escaped.get();
}

}  // namespace

RepositorySetting* Settings::find(std::string_view url) {
    const std::string plain = net::strip_credentials(url);
    auto it = std::find_if(repositories.begin(), repositories.end(),
                           [&](const RepositorySetting& r) { return r.url == plain; });
    return it == repositories.end() ? nullptr : &*it;
}

const RepositorySetting* Settings::find(std::string_view url) const {
    return const_cast<Settings*>(this)->find(url);
}

Settings load_settings(const fs::path& state_dir) {
    Settings settings;
    read_json(state_dir / kSettingsFile, [&](const nlohmann::json& json) {
        for (const auto& entry : json.at("repositories")) {
            RepositorySetting setting;
            setting.url = entry.at("url").get<std::string>();
            setting.priority = entry.value("priority", 0);
            setting.display_name = entry.value("display_name", std::string());
            setting.enabled = entry.value("enabled", true);
            settings.repositories.push_back(std::move(setting));
        }
    });
    read_json(state_dir / kCredentialsFile, [&](const nlohmann::json& json) {
        for (const auto& entry : json.at("credentials")) {
            // Credentials of a repository no longer listed are dropped with the next save.
            if (RepositorySetting* setting = settings.find(entry.at("url").get<std::string>())) {
                setting->username = entry.value("username", std::string());
                setting->password = entry.value("password", std::string());
            }
        }
    });
    return settings;
}

void save_settings(const fs::path& state_dir, const Settings& settings) {
    nlohmann::json repositories = nlohmann::json::array();
    nlohmann::json credentials = nlohmann::json::array();
    for (const RepositorySetting& r : settings.repositories) {
        repositories.push_back({{"url", r.url},
                                {"priority", r.priority},
                                {"display_name", r.display_name},
                                {"enabled", r.enabled}});
        if (!r.username.empty() || !r.password.empty()) {
            credentials.push_back(
                {{"url", r.url}, {"username", r.username}, {"password", r.password}});
        }
    }
    fs::create_directories(state_dir);
    core::write_file_atomic(state_dir / kSettingsFile,
                            nlohmann::json{{"repositories", repositories}}.dump(2) + "\n");
    const fs::path credentials_path = state_dir / kCredentialsFile;
    if (credentials.empty()) {
        std::error_code ec;
        fs::remove(credentials_path, ec);
        if (ec) {
            throw Error::format("{}: cannot remove: {}", credentials_path.string(), ec.message());
        }
        return;
    }
    core::write_file_atomic(credentials_path,
                            nlohmann::json{{"credentials", credentials}}.dump(2) + "\n", 0600);
}

std::string add_repository(Settings& settings, std::string_view url, int priority,
                           std::string_view display_name) {
    net::SplitUrl split = net::split_credentials(url);
    RepositorySetting* setting = settings.find(split.url);
    if (!setting) {
        setting = &settings.repositories.emplace_back();
        setting->url = split.url;
    }
    setting->priority = priority;
    if (!display_name.empty()) {
        setting->display_name = display_name;
    }
    if (!split.username.empty() || !split.password.empty()) {
        setting->username = std::move(split.username);
        setting->password = std::move(split.password);
    }
    return setting->url;
}

bool remove_repository(Settings& settings, std::string_view url) {
    const std::string plain = net::strip_credentials(url);
    return std::erase_if(settings.repositories,
                         [&](const RepositorySetting& r) { return r.url == plain; }) > 0;
}

std::string authenticated_url(const RepositorySetting& repository) {
    const auto scheme = repository.url.find("://");
    if (scheme == std::string::npos ||
        (repository.username.empty() && repository.password.empty())) {
        return repository.url;
    }
    std::string userinfo = escape(repository.username);
    if (!repository.password.empty()) {
        userinfo += ":" + escape(repository.password);
    }
    return repository.url.substr(0, scheme + 3) + userinfo + "@" +
           repository.url.substr(scheme + 3);
}

}  // namespace ferry::client
