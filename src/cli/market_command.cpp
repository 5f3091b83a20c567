// The market commands: `ferry serve` (the market server), `ferry token create` (API tokens) and
// `ferry market remote|pull` (an internal market's upstream markets).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/market_options.hpp"
#include "cli/terminal.hpp"
#include "core/files.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/json.hpp"
#include "market/publisher.hpp"
#include "market/tokens.hpp"
#include "market/upstream.hpp"
#include "net/api_client.hpp"
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
    unsigned threads = 16;
    double stop_grace = 10;
    bool private_reads = false;
    std::vector<std::string> upstreams;
    std::string upstream_token;
    std::string upstream_ca_file;
    // token create, token revoke
    std::string role = "publish";
    std::string description;
    std::string token_id;
    // market remote, market pull
    std::string target;  // KEY[@MAJOR]
    MarketConnection market;
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

// The causes of 500s and of job states the catalog could not record: always on stderr, even with
// --quiet (which silences the request log only). Both logs quote what clients and upstreams sent.
void log_failure(std::string_view line) {
    print_line(stderr, fmt::format("ferry serve: {}", line));
}

int run_serve(const MarketArgs& args) {
    market::DataDir data(args.data);
    // Before anything is touched: the uploads in progress are another server's while it runs.
    const market::ServeLock lock(data);
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
    options.stop_grace =
        std::chrono::milliseconds(static_cast<std::int64_t>(args.stop_grace * 1000));
    server::HttpServer http(options);
    http.set_failure_log(log_failure);
    std::vector<market::UpstreamMarket> upstreams;
    for (const auto& url : args.upstreams) {
        upstreams.push_back({url, args.upstream_token, args.upstream_ca_file});
    }
    market::PullJobs pulls(data, *catalog, publisher, upstreams, log_failure);
    market::ExportJobs exports(data, *catalog, log_failure);
    market::ImportBatches imports(data, *catalog, publisher, log_failure);
    server::MarketApi api(data, *catalog, publisher, &pulls, {args.private_reads},
                          {&exports, &imports});
    api.install(http);
    if (!args.quiet) {
        http.set_request_log([](std::string_view line) { print_line(stderr, line); });
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
    net::ApiClient api = connect(args.market);
    const Json listed = api.get("/api/v1/upstream/apps");
    if (args.json) {
        print_json(listed);
        return kExitOk;
    }
    if (listed.at("apps").empty()) {
        std::fprintf(stderr, "the upstream markets offer no apps\n");
    }
    // Keys, names and URLs come from the upstream markets: printed as text that cannot drive
    // the terminal.
    for (const Json& app : listed.at("apps")) {
        print_line(stdout, fmt::format("{}  {}{}  ({})", app.at("key").get<std::string>(),
                                       app.at("name").get<std::string>(),
                                       app.value("official", false) ? " (official)" : "",
                                       app.at("upstream").get<std::string>()));
        for (const Json& major : app.at("majors")) {
            const int local = major.at("local_revision").get<int>();
            print_line(stdout,
                       fmt::format("    {}  upstream revision {}, {}",
                                   major.at("major").get<std::string>(),
                                   major.at("upstream_revision").get<int>(),
                                   local == 0 ? "not here"
                                   : major.at("update_available").get<bool>()
                                       ? fmt::format("here at revision {}: update available", local)
                                       : fmt::format("here at revision {}: up to date", local)));
        }
    }
    return kExitOk;
}

int run_market_pull(const MarketArgs& args) {
    net::ApiClient api = connect(args.market);
    const auto at = args.target.find('@');
    Json request = {{"app", args.target.substr(0, at)}};
    if (at != std::string::npos) {
        request["major"] = args.target.substr(at + 1);
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
        print_json(job);
    } else if (job.at("state") == "success" && !args.quiet) {
        print_line(stderr, fmt::format("pulled {} (job {}, {} transferred)",
                                       job.at("target").get<std::string>(), id,
                                       human_bytes(job.at("done").get<std::uint64_t>())));
    }
    if (job.at("state") != "success") {
        const std::string failure =
            fmt::format("the pull of {} failed: {}", job.at("target").get<std::string>(),
                        job.at("error").get<std::string>());
        if (args.json) {
            // The failed job printed above is the JSON answer; the reason goes to stderr.
            print_error("ferry", failure);
            return kExitFailure;
        }
        throw Error(failure);
    }
    return kExitOk;
}

int run_token_create(const MarketArgs& args) {
    market::DataDir data(args.data);
    auto catalog = market::open_sqlite_catalog(data.catalog_file());
    const auto created =
        market::create_token(*catalog, market::parse_token_role(args.role), args.description);
    if (args.json) {
        print_json(Json{{"id", created.token.id},
                        {"role", market::to_string(created.token.role)},
                        {"token", created.secret}});
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

int run_token_list(const MarketArgs& args) {
    market::DataDir data(args.data);
    auto catalog = market::open_sqlite_catalog(data.catalog_file());
    const std::vector<market::Token> tokens = catalog->list_tokens();
    if (args.json) {
        Json list = Json::array();
        for (const market::Token& token : tokens) {
            list.push_back(market::token_json(token));
        }
        print_json(Json{{"tokens", list}});
        return kExitOk;
    }
    if (tokens.empty()) {
        std::fprintf(stderr, "no tokens (ferry token create makes one)\n");
        return kExitOk;
    }
    // A description is anybody's text (an admin's API request sets it): printed as text that
    // cannot drive the terminal, like every other field.
    print_line(stdout, fmt::format("{:12}  {:7}  {:20}  {:20}  {}", "ID", "ROLE", "CREATED",
                                   "LAST USED", "DESCRIPTION"));
    for (const market::Token& token : tokens) {
        print_line(stdout, fmt::format("{:12}  {:7}  {:20}  {:20}  {}", token.id,
                                       market::to_string(token.role), token.created_at,
                                       token.last_used_at.empty() ? "never" : token.last_used_at,
                                       token.description));
    }
    return kExitOk;
}

int run_token_revoke(const MarketArgs& args) {
    market::DataDir data(args.data);
    auto catalog = market::open_sqlite_catalog(data.catalog_file());
    market::revoke_token(*catalog, args.token_id);
    if (args.json) {
        print_json(Json{{"revoked", args.token_id}});
    } else if (!args.quiet) {
        print_line(stderr,
                   fmt::format("ferry token revoke: token {} revoked; requests with it are refused",
                               args.token_id));
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
    serve
        ->add_option(
            "--threads", args->threads,
            "Worker threads for API requests (static files and idle connections need none)")
        ->capture_default_str();
    serve->add_flag("--private", args->private_reads,
                    "Reads need a token too (but /api/v1/health, for monitoring)");
    serve
        ->add_option("--stop-grace", args->stop_grace,
                     "Seconds a stop (SIGTERM, SIGINT) gives the requests in flight before it "
                     "cuts them")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    serve
        ->add_option("--upstream", args->upstreams,
                     "An upstream market to list and pull apps from (repeatable)")
        ->envname("FERRY_UPSTREAM")
        ->allow_extra_args(false);
    serve
        ->add_option("--upstream-token", args->upstream_token,
                     "The token to send to the upstream markets")
        ->envname("FERRY_UPSTREAM_TOKEN");
    serve
        ->add_option("--upstream-ca-file", args->upstream_ca_file,
                     "PEM certificates to trust for https upstream markets instead of the system's")
        ->envname("FERRY_UPSTREAM_CA_FILE")
        ->check(CLI::ExistingFile);
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
    auto* list = token->add_subcommand(
        "list", "List the tokens: id, role, created, last used, description (never the secret)");
    list->add_option("--data", args->data, "The market's data directory")
        ->envname("FERRY_DATA")
        ->capture_default_str();
    list->add_flag("--json", args->json, "Machine-readable output");
    list->callback([&run, args] { run = [args] { return run_token_list(*args); }; });
    auto* revoke =
        token->add_subcommand("revoke", "Revoke a token: requests with it are refused at once");
    revoke->add_option("ID", args->token_id, "The token's id (ferry token list)")->required();
    revoke->add_option("--data", args->data, "The market's data directory")
        ->envname("FERRY_DATA")
        ->capture_default_str();
    revoke->add_flag("--json", args->json, "Machine-readable output");
    revoke->add_flag("-q,--quiet", args->quiet, "Print only errors");
    revoke->callback([&run, args] { run = [args] { return run_token_revoke(*args); }; });

    auto* market_cmd = app.add_subcommand("market", "A market's upstream (cloud) markets");
    market_cmd->require_subcommand(1);
    auto* remote = market_cmd->add_subcommand(
        "remote", "List the upstream markets' apps: majors, revisions, present here, updates");
    add_market_options(*remote, args->market, "This market's URL", "A token (for a private market)")
        ->required();
    remote->add_flag("--json", args->json, "Machine-readable output");
    remote->callback([&run, args] { run = [args] { return run_market_remote(*args); }; });
    auto* pull = market_cmd->add_subcommand(
        "pull", "Copy an app version from an upstream market into this one (only what it lacks)");
    pull->add_option("APP", args->target, "KEY or KEY@MAJOR (default: the newest major)")
        ->required();
    add_market_options(*pull, args->market, "This market's URL", "A publish or admin token")
        ->required();
    pull->add_flag("--json", args->json, "Machine-readable output (the finished job)");
    pull->add_flag("-q,--quiet", args->quiet, "Print only errors");
    pull->callback([&run, args] { run = [args] { return run_market_pull(*args); }; });
}

}  // namespace ferry::cli
