// `ferry publish`: a packages tree (built with repogen) or a built repository into a market as a
// revision of an app. The command parses and prints; the build, its cache and the protocol are
// market::publish_to_market (market/market_client.hpp).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/market_options.hpp"
#include "cli/terminal.hpp"
#include "market/market_client.hpp"
#include "market/names.hpp"

namespace ferry::cli {

namespace {

using Json = nlohmann::json;

struct PublishArgs {
    std::string source;
    MarketConnection market;
    std::string app;
    std::string major;
    std::string name;
    std::string kind;
    std::string description;
    std::string publisher;
    std::string icon;
    std::vector<std::string> export_formats;
    std::string notes;
    bool bump = false;
    bool no_cache = false;
    bool json = false;
    bool quiet = false;
};

// A CLI11 check of an app key or a major version: the market's own rule, so that a name the
// market would refuse is a usage error before anything is built or sent.
CLI::Validator key_validator(const std::string& what) {
    return CLI::Validator(
        [what](std::string& text) {
            try {
                market::check_key(text, what);
            } catch (const Error& e) {
                return std::string(e.what());
            }
            return std::string();
        },
        "KEY");
}

int run_publish(const PublishArgs& args) {
    if (args.market.server.empty()) {
        throw Error("publish needs --server URL (or FERRY_SERVER)");
    }
    market::PublishJob job;
    job.source = args.source;
    job.app_key = args.app;
    job.major = args.major;
    job.notes = args.notes;
    job.bump = args.bump;
    job.use_cache = !args.no_cache;
    // Only what was given: the market keeps the rest from earlier publishes.
    for (const auto& [field, value] :
         {std::pair{"name", &args.name}, std::pair{"kind", &args.kind},
          std::pair{"description", &args.description}, std::pair{"publisher", &args.publisher},
          std::pair{"icon", &args.icon}}) {
        if (!value->empty()) {
            job.app[field] = *value;
        }
    }
    if (!args.export_formats.empty()) {
        job.app["export_formats"] = args.export_formats;
    }
    auto say = [&](const std::string& text) {
        if (!args.quiet && !args.json) {
            std::fprintf(stderr, "%s\n", text.c_str());
        }
    };
    ProgressLine progress(stderr_is_terminal() && !args.quiet && !args.json);
    market::PublishEvents events;
    events.say = say;
    events.upload = [&](const std::string& path, std::uint64_t done, std::uint64_t total) {
        progress.update(
            fmt::format("uploading {} ({} of {})", path, human_bytes(done), human_bytes(total)));
    };
    market::MarketClient market(args.market.server, args.market.token,
                                api_options(args.market.ca_file));
    const market::PublishOutcome outcome = market::publish_to_market(market, job, events);
    progress.finish();
    const Json& result = outcome.answer;
    if (args.json) {
        Json out = result;
        out["uploaded_files"] = outcome.uploaded_files;
        out["uploaded_bytes"] = outcome.uploaded_bytes;
        print_json(out);
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
                        result.value("unchanged_components", Json::array()).size(),
                        outcome.uploaded_files, human_bytes(outcome.uploaded_bytes)));
        say(fmt::format("repository: {}{}", market.url(), result.value("repository", "")));
    }
    return kExitOk;
}

}  // namespace

void add_publish_command(CLI::App& app, CommandAction& run) {
    auto args = std::make_shared<PublishArgs>();
    auto* publish = app.add_subcommand(
        "publish", "Publish a packages directory (or a built repository) as a revision of an app");
    publish->add_option("SOURCE", args->source, "Packages directory or repository directory")
        ->required();
    add_market_options(*publish, args->market, "The market's URL", "A publish token");
    publish->add_option("--app", args->app, "The app's key")
        ->required()
        ->check(key_validator("app key"));
    publish
        ->add_option("--version", args->major,
                     "The major version (letters, digits, '.', '_' and '-' you choose)")
        ->required()
        ->check(key_validator("major version"));
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
    publish->add_flag("--no-cache", args->no_cache,
                      "Build in a temporary directory instead of the build cache "
                      "(FERRY_CACHE_DIR, else ~/.cache/ferry)");
    publish->add_flag("--json", args->json, "Machine-readable output");
    publish->add_flag("-q,--quiet", args->quiet, "Print only errors");
    publish->callback([&run, args] { run = [args] { return run_publish(*args); }; });
}

}  // namespace ferry::cli
