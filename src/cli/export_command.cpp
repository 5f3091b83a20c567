// `ferry export`: app versions as files that go elsewhere. --format compose writes the
// docker-compose package (bundle/compose_package.hpp) of a repository's service components;
// --format bundle writes ferry's offline bundle (bundle/ferry_bundle.hpp), which another market
// imports. Either comes from a market (--server, which must allow it), a market's data directory
// (--data, bundles) or a repository directory.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "bundle/compose_package.hpp"
#include "bundle/fetch.hpp"
#include "cli/command_errors.hpp"
#include "cli/commands.hpp"
#include "cli/market_options.hpp"
#include "cli/terminal.hpp"
#include "core/files.hpp"
#include "market/bundles.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/export_policy.hpp"
#include "market/import_folder.hpp"
#include "market/json.hpp"
#include "market/market_client.hpp"
#include "market/names.hpp"
#include "net/downloader.hpp"

namespace ferry::cli {

namespace {

namespace fs = std::filesystem;

struct ExportArgs {
    std::vector<std::string> apps;  // KEY[@MAJOR]
    MarketConnection market;
    std::string repository;
    std::string data;
    std::string have;
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
    throw UsageError(fmt::format("-o {}: a package's name ends in .tar.gz, .tgz or .tar", output));
}

// The market writes each bundle (an export job, reused when that revision was exported before)
// and this downloads it (resuming a broken download on a rerun).
int export_through_market(const ExportArgs& args, const std::set<std::string>& have,
                          const std::function<void(const std::string&)>& say) {
    net::ApiClient api = connect(args.market);
    ProgressLine progress(stderr_is_terminal() && !args.quiet && !args.json);
    nlohmann::json body{{"apps", args.apps}, {"format", "bundle"}};
    if (!have.empty()) {
        body["have"] = have;
    }
    const nlohmann::json started = api.post("/api/v1/exports", body);
    std::error_code ec;
    const bool into_dir =
        args.output.empty() || args.output.ends_with('/') || fs::is_directory(args.output, ec);
    net::DownloadOptions options = api_options(args.market.ca_file);
    options.progress = [&](std::uint64_t done, std::uint64_t total) {
        progress.update(
            fmt::format("downloading ({} of {})", human_bytes(done), human_bytes(total)));
    };
    net::Downloader downloader(options);
    nlohmann::json out = nlohmann::json::array();
    std::vector<std::string> failures;
    for (const nlohmann::json& start : started.at("jobs")) {
        const std::string target = start.at("target").get<std::string>();
        const nlohmann::json job = follow_job(
            api, start, progress, [&](const nlohmann::json&) { return "exporting " + target; });
        if (job.at("state") != "success") {
            failures.push_back(fmt::format("{}: {}", target, job.value("error", std::string())));
            continue;
        }
        const nlohmann::json& detail = job.at("detail");
        const std::string file = detail.at("file").get<std::string>();
        market::check_import_name(file);
        const fs::path dest =
            into_dir ? (args.output.empty() ? fs::path(".") : fs::path(args.output)) / file
                     : fs::path(args.output);
        fs::create_directories(fs::absolute(dest).parent_path(), ec);
        const auto result = downloader.download(
            market::market_file_url(api.base_url(), detail.at("url").get<std::string>(),
                                    args.market.token),
            dest);
        progress.finish();
        if (result.status == net::FetchStatus::not_found) {
            failures.push_back(fmt::format("{}: the market no longer has {}", target, file));
            continue;
        }
        out.push_back({{"output", dest.string()},
                       {"target", target},
                       {"bytes", result.size},
                       {"reused", detail.value("reused", false)},
                       {"job", job.at("id")}});
        say(fmt::format("wrote {} ({}{})", dest.string(), human_bytes(result.size),
                        detail.value("reused", false) ? ", exported before" : ""));
    }
    if (args.json) {
        print_json(nlohmann::json{{"bundles", out}, {"failed", failures}});
    }
    for (const auto& failure : failures) {
        print_line(stderr, "export failed: " + failure);
    }
    return failures.empty() ? kExitOk : kExitFailure;
}

// Bundles: one file holding every app version, or (-o DIR) one file each.
int run_bundle_export(const ExportArgs& args, const std::function<void(const std::string&)>& say) {
    if (!args.repository.empty() && args.apps.size() > 1) {
        throw UsageError("export --repository writes one app version; name at most one");
    }
    if (args.repository.empty() && args.apps.empty()) {
        throw UsageError(
            "export --format bundle needs the apps: ferry export APP[@MAJOR]... "
            "--server URL (or --data DIR)");
    }
    std::set<std::string> have;
    if (!args.have.empty()) {
        have = market::inventory_blobs(core::read_file(args.have), args.have);
    }
    std::error_code ec;
    const bool into_dir =
        !args.output.empty() && (args.output.ends_with('/') || fs::is_directory(args.output, ec));
    // With a token, the market does the work: one bundle per app version, which -o FILE holds
    // only for one app version.
    if (!args.market.server.empty() && !args.market.token.empty() &&
        (args.apps.size() == 1 || into_dir || args.output.empty())) {
        return export_through_market(args, have, say);
    }
    std::optional<core::ScratchDir> download;
    std::optional<market::DataDir> data;
    std::unique_ptr<market::Catalog> catalog;
    std::vector<bundle::BundleSource> sources;
    std::string source_market;
    ProgressLine progress(stderr_is_terminal() && !args.quiet && !args.json);
    if (!args.repository.empty()) {
        sources.push_back(market::repository_bundle_source(
            args.repository, args.apps.empty() ? "" : args.apps.front()));
        source_market = fs::absolute(args.repository).lexically_normal().string();
    } else if (!args.data.empty()) {
        // Reads only: a running market may go on serving.
        data.emplace(args.data);
        catalog = market::open_sqlite_catalog(data->catalog_file());
        sources = market::bundle_sources(*data, *catalog, args.apps);
        source_market = fs::absolute(args.data).lexically_normal().string();
    } else {
        net::ApiClient api = connect(args.market);
        download.emplace();
        net::DownloadOptions options = api_options(args.market.ca_file);
        options.progress = [&](std::uint64_t done, std::uint64_t total) {
            progress.update(
                fmt::format("downloading ({} of {})", human_bytes(done), human_bytes(total)));
        };
        say(fmt::format("downloading {} from {}", fmt::join(args.apps, ", "), api.base_url()));
        sources = market::download_bundle_sources(api, args.market.token, args.apps, have,
                                                  download->path(), options);
        progress.finish();
        source_market = api.base_url();
    }
    bundle::WriteBundleOptions options;
    options.have = have;
    options.source_market = source_market;
    options.progress = [&](std::uint64_t done, std::uint64_t total) {
        progress.update(fmt::format("writing ({} of {})", human_bytes(done), human_bytes(total)));
    };
    // -o DIR (an existing directory or a name ending in '/'): one bundle per app version there.
    std::vector<std::pair<std::string, std::vector<bundle::BundleSource>>> files;
    if (into_dir || (args.output.empty() && sources.size() > 1)) {
        const fs::path dir = args.output.empty() ? fs::path(".") : fs::path(args.output);
        fs::create_directories(dir, ec);
        for (auto& source : sources) {
            std::string name = (dir / bundle::bundle_file_name(source.app)).string();
            std::vector<bundle::BundleSource> one;
            one.push_back(std::move(source));
            files.emplace_back(std::move(name), std::move(one));
        }
    } else {
        std::string name =
            args.output.empty() ? bundle::bundle_file_name(sources.front().app) : args.output;
        files.emplace_back(std::move(name), std::move(sources));
    }
    nlohmann::json out = nlohmann::json::array();
    for (auto& [name, group] : files) {
        const bundle::WriteBundleResult result =
            bundle::write_bundle(name, std::move(group), options);
        progress.finish();
        nlohmann::json versions = nlohmann::json::array();
        std::vector<std::string> labels;
        for (const auto& app : result.manifest.apps) {
            versions.push_back({{"key", app.app.key},
                                {"major", app.major},
                                {"revision", app.revision},
                                {"components", app.components.size()}});
            labels.push_back(
                fmt::format("{}@{} revision {}", app.app.key, app.major, app.revision));
        }
        out.push_back({{"output", name},
                       {"bytes", result.bytes},
                       {"differential", result.manifest.differential()},
                       {"blobs", result.manifest.blobs.size()},
                       {"omitted", result.manifest.omitted.size()},
                       {"apps", versions}});
        say(fmt::format("wrote {} ({}{}): {}", name, human_bytes(result.bytes),
                        result.manifest.differential()
                            ? fmt::format(", differential: {} left out",
                                          count_of(result.manifest.omitted.size(), "file", "files"))
                            : "",
                        fmt::join(labels, ", ")));
    }
    if (args.json) {
        print_json(nlohmann::json{{"bundles", out}});
    }
    return kExitOk;
}

int run_export(const ExportArgs& args) {
    auto say = [&](const std::string& text) {
        if (!args.quiet && !args.json) {
            print_line(stderr, text);
        }
    };
    const int sources = !args.market.server.empty() + !args.repository.empty() + !args.data.empty();
    if (sources != 1) {
        throw UsageError(
            "export needs one of --server URL, --data DIR (bundles) or "
            "--repository DIR");
    }
    if (args.format == "bundle") {
        return run_bundle_export(args, say);
    }
    if (!args.data.empty() || !args.have.empty()) {
        throw UsageError("--data and --have are for --format bundle");
    }
    if (args.apps.size() > 1) {
        throw UsageError("export --format compose writes one app version; name one");
    }
    if (!args.market.server.empty() && args.apps.empty()) {
        throw UsageError("export --server needs the app: ferry export APP[@MAJOR] --server URL");
    }
    const std::string app = args.apps.empty() ? "" : args.apps.front();
    bundle::ComposeExportOptions options;
    options.format = package_format(args.output);
    options.say = say;
    std::filesystem::path repository = args.repository;
    std::optional<core::ScratchDir> download;
    std::optional<market::AppVersion> version;
    if (!args.market.server.empty()) {
        net::ApiClient api = connect(args.market);
        version = market::resolve_app_version(api, app);
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
        "export",
        "Write app versions as files for elsewhere: an offline bundle for another market "
        "(--format bundle) or a package that runs without ferry (docker-compose)");
    command->footer(
        "Bundles: ferry export APP[@MAJOR]... --format bundle --server URL (or --data DIR) "
        "writes one file holding them all, -o DIR one file each; --have FILE (ferry inventory "
        "of the target) leaves out what the target market has already. docs/BUNDLES.md");
    command->add_option("APP", args->apps,
                        "KEY or KEY@MAJOR of the app (the newest major when not given)");
    add_market_options(*command, args->market, "The market to export from",
                       "A token, for a private market");
    command->add_option("--data", args->data, "A market's data directory to export from (bundles)")
        ->check(CLI::ExistingDirectory);
    command->add_option("--repository", args->repository, "A repository directory to export")
        ->check(CLI::ExistingDirectory);
    command->add_option("--format", args->format, "compose (the default) or bundle")
        ->check(CLI::IsMember({"compose", "bundle"}));
    command->add_option("-o,--output", args->output,
                        "The file to write (compose: .tar.gz, .tgz or .tar, default "
                        "<folder>.compose.tar.gz; bundle: default KEY-MAJOR-rREVISION.bundle.tar) "
                        "or, for bundles, a directory to write one file per app version into");
    command
        ->add_option("--have", args->have,
                     "An inventory of the target market (ferry inventory): a differential "
                     "bundle without the files it has")
        ->check(CLI::ExistingFile);
    command->add_option("--folder", args->folder,
                        "The folder a compose package unpacks to (default: KEY-MAJOR, or the "
                        "repository's directory name)");
    command->add_flag("--json", args->json, "Machine-readable output");
    command->add_flag("-q,--quiet", args->quiet, "Print only errors");
    command->callback([&run, args] { run = [args] { return run_export(*args); }; });
}

void add_inventory_command(CLI::App& app, CommandAction& run) {
    struct InventoryArgs {
        MarketConnection market;
        std::string data;
        std::string output;
    };
    auto args = std::make_shared<InventoryArgs>();
    auto* command = app.add_subcommand(
        "inventory",
        "Write what a market holds (apps, revisions, file digests), for differential bundles");
    command->footer(
        "Carry the file to the exporting side: ferry export APP... --format bundle "
        "--have FILE leaves out every file this market has.");
    add_market_options(*command, args->market, "The market to describe",
                       "A token, for a private market");
    command->add_option("--data", args->data, "A market's data directory instead of --server")
        ->check(CLI::ExistingDirectory);
    command->add_option("-o,--output", args->output, "The file to write (default: stdout)");
    command->callback([&run, args] {
        run = [args] {
            if (args->market.server.empty() == args->data.empty()) {
                throw UsageError("inventory needs either --server URL or --data DIR");
            }
            nlohmann::json inventory;
            if (!args->data.empty()) {
                const market::DataDir data(args->data);
                auto catalog = market::open_sqlite_catalog(data.catalog_file());
                inventory = market::inventory_json(data, *catalog);
            } else {
                inventory = connect(args->market).get("/api/v1/inventory");
            }
            // Checked as an exporter will read it.
            market::inventory_blobs(inventory.dump(), args->market.server + args->data);
            if (args->output.empty()) {
                print_json(inventory);
                return kExitOk;
            }
            core::write_file_atomic(args->output, inventory.dump() + "\n");
            print_line(stderr,
                       fmt::format("wrote {} ({} apps, {} files)", args->output,
                                   inventory.at("apps").size(), inventory.at("blobs").size()));
            return kExitOk;
        };
    });
}

}  // namespace ferry::cli
