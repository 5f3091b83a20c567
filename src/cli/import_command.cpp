// `ferry import FILE...`: packages made elsewhere into a market, either a local data directory
// (--data, the market must not be running) or a running market (--server, --token). The kind of
// each FILE is told by its content; today ferry reads Rainbond's `rainbond-app` packages
// (bundle/rainbond.hpp), each becoming an app version (and its plugins plugin items).
#include <algorithm>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "bundle/ferry_bundle.hpp"
#include "bundle/rainbond.hpp"
#include "cli/command_errors.hpp"
#include "cli/commands.hpp"
#include "cli/market_options.hpp"
#include "cli/terminal.hpp"
#include "core/files.hpp"
#include "market/bundles.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/market_client.hpp"
#include "market/publisher.hpp"

namespace ferry::cli {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

struct ImportArgs {
    std::vector<std::string> files;
    std::string data;
    MarketConnection market;
    std::string scratch;
    bool json = false;
    bool quiet = false;
};

// What one item's publish came to, however it was published.
struct ItemOutcome {
    std::string kind;  // app | plugin
    std::string key;
    std::string major;
    std::string name;
    bool unchanged = false;
    int revision = 0;
    std::vector<std::string> components;
};

// A package of a kind ferry reads, converted into repositories. New kinds (ferry's own bundles)
// go here, each tried in turn on the file's content.
struct ConvertedFile {
    std::string kind;  // "rainbond-app"
    std::string layout;
    std::vector<bundle::ConvertedItem> items;
};

ConvertedFile convert_file(const fs::path& file, const fs::path& work,
                           const bundle::ImportEvents& events) {
    if (!fs::is_regular_file(file)) {
        throw Error::format(ErrorKind::not_found, "{}: no such file", file.string());
    }
    if (auto rainbond = bundle::convert_rainbond_package(file, work / "rainbond", events)) {
        return {"rainbond-app", rainbond->layout, std::move(rainbond->items)};
    }
    throw Error::format(
        "{}: not a Rainbond package (or any package ferry reads): neither a "
        "<name>-<version>-ram.tar.gz with <folder>/metadata.json nor a zip with "
        "metadata.json",
        file.string());
}

market::App app_of(const bundle::ImportedItem& item) {
    market::App app;
    app.key = item.key;
    app.kind = item.plugin ? market::App::Kind::plugin : market::App::Kind::app;
    app.name = item.name;
    app.description = item.description;
    app.source = market::App::Source::imported;
    return app;
}

std::vector<std::string> component_names(const bundle::ImportedItem& item) {
    std::vector<std::string> names;
    for (const auto& component : item.components) {
        names.push_back(component.name);
    }
    return names;
}

ItemOutcome publish_local(const market::DataDir& data, market::Publisher& publisher,
                          const bundle::ConvertedItem& converted, const std::string& notes) {
    const market::RepositoryFiles files = market::read_repository_files(converted.repository);
    for (const auto& sha256 : market::missing_blobs(data, files.files)) {
        const auto file =
            std::find_if(files.files.begin(), files.files.end(),
                         [&](const market::RepositoryFile& f) { return f.sha256 == sha256; });
        market::store_blob(data, converted.repository / file->path, *file);
    }
    const market::PublishResult result = publisher.publish(
        {app_of(converted.item), converted.item.major, files.updates_xml, files.files, notes});
    return {converted.item.plugin ? "plugin" : "app",
            converted.item.key,
            converted.item.major,
            converted.item.name,
            result.unchanged,
            result.revision.number,
            component_names(converted.item)};
}

ItemOutcome publish_remote(market::MarketClient& client, const bundle::ConvertedItem& converted,
                           const std::string& notes, const market::PublishEvents& events) {
    market::PublishJob job;
    job.source = converted.repository;
    job.app_key = converted.item.key;
    job.major = converted.item.major;
    job.notes = notes;
    job.use_cache = false;
    job.app = Json{{"name", converted.item.name},
                   {"kind", converted.item.plugin ? "plugin" : "app"},
                   {"source", "imported"}};
    if (!converted.item.description.empty()) {
        job.app["description"] = converted.item.description;
    }
    const market::PublishOutcome outcome = market::publish_to_market(client, job, events);
    return {converted.item.plugin ? "plugin" : "app",
            converted.item.key,
            converted.item.major,
            converted.item.name,
            outcome.answer.value("unchanged", false),
            outcome.answer.value("revision", 0),
            component_names(converted.item)};
}

Json outcome_json(const ItemOutcome& outcome) {
    return {{"kind", outcome.kind},
            {"key", outcome.key},
            {"major", outcome.major},
            {"name", outcome.name},
            {"unchanged", outcome.unchanged},
            {"revision", outcome.revision},
            {"components", outcome.components}};
}

std::string outcome_text(const ItemOutcome& outcome) {
    return outcome.unchanged
               ? fmt::format("{} {}@{} ({}): unchanged, stays at revision {}", outcome.kind,
                             outcome.key, outcome.major, outcome.name, outcome.revision)
               : fmt::format("imported {} {}@{} ({}) as revision {}: {}", outcome.kind, outcome.key,
                             outcome.major, outcome.name, outcome.revision,
                             count_of(outcome.components.size(), "component", "components"));
}

int run_import(const ImportArgs& args) {
    if (args.data.empty() == args.market.server.empty()) {
        throw UsageError(
            "import needs either --data DIR (a market's data directory) or --server "
            "URL --token TOKEN (a running market)");
    }
    auto say = [&](const std::string& text) {
        if (!args.quiet && !args.json) {
            print_line(stderr, text);
        }
    };
    ProgressLine progress(stderr_is_terminal() && !args.quiet && !args.json);
    bundle::ImportEvents events;
    events.say = say;

    std::optional<market::DataDir> data;
    std::optional<market::ServeLock> lock;
    std::unique_ptr<market::Catalog> catalog;
    std::optional<market::Publisher> publisher;
    std::optional<market::MarketClient> client;
    if (!args.data.empty()) {
        data.emplace(args.data);
        try {
            lock.emplace(*data);
        } catch (const Error& e) {
            throw Error(fmt::format("{}; a running market imports through --server URL --token T",
                                    e.what()),
                        e.kind());
        }
        catalog = market::open_sqlite_catalog(data->catalog_file());
        publisher.emplace(*data, *catalog);
    } else {
        client.emplace(args.market.server, args.market.token, api_options(args.market.ca_file));
    }
    market::PublishEvents publish_events;
    publish_events.upload = [&](const std::string& path, std::uint64_t done, std::uint64_t total) {
        progress.update(
            fmt::format("uploading {} ({} of {})", path, human_bytes(done), human_bytes(total)));
    };

    Json report = Json::array();
    for (const std::string& file : args.files) {
        if (bundle::peek_manifest(file)) {
            if (!data) {
                throw Error::format(
                    "{}: a ferry bundle is imported into a running market by the market itself: "
                    "copy it into the market's import folder, or stop it and use --data",
                    file);
            }
            Json items = Json::array();
            const auto imported = market::import_bundle(
                *data, *catalog, *publisher, file, [&](std::uint64_t done, std::uint64_t total) {
                    progress.update(fmt::format("importing {} ({} of {})", file, human_bytes(done),
                                                human_bytes(total)));
                });
            progress.finish();
            for (const auto& version : imported) {
                const ItemOutcome outcome{std::string(market::to_string(version.app.kind)),
                                          version.app.key,
                                          version.major,
                                          version.app.name,
                                          version.unchanged,
                                          version.revision,
                                          version.components};
                items.push_back(outcome_json(outcome));
                say(outcome_text(outcome));
            }
            report.push_back({{"file", file}, {"kind", "ferry-bundle"}, {"items", items}});
            continue;
        }
        core::ScratchDir work(args.scratch, "ferry-import-");
        const ConvertedFile converted = convert_file(file, work.path(), events);
        const std::string notes = fmt::format("imported from {} ({})",
                                              fs::path(file).filename().string(), converted.kind);
        Json items = Json::array();
        for (const auto& item : converted.items) {
            const ItemOutcome outcome = data ? publish_local(*data, *publisher, item, notes)
                                             : publish_remote(*client, item, notes, publish_events);
            progress.finish();
            items.push_back(outcome_json(outcome));
            say(outcome_text(outcome));
        }
        report.push_back({{"file", file},
                          {"kind", converted.kind},
                          {"layout", converted.layout},
                          {"items", items}});
    }
    if (args.json) {
        print_json(Json{{"imported", report}});
    }
    return kExitOk;
}

}  // namespace

void add_import_command(CLI::App& app, CommandAction& run) {
    auto args = std::make_shared<ImportArgs>();
    auto* command = app.add_subcommand(
        "import",
        "Import files made elsewhere (ferry bundles, Rainbond's rainbond-app) into a market");
    command->footer(
        "FILE's kind is told by its content: a ferry bundle (ferry export --format bundle) "
        "brings its app versions at their revisions; a Rainbond package is "
        "<name>-<version>-ram.tar.gz "
        "(<folder>/metadata.json, component-images.tar) or the older zip (metadata.json, a folder "
        "per component). Its app becomes an app version (key group_key, major group_version) and "
        "each plugin a plugin item; importing a package again changes nothing.");
    command->add_option("FILE", args->files, "The packages to import")->required();
    command->add_option("--data", args->data,
                        "The data directory of a market that is not running (as ferry serve "
                        "--data)");
    add_market_options(*command, args->market, "A running market to import into",
                       "A publish token of that market");
    command
        ->add_option(
            "--scratch", args->scratch,
            "Where to unpack each package (about three times its images' size; default: the "
            "system's temporary directory)")
        ->check(CLI::ExistingDirectory);
    command->add_flag("--json", args->json, "Machine-readable output");
    command->add_flag("-q,--quiet", args->quiet, "Print only errors");
    command->callback([&run, args] { run = [args] { return run_import(*args); }; });
}

}  // namespace ferry::cli
