// The market commands: `ferry serve` (the market server), `ferry token create` (API tokens) and
// `ferry publish` (a packages tree or a repository into a market, uploading only what it lacks).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/terminal.hpp"
#include "core/files.hpp"
#include "core/version.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/publisher.hpp"
#include "market/tokens.hpp"
#include "market/upstream.hpp"
#include "net/api_client.hpp"
#include "repo/generator.hpp"
#include "server/http_server.hpp"
#include "server/market_api.hpp"

namespace ferry::cli {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

struct MarketArgs {
    // serve
    std::string config;
    std::string data = "ferry-data";
    std::string listen = "127.0.0.1:8080";
    std::string tls_cert;
    std::string tls_key;
    unsigned threads = 64;
    bool private_reads = false;
    std::vector<std::string> upstreams;
    std::string upstream_token;
    // token create
    std::string role = "publish";
    std::string description;
    // publish
    std::string source;
    std::string server;
    std::string token;
    std::string app;
    std::string major;
    std::string name;
    std::string kind;
    std::string publisher;
    std::string icon;
    std::vector<std::string> export_formats;
    std::string notes;
    bool bump = false;
    // all
    bool json = false;
    bool quiet = false;
};

std::pair<std::string, int> parse_listen(const std::string& listen) {
    const auto colon = listen.rfind(':');
    int port = -1;
    if (colon != std::string::npos) {
        try {
            std::size_t used = 0;
            port = std::stoi(listen.substr(colon + 1), &used);
            if (used != listen.size() - colon - 1) {
                port = -1;
            }
        } catch (const std::exception&) {
            port = -1;
        }
    }
    if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535) {
        throw Error::format("--listen \"{}\": expected HOST:PORT, e.g. 127.0.0.1:8080", listen);
    }
    return {listen.substr(0, colon), port};
}

// Sets the options of command that the command line and the environment left unset from a
// config file. CLI11 reads a config file only for the command it parses, never for a
// subcommand, so `ferry serve --config` does it here. Unknown keys are refused: a misspelt one
// would otherwise leave a server running without the setting.
void apply_config_file(CLI::App& command, const std::string& file) {
    std::vector<CLI::ConfigItem> items;
    try {
        items = CLI::ConfigTOML().from_file(file);
    } catch (const CLI::ParseError& e) {
        throw CLI::ConfigError(fmt::format("{}: {}", file, e.what()));
    }
    for (const CLI::ConfigItem& item : items) {
        if (item.name == "++" || item.name == "--") {
            continue;  // CLI11's marks of entering and leaving a [section]
        }
        const bool ours = item.parents.empty() ||
                          (item.parents.size() == 1 && item.parents[0] == command.get_name());
        CLI::Option* option = ours ? command.get_option_no_throw("--" + item.name) : nullptr;
        if (option == nullptr || item.name == "config") {
            throw CLI::ConfigError(fmt::format(
                "{}: \"{}\" is not an option of ferry {} (keys are its long flags without --)",
                file, item.fullname(), command.get_name()));
        }
        if (option->count() > 0) {
            continue;  // given on the command line or in the environment
        }
        try {
            option->add_result(item.inputs);
            option->run_callback();
        } catch (const CLI::ParseError& e) {
            throw CLI::ConfigError(fmt::format("{}: {}: {}", file, item.name, e.what()));
        }
    }
}

int run_serve(const MarketArgs& args) {
    market::DataDir data(args.data);
    data.remove_stale_uploads();
    auto catalog = market::open_sqlite_catalog(data.catalog_file());
    market::Publisher publisher(data, *catalog);
    if (const int recorded = publisher.reconcile(); recorded > 0) {
        std::fprintf(stderr, "ferry serve: recorded %d revision(s) an interrupted publish left\n",
                     recorded);
    }
    server::ServerOptions options;
    std::tie(options.host, options.port) = parse_listen(args.listen);
    options.tls_cert = args.tls_cert;
    options.tls_key = args.tls_key;
    options.threads = args.threads;
    // Blob uploads stream to disk; the API refuses other large bodies itself.
    options.max_body_bytes = std::uint64_t{1} << 40;
    server::HttpServer http(options);
    std::vector<market::UpstreamMarket> upstreams;
    for (const auto& url : args.upstreams) {
        upstreams.push_back({url, args.upstream_token});
    }
    market::PullJobs pulls(data, *catalog, publisher, upstreams);
    server::MarketApi api(data, *catalog, publisher, &pulls, {args.private_reads});
    api.install(http);
    if (!args.quiet) {
        http.set_request_log([](std::string_view line) {
            std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
        });
    }
    http.stop_on_signals({SIGTERM, SIGINT});
    std::fprintf(stderr, "ferry serve: %s serving %s (API %s/api/v1/, repositories %s/repo/)\n",
                 http.url().c_str(), fs::absolute(args.data).string().c_str(), http.url().c_str(),
                 http.url().c_str());
    std::fflush(stderr);
    http.run();
    std::fprintf(stderr, "ferry serve: stopped\n");
    return kExitOk;
}

int run_market_remote(const MarketArgs& args) {
    net::ApiClient api(args.server, args.token);
    const Json listed = api.get("/api/v1/upstream/apps");
    if (args.json) {
        std::printf("%s\n", listed.dump(2).c_str());
        return kExitOk;
    }
    if (listed.at("apps").empty()) {
        std::fprintf(stderr, "the upstream markets offer no apps\n");
    }
    for (const Json& app : listed.at("apps")) {
        std::printf("%s  %s%s  (%s)\n", app.at("key").get<std::string>().c_str(),
                    app.at("name").get<std::string>().c_str(),
                    app.value("official", false) ? " (official)" : "",
                    app.at("upstream").get<std::string>().c_str());
        for (const Json& major : app.at("majors")) {
            const int local = major.at("local_revision").get<int>();
            std::printf("    %s  upstream revision %d, %s\n",
                        major.at("major").get<std::string>().c_str(),
                        major.at("upstream_revision").get<int>(),
                        local == 0 ? "not here"
                        : major.at("update_available").get<bool>()
                            ? fmt::format("here at revision {}: update available", local).c_str()
                            : fmt::format("here at revision {}: up to date", local).c_str());
        }
    }
    return kExitOk;
}

int run_market_pull(const MarketArgs& args) {
    net::ApiClient api(args.server, args.token);
    const auto at = args.source.find('@');
    Json request = {{"app", args.source.substr(0, at)}};
    if (at != std::string::npos) {
        request["major"] = args.source.substr(at + 1);
    }
    Json job = api.post("/api/v1/pulls", request);
    const std::string id = job.at("id").get<std::string>();
    ProgressLine progress(stderr_is_terminal() && !args.quiet && !args.json);
    while (job.at("state") == "queued" || job.at("state") == "running") {
        progress.update(fmt::format("pulling {}: {} of {}", job.at("target").get<std::string>(),
                                    human_bytes(job.at("done").get<std::uint64_t>()),
                                    human_bytes(job.at("total").get<std::uint64_t>())));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polling the job's status
        job = api.get("/api/v1/jobs/" + id);
    }
    progress.finish();
    if (args.json) {
        std::printf("%s\n", job.dump(2).c_str());
    } else if (job.at("state") == "success" && !args.quiet) {
        std::fprintf(stderr, "pulled %s (job %s, %s transferred)\n",
                     job.at("target").get<std::string>().c_str(), id.c_str(),
                     human_bytes(job.at("done").get<std::uint64_t>()).c_str());
    }
    if (job.at("state") != "success") {
        throw Error::format("the pull of {} failed: {}", job.at("target").get<std::string>(),
                            job.at("error").get<std::string>());
    }
    return kExitOk;
}

int run_token_create(const MarketArgs& args) {
    market::DataDir data(args.data);
    auto catalog = market::open_sqlite_catalog(data.catalog_file());
    const auto created =
        market::create_token(*catalog, market::parse_token_role(args.role), args.description);
    if (args.json) {
        std::printf("%s\n", Json{{"id", created.token.id},
                                 {"role", market::to_string(created.token.role)},
                                 {"token", created.secret}}
                                .dump(2)
                                .c_str());
    } else {
        std::printf("%s\n", created.secret.c_str());
        std::fprintf(stderr,
                     "ferry token create: a %s token (id %s); it is shown only now, keep it "
                     "safe\n",
                     std::string(market::to_string(created.token.role)).c_str(),
                     created.token.id.c_str());
    }
    return kExitOk;
}

// "1.0" -> "1.1", "2.0.9" -> "2.0.10", "1.0-beta2" -> "1.0-beta3"; no digits: append ".1".
std::string bumped(const std::string& version) {
    const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    const auto last = std::find_if(version.rbegin(), version.rend(), is_digit);
    if (last == version.rend()) {
        return version + ".1";
    }
    const std::size_t end = static_cast<std::size_t>(version.rend() - last);
    std::size_t start = end - 1;
    while (start > 0 && is_digit(version[start - 1])) {
        --start;
    }
    return version.substr(0, start) +
           std::to_string(std::stoull(version.substr(start, end - start)) + 1) +
           version.substr(end);
}

// Sets <Version> in a package.xml (the text between the first <Version> and </Version>).
void set_version(const fs::path& package_xml, const std::string& version) {
    std::string text = core::read_file(package_xml);
    const auto open = text.find("<Version>");
    const auto close = text.find("</Version>", open);
    if (open == std::string::npos || close == std::string::npos) {
        throw Error::format("{}: no <Version> to raise", package_xml.string());
    }
    text.replace(open + 9, close - open - 9, version);
    core::write_file_atomic(package_xml, text);
}

fs::path build_repository(const fs::path& packages, const fs::path& out) {
    repo::GenerateOptions options;
    options.packages = {packages};
    repo::generate_repository(out, options);
    return out;
}

int run_publish(const MarketArgs& args) {
    if (args.server.empty()) {
        throw Error("publish needs --server URL (or FERRY_SERVER)");
    }
    const fs::path source = args.source;
    const bool prebuilt = fs::exists(source / "Updates.xml");
    if (!prebuilt && !fs::is_directory(source)) {
        throw Error::format("{}: neither a packages directory nor a repository", source.string());
    }
    if (prebuilt && args.bump) {
        throw Error::format("{}: --bump needs a packages directory, not a built repository",
                            source.string());
    }
    auto say = [&](const std::string& text) {
        if (!args.quiet && !args.json) {
            std::fprintf(stderr, "%s\n", text.c_str());
        }
    };
    core::ScratchDir scratch;
    net::ApiClient api(args.server, args.token);
    fs::path repository = source;
    if (!prebuilt) {
        say(fmt::format("building the repository from {}", source.string()));
        repository = build_repository(source, scratch.path() / "repository");
    }
    market::RepositoryFiles files = market::read_repository_files(repository);

    if (args.bump) {
        // Components whose content changed but whose version did not grow get the next version.
        Json current;
        try {
            current = api.get("/api/v1/apps/" + args.app + "/versions/" + args.major);
        } catch (const net::ApiError& e) {
            if (e.status() != 404) {
                throw;
            }
        }
        std::map<std::string, std::string> shas;
        for (const auto& file : files.files) {
            shas[file.path] = file.sha256;
        }
        const auto index = formats::parse_updates_xml(files.updates_xml, "Updates.xml");
        std::map<std::string, std::string> raise;
        for (const Json& published : current.value("components", Json::array())) {
            const auto* package = index.find(published.at("name").get<std::string>());
            const std::string version = published.at("version").get<std::string>();
            if (package != nullptr &&
                market::component_digest(*package, index.checksum, shas) !=
                    published.at("content_sha256").get<std::string>() &&
                core::compare_versions(package->component.version, version) <= 0) {
                raise[package->component.name] = bumped(version);
            }
        }
        if (!raise.empty()) {
            const fs::path copy = scratch.path() / "packages";
            fs::copy(source, copy, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
            for (const auto& [name, version] : raise) {
                set_version(copy / name / "meta" / "package.xml", version);
                say(fmt::format("--bump: {} becomes {}", name, version));
            }
            fs::remove_all(scratch.path() / "repository");
            repository = build_repository(copy, scratch.path() / "repository");
            files = market::read_repository_files(repository);
        }
    }

    Json blobs = Json::array();
    std::uint64_t total = 0;
    for (const auto& file : files.files) {
        blobs.push_back({{"sha256", file.sha256}, {"size", file.size}});
        total += file.size;
    }
    const Json missing = api.post("/api/v1/blobs/missing", {{"blobs", blobs}}).at("missing");
    std::set<std::string> to_upload = missing.get<std::set<std::string>>();
    std::uint64_t uploaded_bytes = 0;
    std::size_t uploaded_files = 0;
    ProgressLine progress(stderr_is_terminal() && !args.quiet && !args.json);
    for (const auto& file : files.files) {
        if (to_upload.erase(file.sha256) == 0) {
            continue;
        }
        api.put_file("/api/v1/blobs/" + file.sha256, repository / file.path,
                     [&](std::uint64_t done, std::uint64_t) {
                         progress.update(fmt::format("uploading {} ({} of {})", file.path,
                                                     human_bytes(uploaded_bytes + done),
                                                     human_bytes(total)));
                     });
        uploaded_bytes += file.size;
        ++uploaded_files;
    }
    progress.finish();
    // Only what was given: the market keeps the rest from earlier publishes.
    Json app = Json::object();
    for (const auto& [field, value] :
         {std::pair{"name", &args.name}, std::pair{"kind", &args.kind},
          std::pair{"description", &args.description}, std::pair{"publisher", &args.publisher},
          std::pair{"icon", &args.icon}}) {
        if (!value->empty()) {
            app[field] = *value;
        }
    }
    if (!args.export_formats.empty()) {
        app["export_formats"] = args.export_formats;
    }
    Json file_list = Json::array();
    for (const auto& file : files.files) {
        file_list.push_back({{"path", file.path}, {"sha256", file.sha256}, {"size", file.size}});
    }
    const Json result =
        api.post("/api/v1/apps/" + args.app + "/versions/" + args.major + "/revisions",
                 {{"app", app},
                  {"updates_xml", files.updates_xml},
                  {"files", file_list},
                  {"notes", args.notes}});
    if (args.json) {
        Json out = result;
        out["uploaded_files"] = uploaded_files;
        out["uploaded_bytes"] = uploaded_bytes;
        std::printf("%s\n", out.dump(2).c_str());
    } else if (result.value("unchanged", false)) {
        say(fmt::format("nothing changed: {}@{} stays at revision {} (uploaded nothing)", args.app,
                        args.major, result.value("revision", 0)));
    } else {
        std::string changed;
        for (const auto& name : result.value("changed", Json::array())) {
            changed += (changed.empty() ? "" : ", ") + name.get<std::string>();
        }
        say(
            fmt::format("published {}@{} revision {}: changed {}; {} unchanged; uploaded {} "
                        "file(s), {}",
                        args.app, args.major, result.value("revision", 0), changed,
                        result.value("unchanged_components", Json::array()).size(), uploaded_files,
                        human_bytes(uploaded_bytes)));
        say(fmt::format("repository: {}{}", api.base_url(), result.value("repository", "")));
    }
    return kExitOk;
}

}  // namespace

void add_market_commands(CLI::App& app, CommandAction& run) {
    auto args = std::make_shared<MarketArgs>();

    auto* serve = app.add_subcommand(
        "serve", "Run a market: the JSON API under /api/v1/ and repositories under /repo/");
    serve->add_option("--data", args->data, "The data directory (catalog, blobs, repositories)")
        ->envname("FERRY_DATA")
        ->capture_default_str();
    serve->add_option("--listen", args->listen, "HOST:PORT to listen on")
        ->envname("FERRY_LISTEN")
        ->capture_default_str();
    serve->add_option("--tls-cert", args->tls_cert, "PEM certificate: serve HTTPS")
        ->check(CLI::ExistingFile);
    serve->add_option("--tls-key", args->tls_key, "PEM private key of --tls-cert")
        ->check(CLI::ExistingFile);
    serve->add_option("--threads", args->threads, "Worker threads (concurrent connections)")
        ->capture_default_str();
    serve->add_flag("--private", args->private_reads, "Reads need a token too");
    serve
        ->add_option("--upstream", args->upstreams,
                     "An upstream market to list and pull apps from (repeatable)")
        ->envname("FERRY_UPSTREAM")
        ->allow_extra_args(false);
    serve
        ->add_option("--upstream-token", args->upstream_token,
                     "The token to send to the upstream markets")
        ->envname("FERRY_UPSTREAM_TOKEN");
    serve->add_flag("-q,--quiet", args->quiet, "No request log");
    serve
        ->add_option("--config", args->config,
                     "A TOML or INI file with these options (keys as the flags without --); "
                     "flags and FERRY_* variables override it")
        ->check(CLI::ExistingFile);
    serve->callback([&run, args, serve] {
        if (!args->config.empty()) {
            apply_config_file(*serve, args->config);
        }
        run = [args] { return run_serve(*args); };
    });

    auto* token = app.add_subcommand("token", "API tokens of a market");
    token->require_subcommand(1);
    auto* create = token->add_subcommand("create", "Create a token; it is printed once");
    create->add_option("--data", args->data, "The market's data directory")
        ->envname("FERRY_DATA")
        ->capture_default_str();
    create->add_option("--role", args->role, "publish or admin")
        ->check(CLI::IsMember({"publish", "admin"}))
        ->capture_default_str();
    create->add_option("--description", args->description, "What the token is for");
    create->add_flag("--json", args->json, "Machine-readable output");
    create->callback([&run, args] { run = [args] { return run_token_create(*args); }; });

    auto* market_cmd = app.add_subcommand("market", "A market's upstream (cloud) markets");
    market_cmd->require_subcommand(1);
    auto* remote = market_cmd->add_subcommand(
        "remote", "List the upstream markets' apps: majors, revisions, present here, updates");
    remote->add_option("--server", args->server, "This market's URL")
        ->envname("FERRY_SERVER")
        ->required();
    remote->add_option("--token", args->token, "A token (for a private market)")
        ->envname("FERRY_TOKEN");
    remote->add_flag("--json", args->json, "Machine-readable output");
    remote->callback([&run, args] { run = [args] { return run_market_remote(*args); }; });
    auto* pull = market_cmd->add_subcommand(
        "pull", "Copy an app version from an upstream market into this one (only what it lacks)");
    pull->add_option("APP", args->source, "KEY or KEY@MAJOR (default: the newest major)")
        ->required();
    pull->add_option("--server", args->server, "This market's URL")
        ->envname("FERRY_SERVER")
        ->required();
    pull->add_option("--token", args->token, "A publish or admin token")->envname("FERRY_TOKEN");
    pull->add_flag("--json", args->json, "Machine-readable output (the finished job)");
    pull->add_flag("-q,--quiet", args->quiet, "Print only errors");
    pull->callback([&run, args] { run = [args] { return run_market_pull(*args); }; });

    auto* publish = app.add_subcommand(
        "publish", "Publish a packages directory (or a built repository) as a revision of an app");
    publish->add_option("SOURCE", args->source, "Packages directory or repository directory")
        ->required();
    publish->add_option("--server", args->server, "The market's URL")->envname("FERRY_SERVER");
    publish->add_option("--token", args->token, "A publish token")->envname("FERRY_TOKEN");
    publish->add_option("--app", args->app, "The app's key")->required();
    publish->add_option("--version", args->major, "The major version (any string you choose)")
        ->required();
    publish->add_option("--name", args->name, "The app's name (default: its key)");
    publish->add_option("--description", args->description, "The app's description");
    publish->add_option("--publisher", args->publisher, "Who publishes it");
    publish->add_option("--icon", args->icon, "The app's icon (a URL or a data: URI)");
    publish
        ->add_option("--export-formats", args->export_formats,
                     "Export formats the publisher allows (e.g. rainbond-app,docker-compose)")
        ->delimiter(',')
        ->allow_extra_args(false);
    publish->add_option("--kind", args->kind, "app or plugin (default: app, or as published)")
        ->check(CLI::IsMember({"app", "plugin"}));
    publish->add_option("--notes", args->notes, "Notes of this revision");
    publish->add_flag("--bump", args->bump,
                      "Raise the version of components whose content changed but whose version "
                      "did not");
    publish->add_flag("--json", args->json, "Machine-readable output");
    publish->add_flag("-q,--quiet", args->quiet, "Print only errors");
    publish->callback([&run, args] { run = [args] { return run_publish(*args); }; });
}

}  // namespace ferry::cli
