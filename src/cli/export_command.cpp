// `ferry export`: an app version as a package that runs elsewhere. --format compose writes the
// docker-compose package (bundle/compose_package.hpp) of a repository's service components,
// from a market (--server, which must allow it) or from a repository directory.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "bundle/compose_package.hpp"
#include "bundle/fetch.hpp"
#include "cli/command_errors.hpp"
#include "cli/commands.hpp"
#include "cli/market_options.hpp"
#include "cli/terminal.hpp"
#include "core/files.hpp"
#include "market/export_policy.hpp"
#include "market/json.hpp"
#include "market/market_client.hpp"
#include "market/names.hpp"

namespace ferry::cli {

namespace {

struct ExportArgs {
    std::string app;  // KEY[@MAJOR]
    MarketConnection market;
    std::string repository;
    std::string format = "compose";
    std::string output;
    std::string folder;
    bool json = false;
    bool quiet = false;
};

// The folder a package unpacks to: the app and its major, or the repository's directory name.
std::string folder_name(const ExportArgs& args, const market::AppVersion* version) {
    if (!args.folder.empty()) {
        return args.folder;
    }
    if (version != nullptr) {
        return version->key + "-" + version->major;
    }
    return std::filesystem::absolute(args.repository).lexically_normal().filename().string();
}

// A package is a .tar.gz or, written at the speed of copying its files, a plain .tar.
archive::ArchiveFormat package_format(const std::string& output) {
    if (output.empty() || output.ends_with(".tar.gz") || output.ends_with(".tgz")) {
        return archive::ArchiveFormat::tar_gz;
    }
    if (output.ends_with(".tar")) {
        return archive::ArchiveFormat::tar;
    }
    throw UsageError(
        fmt::format("-o {}: a package's name ends in .tar.gz, .tgz or .tar", output));
}

int run_export(const ExportArgs& args) {
    if (args.market.server.empty() == args.repository.empty()) {
        throw UsageError("export needs either --server URL APP[@MAJOR] or --repository DIR");
    }
    if (!args.market.server.empty() && args.app.empty()) {
        throw UsageError("export --server needs the app: ferry export APP[@MAJOR] --server URL");
    }
    auto say = [&](const std::string& text) {
        if (!args.quiet && !args.json) {
            print_line(stderr, text);
        }
    };
    bundle::ComposeExportOptions options;
    options.format = package_format(args.output);
    options.say = say;
    std::filesystem::path repository = args.repository;
    std::optional<core::ScratchDir> download;
    std::optional<market::AppVersion> version;
    if (!args.market.server.empty()) {
        net::ApiClient api = connect(args.market);
        version = market::resolve_app_version(api, args.app);
        market::App known;
        known.key = version->key;
        known.source = market::parse_app_source(version->app.value("source", "published"));
        known.upstream_url = version->app.value("upstream_url", "");
        const market::App app = market::app_from_json(version->app, known);
        if (auto refusal = market::export_refusal(app, market::kComposeFormat)) {
            throw Error(*refusal, ErrorKind::conflict);
        }
        download.emplace();
        repository = download->path() / "repository";
        say(fmt::format("downloading {}@{} from {}", version->key, version->major, api.base_url()));
        bundle::fetch_service_files(
            market::repository_url(api.base_url(), *version, args.market.token), repository,
            api_options(args.market.ca_file));
    }
    options.folder = folder_name(args, version ? &*version : nullptr);
    market::check_key(options.folder, "package folder");
    const std::string output =
        args.output.empty() ? options.folder + ".compose.tar.gz" : args.output;
    const auto result = bundle::write_compose_package(repository, output, options);
    if (args.json) {
        nlohmann::json out{{"output", output},
                           {"folder", options.folder},
                           {"services", result.services},
                           {"skipped", result.skipped},
                           {"bytes", result.bytes}};
        print_json(out);
        return kExitOk;
    }
    if (!result.skipped.empty()) {
        say(fmt::format("note: {} left out: a Compose package runs services only",
                        fmt::join(result.skipped, ", ")));
    }
    say(fmt::format("wrote {} ({}, {}): tar -xf {} && ./{}/run.sh up", output,
                    count_of(result.services.size(), "service", "services"),
                    human_bytes(result.bytes), output, options.folder));
    return kExitOk;
}

}  // namespace

void add_export_command(CLI::App& app, CommandAction& run) {
    auto args = std::make_shared<ExportArgs>();
    auto* command = app.add_subcommand(
        "export", "Write an app version as a package that runs without ferry (docker-compose)");
    command->add_option("APP", args->app, "KEY or KEY@MAJOR of the app on the market (--server)");
    add_market_options(*command, args->market, "The market to export from",
                       "A token, for a private market");
    command->add_option("--repository", args->repository, "A repository directory to export")
        ->check(CLI::ExistingDirectory);
    command->add_option("--format", args->format, "The package's format")
        ->check(CLI::IsMember({"compose"}));
    command->add_option("-o,--output", args->output,
                        "The file to write: .tar.gz, .tgz or .tar (default: "
                        "<folder>.compose.tar.gz)");
    command->add_option("--folder", args->folder,
                        "The folder the package unpacks to (default: KEY-MAJOR, or the "
                        "repository's directory name)");
    command->add_flag("--json", args->json, "Machine-readable output");
    command->add_flag("-q,--quiet", args->quiet, "Print only errors");
    command->callback([&run, args] { run = [args] { return run_export(*args); }; });
}

}  // namespace ferry::cli
