// `ferry installer create`: IFW binarycreator's options with binarycreator's meaning (the
// output file last, or -o), plus --market and flags for the settings config.xml would hold.
#include <cstdio>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/command_errors.hpp"
#include "cli/commands.hpp"
#include "cli/ifw_options.hpp"
#include "cli/terminal.hpp"
#include "core/files.hpp"
#include "installer/create.hpp"
#include "installer/packed.hpp"
#include "market/bundles.hpp"
#include "net/api_client.hpp"
#include "net/downloader.hpp"
#include "net/url.hpp"

namespace ferry::cli {

namespace {

namespace fs = std::filesystem;

struct CreateArgs {
    std::string config;
    std::string output_option;
    std::string output;
    std::vector<std::string> packages;
    std::vector<std::string> repositories;
    std::vector<std::string> remote;  // --repo
    std::vector<std::string> market;  // URL APP[@MAJOR]
    std::string token;
    std::string base;
    bool online_only = false;
    bool offline_only = false;
    std::string format = "7z";
    std::string level = "5";
    // Settings config.xml would hold; given, they replace its values.
    std::string name;
    std::string version;
    std::string title;
    std::string publisher;
    std::string product_url;
    std::string target_dir;
    std::string admin_target_dir;
    std::string maintenance_tool_name;
    std::vector<std::string> ignored;  // binarycreator options that mean nothing here
    bool verbose = false;
    bool quiet = false;
    bool json = false;
    installer::CreateOptions options;
};

installer::InstallerConfig configuration(CreateArgs& args) {
    installer::InstallerConfig config;
    if (!args.config.empty()) {
        auto read = installer::read_config_xml(args.config);
        config = std::move(read.config);
        if (!read.ignored.empty() && !args.quiet) {
            print_line(stderr, fmt::format("ferry: note: {}: ferry installers have no graphical "
                                           "wizard or scripts; ignored: {}",
                                           args.config, fmt::join(read.ignored, ", ")));
        }
        if (!read.unknown.empty()) {
            print_line(stderr, fmt::format("ferry: warning: {}: elements IFW does not know, "
                                           "ignored: {}",
                                           args.config, fmt::join(read.unknown, ", ")));
        }
    }
    auto set = [](std::string& field, const std::string& flag) {
        if (!flag.empty()) {
            field = flag;
        }
    };
    set(config.name, args.name);
    set(config.version, args.version);
    set(config.title, args.title);
    set(config.publisher, args.publisher);
    set(config.product_url, args.product_url);
    set(config.target_dir, args.target_dir);
    set(config.admin_target_dir, args.admin_target_dir);
    set(config.maintenance_tool_name, args.maintenance_tool_name);
    if (config.name.empty()) {
        throw UsageError(
            "the installer needs a product name: -c config/config.xml (its <Name>) "
            "or --name NAME");
    }
    if (config.title.empty()) {
        config.title = config.name;
    }
    client::Settings remote{config.repositories};
    for (const auto& url : args.remote) {
        client::add_repository(remote, net::repository_url(url));
    }
    config.repositories = std::move(remote.repositories);
    if (!args.market.empty()) {
        config.market = {net::repository_url(args.market[0]), args.market[1], args.token};
    }
    return config;
}

// This ferry's own file, for what it packs or starts installers with.
fs::path own_ferry() {
    const auto self = installer::own_executable({});
    if (!self) {
        throw UsageError(
            "cannot read ferry's own executable (is /proc mounted?); name the ferry to "
            "use: -t FILE");
    }
    return *self;
}

// The file to write, given as the last argument (as binarycreator takes it) or with -o.
fs::path output_file(const std::string& option, const std::string& last, std::string_view usage) {
    if (!option.empty() && !last.empty()) {
        throw UsageError(fmt::format("two output files: -o {} and {}; give one", option, last));
    }
    if (option.empty() && last.empty()) {
        throw UsageError(fmt::format("the file to write is missing: {}", usage));
    }
    return last.empty() ? option : last;
}

int run_create(CreateArgs& args) {
    auto& options = args.options;
    options.output =
        output_file(args.output_option, args.output, "ferry installer create ... FILE");
    if (args.online_only && args.offline_only) {
        throw UsageError("--online-only and --offline-only exclude each other");
    }
    if (!args.ignored.empty() && !args.quiet) {
        print_line(stderr,
                   "ferry: note: binarycreator's -r/--resources, --mt and -s/--sign "
                   "have no meaning for ferry installers; ignored");
    }
    options.config = configuration(args);
    options.mode = args.online_only    ? installer::CreateMode::online_only
                   : args.offline_only ? installer::CreateMode::offline_only
                                       : installer::CreateMode::both;
    for (const auto& p : args.packages) {
        options.packages.emplace_back(p);
    }
    for (const auto& r : args.repositories) {
        options.repositories.emplace_back(r);
    }
    options.format = archive::parse_archive_format(args.format);
    options.level = archive::parse_compression_level(args.level);
    options.base =
        args.base.empty() ? installer::default_template(own_ferry()) : fs::path(args.base);
    ProgressLine progress(stderr_is_terminal() && !args.quiet && !args.json);
    // --market with --offline-only: the installer carries the app's newest revision, downloaded
    // now (beside the output, as the payload is built).
    std::optional<core::ScratchDir> download;
    if (!options.config.market.url.empty() && args.offline_only) {
        if (!options.packages.empty() || !options.repositories.empty()) {
            throw UsageError("--market -f carries the market's app; leave out -p and --repository");
        }
        const auto& market = options.config.market;
        download.emplace(fs::absolute(options.output).parent_path(), ".ferry-market-");
        net::ApiClient api(market.url, market.token);
        net::DownloadOptions download_options;
        download_options.progress = [&](std::uint64_t done, std::uint64_t total) {
            progress.update(fmt::format("downloading {} ({} of {})", market.app, human_bytes(done),
                                        human_bytes(total)));
        };
        const fs::path repository = download->path() / "repository";
        market::download_app_repository(api, market.token, market.app, repository,
                                        download->path() / "files", download_options);
        progress.finish();
        options.repositories.push_back(repository);
        options.config.market = {};
    }
    options.on_progress = [&](const repo::GenerateProgress& p) {
        progress.update(fmt::format("building the payload: component {} of {}, {} of {}",
                                    p.components_done, p.components_total,
                                    human_bytes(p.bytes_done), human_bytes(p.bytes_total)));
    };
    const auto report = installer::create_installer(options);
    progress.finish();
    const bool packed = installer::is_packed(options.base);
    for (const auto& warning : report.warnings) {
        print_line(stderr, "ferry: warning: " + warning);
    }
    if (args.json) {
        nlohmann::json components = nlohmann::json::array();
        for (const auto& c : report.components) {
            components.push_back({{"name", c.name}, {"version", c.version}});
        }
        print_json({{"installer", report.output.string()},
                    {"kind", report.offline ? "offline" : "online"},
                    {"size", report.size},
                    {"payload_size", report.payload_size},
                    {"template", options.base.string()},
                    {"packed", packed},
                    {"components", components}});
    } else if (!args.quiet) {
        print_line(
            stdout,
            fmt::format("{} installer {} ({}, {} of payload){}",
                        report.offline ? "Offline" : "Online", report.output.string(),
                        human_bytes(report.size), human_bytes(report.payload_size),
                        report.offline
                            ? fmt::format(": {}", count_of(report.components.size(), "component"))
                            : std::string()));
        if (args.verbose) {
            print_line(stdout, fmt::format("  started by {}{}", options.base.string(),
                                           packed ? " (packed)" : ""));
            for (const auto& c : report.components) {
                print_line(stdout, fmt::format("  {} {}", c.name, c.version));
            }
        }
    }
    return kExitOk;
}

struct TemplateArgs {
    std::string output_option;
    std::string output;
    std::string ferry;
    std::string stub;
    int level = 6;
    bool quiet = false;
    bool json = false;
};

int run_template(const TemplateArgs& args) {
    installer::PackOptions options;
    options.output = output_file(args.output_option, args.output, "ferry installer template FILE");
    options.ferry = args.ferry.empty() ? own_ferry() : fs::path(args.ferry);
    if (!args.stub.empty()) {
        options.stub = args.stub;
    } else if (const auto stub = installer::installed_beside(options.ferry, installer::kStubName)) {
        options.stub = *stub;
    } else {
        throw UsageError(
            fmt::format("no {} beside {} nor in ../lib/ferry/ there; name it: --stub "
                        "FILE",
                        installer::kStubName, options.ferry.string()));
    }
    options.level = args.level;
    ProgressLine progress(stderr_is_terminal() && !args.quiet && !args.json);
    options.on_progress = [&](std::uint64_t done, std::uint64_t total) {
        progress.update(fmt::format("compressing {}: {} of {}", options.ferry.string(),
                                    human_bytes(done), human_bytes(total)));
    };
    const auto report = installer::write_packed(options);
    progress.finish();
    if (args.json) {
        print_json({{"template", options.output.string()},
                    {"size", report.size},
                    {"ferry", options.ferry.string()},
                    {"ferry_size", report.ferry_size},
                    {"stub", options.stub.string()},
                    {"stub_size", report.stub_size}});
    } else if (!args.quiet) {
        print_line(stdout,
                   fmt::format("Packed ferry {} ({}; {} of ferry, {} of stub)",
                               options.output.string(), human_bytes(report.size),
                               human_bytes(report.ferry_size), human_bytes(report.stub_size)));
    }
    return kExitOk;
}

void add_template_command(CLI::App* installer, CommandAction& run) {
    auto args = std::make_shared<TemplateArgs>();
    auto* cmd = installer->add_subcommand(
        "template",
        "Write a packed ferry to start installers with (-t): a small stub and ferry compressed, "
        "about a third of ferry's size; it unpacks itself into memory when it runs");
    cmd->add_option("--ferry", args->ferry, "The ferry to pack (default: this one)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--stub", args->stub,
                    "The stub that unpacks and runs it (default: ferry-stub beside that ferry, "
                    "or in ../lib/ferry/)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--level", args->level, "xz compression level, 0 (fastest) to 9")
        ->check(CLI::Range(0, 9));
    cmd->add_option("-o,--output", args->output_option, "The file to write");
    cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
    cmd->add_flag("--json", args->json, "Print a machine-readable summary");
    cmd->add_option("FILE", args->output, "The file to write (or -o)");
    cmd->callback([args, &run] { run = [args] { return run_template(*args); }; });
}

}  // namespace

void add_installer_command(CLI::App& app, CommandAction& run) {
    auto* installer = app.add_subcommand(
        "installer",
        "Make installers: one executable file that installs a product, online or offline");
    installer->require_subcommand(1);
    auto args = std::make_shared<CreateArgs>();
    auto* cmd = installer->add_subcommand(
        "create",
        "Create an installer (IFW binarycreator's options).\n"
        "An offline installer carries the packages it installs; an online one installs from the "
        "configuration's RemoteRepositories or a market.");
    auto& o = args->options;
    cmd->add_option("-c,--config", args->config,
                    "IFW's installer configuration (config/config.xml)")
        ->check(CLI::ExistingFile);
    cmd->add_option(
           "-p,--packages", args->packages,
           "Packages directory (IFW layout) whose components the installer carries; repeatable")
        ->allow_extra_args(false);
    cmd->add_option("--repository", args->repositories,
                    "A built repository whose components the installer carries; repeatable")
        ->allow_extra_args(false);
    add_component_selection(cmd, o.include, o.exclude);
    cmd->add_flag("-n,--online-only", args->online_only,
                  "Carry no packages: install from the configuration's repositories or --market");
    cmd->add_flag("-f,--offline-only", args->offline_only,
                  "Carry the packages and leave the remote repositories out of the installation");
    cmd->add_option("--market", args->market,
                    "Install an app from this market: URL APP[@MAJOR] (online: its newest "
                    "revision when the installer runs; with -f the installer carries it)")
        ->expected(2)
        ->allow_extra_args(false);
    cmd->add_option("--token", args->token,
                    "A token for a private market (stored in the installer)")
        ->envname("FERRY_TOKEN");
    cmd->add_option(
           "--repo", args->remote,
           "A remote repository the installation reads (as RemoteRepositories); repeatable")
        ->allow_extra_args(false);
    cmd->add_option("-t,--template", args->base,
                    "The ferry the installer starts with, plain or packed (default: a packed "
                    "ferry-installerbase installed with this ferry, else this ferry)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--name", args->name, "Product name (config.xml's Name)");
    cmd->add_option("--product-version", args->version, "Product version (Version)");
    cmd->add_option("--title", args->title, "Title shown to the user (Title; default: the name)");
    cmd->add_option("--publisher", args->publisher, "Publisher");
    cmd->add_option("--product-url", args->product_url, "ProductUrl");
    cmd->add_option("--target-dir", args->target_dir,
                    "Default target directory (TargetDir; @HomeDir@ and IFW's other variables)");
    cmd->add_option("--admin-target-dir", args->admin_target_dir,
                    "Default target directory when run as root (AdminTargetDir)");
    cmd->add_option("--maintenance-tool-name", args->maintenance_tool_name,
                    "The maintenance tool's file name in the target (default: maintenancetool)");
    add_archive_options(cmd, args->format, args->level);
    cmd->add_flag("--ignore-translations", o.ignore_translations,
                  "Do not carry translation files in the metadata");
    cmd->add_option("-r,--resources", args->ignored, "Accepted for binarycreator; ignored")
        ->allow_extra_args(false);
    cmd->add_option("-s,--sign", args->ignored, "Accepted for binarycreator; ignored")
        ->allow_extra_args(false);
    cmd->add_flag("--mt,--create-maintenancetool")
        ->description("Accepted for binarycreator; ignored")
        ->each([args](const std::string&) { args->ignored.emplace_back("--mt"); });
    cmd->add_option("-o,--output", args->output_option, "The installer file to write");
    cmd->add_flag("-v,--verbose", args->verbose, "List the carried components");
    cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors and warnings");
    cmd->add_flag("--json", args->json, "Print a machine-readable summary");
    cmd->add_option("FILE", args->output, "The installer file to write (or -o)");
    cmd->callback([args, &run] { run = [args] { return run_create(*args); }; });
    add_template_command(installer, run);
}

}  // namespace ferry::cli
