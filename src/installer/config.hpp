// An installer's configuration: what IFW's config/config.xml says (or ferry's flags say) about
// the product, where it installs, which repositories or market it installs from and what the
// maintenance tool left in the target is called. It travels inside the installer as JSON.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/settings.hpp"

namespace ferry::installer {

namespace fs = std::filesystem;

// An app of a market that an online installer installs: resolved when the installer runs, so
// that it installs the app's newest revision of that major version.
struct MarketApp {
    std::string url;
    std::string app;  // APP or APP@MAJOR
    std::string token;
    bool operator==(const MarketApp&) const = default;
};

struct InstallerConfig {
    std::string name;  // required
    std::string version;
    std::string title;  // defaults to name
    std::string publisher;
    std::string product_url;
    // Raw, with IFW's @variables@ (expand_variables).
    std::string target_dir;
    std::string admin_target_dir;  // used instead of target_dir when the installer runs as root
    std::string maintenance_tool_name = "maintenancetool";
    std::vector<client::RepositorySetting> repositories;  // IFW's RemoteRepositories
    MarketApp market;                                     // url empty: none
    bool operator==(const InstallerConfig&) const = default;
};

struct ConfigXml {
    InstallerConfig config;
    // Elements IFW documents that only its graphical installer or scripts use (Logo,
    // WizardStyle, ControlScript...): accepted and ignored.
    std::vector<std::string> ignored;
    // Elements IFW does not document either: ignored too, and named apart (a typo?).
    std::vector<std::string> unknown;
};

// Reads IFW's config.xml. Malformed XML, a missing Name, a repository without a valid Url or
// an unusable MaintenanceToolName are errors naming the file, the line and the cause.
ConfigXml read_config_xml(const fs::path& path);
// The same of the file's text; source names it in errors.
ConfigXml parse_config_xml(std::string_view text, std::string_view source);

// Checks what read_config_xml checks of a configuration that came from flags or JSON; `where`
// names its source in errors.
void check_config(const InstallerConfig& config, std::string_view where);

// What the user is told the product is: "Title Version", or the title alone without a version.
std::string product_label(const InstallerConfig& config, std::string_view title);

// text with IFW's predefined variables replaced: @HomeDir@, @ApplicationsDir@ (and its X86,
// X64 and User forms: /opt on Linux), @RootDir@, @DesktopDir@, @ProductName@, @ProductVersion@,
// @Title@, @Publisher@, @Url@, @os@, @InstallerFilePath@ and @InstallerDirPath@. An unknown
// variable is an error naming it.
std::string expand_variables(std::string_view text, const InstallerConfig& config,
                             const fs::path& installer);

// The directory an installer installs into when none is given: AdminTargetDir for root when
// the configuration has one, else TargetDir, else @HomeDir@/<Name>; expanded and absolute.
fs::path default_target(const InstallerConfig& config, const fs::path& installer);

// The JSON form carried in an installer's payload. config_from_json checks everything
// (check_config), since an installer file is outside input.
nlohmann::json to_json(const InstallerConfig& config);
InstallerConfig config_from_json(const nlohmann::json& json, std::string_view where);

}  // namespace ferry::installer
