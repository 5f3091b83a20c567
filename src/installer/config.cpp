#include "installer/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/json_error.hpp"
#include "core/text.hpp"
#include "formats/xml_text.hpp"
#include "net/url.hpp"

namespace ferry::installer {

namespace {

using Json = nlohmann::json;

// IFW's config.xml elements that describe its graphical wizard, its scripting or platforms
// other than Linux: a configuration written for IFW keeps working, and ferry says once that it
// does not use them.
constexpr std::array kGuiElements = {"InstallerApplicationIcon",
                                     "InstallerWindowIcon",
                                     "Logo",
                                     "Watermark",
                                     "Banner",
                                     "Background",
                                     "PageListPixmap",
                                     "TitleColor",
                                     "StyleSheet",
                                     "WizardStyle",
                                     "WizardDefaultWidth",
                                     "WizardDefaultHeight",
                                     "WizardMaximumWidth",
                                     "WizardMaximumHeight",
                                     "WizardShowPageList",
                                     "ProductImages",
                                     "RunProgram",
                                     "RunProgramArguments",
                                     "RunProgramDescription",
                                     "StartMenuDir",
                                     "ControlScript",
                                     "Translations",
                                     "SupportsModify",
                                     "AllowNonAsciiCharacters",
                                     "AllowSpaceInPath",
                                     "DisableAuthorizationFallback",
                                     "DisableCommandLineInterface",
                                     "RepositorySettingsPageVisible",
                                     "CreateLocalRepository",
                                     "InstallActionColumnVisible",
                                     "SaveDefaultRepositories",
                                     "RepositoryCategories",
                                     "MaintenanceToolIniFile",
                                     "MaintenanceToolAlias",
                                     "UrlQueryString",
                                     "ProductUUID",
                                     "AllowRepositoriesForOfflineInstaller",
                                     "LocalCacheDirectory",
                                     "PersistentData"};

std::string home_dir() {
    const char* home = std::getenv("HOME");
    return home != nullptr && *home != '\0' ? home : "/root";
}

client::RepositorySetting read_repository(const formats::XmlSource& xml,
                                          const pugi::xml_node& element) {
    client::RepositorySetting repository;
    for (const auto& child : element.children()) {
        if (child.type() != pugi::node_element) {
            continue;
        }
        const std::string name = child.name();
        const std::string text(formats::trim(formats::element_text(child)));
        if (name == "Url") {
            repository.url = text;
        } else if (name == "Username") {
            repository.username = text;
        } else if (name == "Password") {
            repository.password = text;
        } else if (name == "DisplayName") {
            repository.display_name = text;
        } else if (name == "Enabled") {
            // IFW writes 0/1; true/false read too.
            const auto flag = formats::parse_bool_text(text);
            if (!flag && text != "0" && text != "1") {
                throw xml.error_at(child, fmt::format("Enabled \"{}\" is neither 1, 0, true "
                                                      "nor false",
                                                      core::printable_text(text)));
            }
            repository.enabled = flag ? *flag : text == "1";
        } else {
            throw xml.error_at(child, fmt::format("unknown element <{}> in a <Repository>; it "
                                                  "takes Url, Username, Password, DisplayName "
                                                  "and Enabled",
                                                  core::printable_text(name)));
        }
    }
    if (repository.url.empty()) {
        throw xml.error_at(element, "a <Repository> without <Url>");
    }
    try {
        repository.url = net::repository_url(repository.url);
    } catch (const Error& e) {
        throw xml.error_at(element, e.what());
    }
    return repository;
}

}  // namespace

ConfigXml read_config_xml(const fs::path& path) {
    return parse_config_xml(core::read_file(path, 4u << 20), path.string());
}

ConfigXml parse_config_xml(std::string_view text, std::string_view source) {
    const formats::XmlSource xml(text, source);
    const pugi::xml_node root = xml.document().document_element();
    if (std::string_view(root.name()) != "Installer") {
        throw xml.error_at(root, fmt::format("the root element is <{}>, not IFW's <Installer>",
                                             core::printable_text(root.name())));
    }
    ConfigXml result;
    InstallerConfig& config = result.config;
    for (const auto& element : root.children()) {
        if (element.type() != pugi::node_element) {
            continue;
        }
        const std::string name = element.name();
        const std::string value(formats::trim(formats::element_text(element)));
        if (name == "Name") {
            config.name = value;
        } else if (name == "Version") {
            config.version = value;
        } else if (name == "Title") {
            config.title = value;
        } else if (name == "Publisher") {
            config.publisher = value;
        } else if (name == "ProductUrl") {
            config.product_url = value;
        } else if (name == "TargetDir") {
            config.target_dir = value;
        } else if (name == "AdminTargetDir") {
            config.admin_target_dir = value;
        } else if (name == "MaintenanceToolName") {
            config.maintenance_tool_name = value;
        } else if (name == "RemoteRepositories") {
            for (const auto& repository : element.children("Repository")) {
                config.repositories.push_back(read_repository(xml, repository));
            }
        } else if (std::find(kGuiElements.begin(), kGuiElements.end(), name) !=
                   kGuiElements.end()) {
            result.ignored.push_back(name);
        } else {
            result.unknown.push_back(core::printable_text(name));
        }
    }
    try {
        check_config(config, source);
    } catch (const Error& e) {
        throw xml.error_at(root, e.what());
    }
    if (config.title.empty()) {
        config.title = config.name;
    }
    return result;
}

void check_config(const InstallerConfig& config, std::string_view where) {
    if (config.name.empty()) {
        throw Error::format("{}: the product has no Name", where);
    }
    const std::string& tool = config.maintenance_tool_name;
    if (tool.empty() || tool == "." || tool == ".." || tool.find('/') != std::string::npos ||
        tool.find('\0') != std::string::npos || tool.size() > 255 || tool.front() == '.' ||
        tool == "components.xml" || tool == "docker-compose.yaml") {
        throw Error::format(
            "{}: MaintenanceToolName \"{}\" is not a file name the target can hold (one name, "
            "no '/', not starting with '.', not components.xml or docker-compose.yaml)",
            where, core::printable_text(tool));
    }
    for (const auto& repository : config.repositories) {
        if (!net::is_url(repository.url)) {
            throw Error::format("{}: repository \"{}\" is not a URL", where,
                                core::printable_text(repository.url));
        }
    }
}

std::string expand_variables(std::string_view text, const InstallerConfig& config,
                             const fs::path& installer) {
    auto value = [&](std::string_view variable) -> std::optional<std::string> {
        if (variable == "HomeDir") {
            return home_dir();
        }
        if (variable == "ApplicationsDir" || variable == "ApplicationsDirX86" ||
            variable == "ApplicationsDirX64" || variable == "ApplicationsDirUser") {
            return std::string("/opt");
        }
        if (variable == "RootDir") {
            return std::string("/");
        }
        if (variable == "DesktopDir") {
            return home_dir() + "/Desktop";
        }
        if (variable == "ProductName") {
            return config.name;
        }
        if (variable == "ProductVersion") {
            return config.version;
        }
        if (variable == "Title") {
            return config.title.empty() ? config.name : config.title;
        }
        if (variable == "Publisher") {
            return config.publisher;
        }
        if (variable == "Url") {
            return config.product_url;
        }
        if (variable == "os") {
            return std::string("x11");
        }
        if (variable == "InstallerFilePath") {
            return installer.string();
        }
        if (variable == "InstallerDirPath") {
            return installer.parent_path().string();
        }
        return std::nullopt;
    };
    std::string out;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t open = text.find('@', at);
        const std::size_t close = open == std::string_view::npos ? open : text.find('@', open + 1);
        if (close == std::string_view::npos) {
            out.append(text.substr(at));
            break;
        }
        out.append(text.substr(at, open - at));
        const std::string_view variable = text.substr(open + 1, close - open - 1);
        const auto replaced = value(variable);
        if (!replaced) {
            throw Error::format(
                "\"{}\": unknown variable @{}@ (ferry knows @HomeDir@, "
                "@ApplicationsDir@, @RootDir@, @DesktopDir@, @ProductName@, "
                "@ProductVersion@, @Title@, @Publisher@, @Url@, @os@, "
                "@InstallerFilePath@ and @InstallerDirPath@)",
                core::printable_text(text), core::printable_text(variable));
        }
        out += *replaced;
        at = close + 1;
    }
    return out;
}

fs::path default_target(const InstallerConfig& config, const fs::path& installer) {
    std::string raw = ::geteuid() == 0 && !config.admin_target_dir.empty() ? config.admin_target_dir
                                                                           : config.target_dir;
    if (raw.empty()) {
        raw = "@HomeDir@/" + config.name;
    }
    fs::path target = expand_variables(raw, config, installer);
    return fs::absolute(target).lexically_normal();
}

Json to_json(const InstallerConfig& config) {
    Json repositories = Json::array();
    for (const auto& r : config.repositories) {
        repositories.push_back({{"url", r.url},
                                {"display_name", r.display_name},
                                {"enabled", r.enabled},
                                {"username", r.username},
                                {"password", r.password}});
    }
    Json json = {{"name", config.name},
                 {"version", config.version},
                 {"title", config.title},
                 {"publisher", config.publisher},
                 {"product_url", config.product_url},
                 {"target_dir", config.target_dir},
                 {"admin_target_dir", config.admin_target_dir},
                 {"maintenance_tool_name", config.maintenance_tool_name},
                 {"repositories", repositories}};
    if (!config.market.url.empty()) {
        json["market"] = {
            {"url", config.market.url}, {"app", config.market.app}, {"token", config.market.token}};
    }
    return json;
}

InstallerConfig config_from_json(const Json& json, std::string_view where) {
    InstallerConfig config;
    try {
        config.name = json.at("name").get<std::string>();
        config.version = json.at("version").get<std::string>();
        config.title = json.at("title").get<std::string>();
        config.publisher = json.at("publisher").get<std::string>();
        config.product_url = json.at("product_url").get<std::string>();
        config.target_dir = json.at("target_dir").get<std::string>();
        config.admin_target_dir = json.at("admin_target_dir").get<std::string>();
        config.maintenance_tool_name = json.at("maintenance_tool_name").get<std::string>();
        for (const auto& r : json.at("repositories")) {
            client::RepositorySetting repository;
            repository.url = r.at("url").get<std::string>();
            repository.display_name = r.at("display_name").get<std::string>();
            repository.enabled = r.at("enabled").get<bool>();
            repository.username = r.at("username").get<std::string>();
            repository.password = r.at("password").get<std::string>();
            config.repositories.push_back(std::move(repository));
        }
        if (json.contains("market")) {
            const Json& market = json.at("market");
            config.market = {market.at("url").get<std::string>(),
                             market.at("app").get<std::string>(),
                             market.at("token").get<std::string>()};
        }
    } catch (const Json::exception& e) {
        throw Error::format("{}: not an installer configuration: {}", where,
                            core::json_error_text(e));
    }
    check_config(config, where);
    if (!config.market.url.empty() && !net::is_url(config.market.url)) {
        throw Error::format("{}: market \"{}\" is not a URL", where,
                            core::printable_text(config.market.url));
    }
    return config;
}

std::string product_label(const InstallerConfig& config, std::string_view title) {
    return config.version.empty() ? std::string(title)
                                  : fmt::format("{} {}", title, config.version);
}

}  // namespace ferry::installer
