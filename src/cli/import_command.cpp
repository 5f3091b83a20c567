// `ferry import`: files made elsewhere (ferry bundles, Rainbond packages) into a market, as one
// batch: either a local data directory (--data; the market must not be running) or a running
// market (--server, --token), which imports from its import folder: local files are uploaded
// there first (resumably), files already there are named with --folder. `--list` shows the
// import folder. The kind of each file is told by its content (market/import_folder.hpp).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/command_errors.hpp"
#include "cli/commands.hpp"
#include "cli/market_options.hpp"
#include "cli/terminal.hpp"
#include "core/file_descriptor.hpp"
#include "core/file_error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "market/bundle_jobs.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/import_folder.hpp"
#include "market/publisher.hpp"

namespace ferry::cli {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

struct ImportArgs {
    std::vector<std::string> files;
    std::vector<std::string> folder;  // names in the market's import folder
    std::string data;
    MarketConnection market;
    bool list = false;
    bool json = false;
    bool quiet = false;
};

std::string version_text(const Json& version) {
    const std::string kind = version.value("kind", "app");
    const std::string what =
        fmt::format("{} {}@{} ({})", kind, version.at("key").get<std::string>(),
                    version.at("major").get<std::string>(), version.value("name", ""));
    const int revision = version.at("revision").get<int>();
    if (version.value("unchanged", false)) {
        return fmt::format("{}: unchanged, this market has it as revision {}", what, revision);
    }
    return fmt::format("imported {} as revision {}: {}", what, revision,
                       count_of(version.at("components").size(), "component", "components"));
}

// Prints a finished batch's record; the exit status says whether every file was imported.
int report_batch(const ImportArgs& args, const Json& record) {
    if (args.json) {
        print_json(record);
    } else if (!args.quiet) {
        for (const Json& file : record.at("files")) {
            const std::string name = file.at("name").get<std::string>();
            if (file.at("state") == "success") {
                for (const Json& version : file.value("apps", Json::array())) {
                    print_line(stderr, fmt::format("{}: {}", name, version_text(version)));
                }
            } else {
                print_line(stderr,
                           fmt::format("{}: {}: {}", name, file.at("state").get<std::string>(),
                                       file.value("error", "")));
            }
        }
        if (record.at("files").size() > 1) {
            std::size_t imported = 0;
            for (const Json& file : record.at("files")) {
                imported += file.at("state") == "success" ? 1 : 0;
            }
            print_line(stderr, fmt::format("batch: {} ({} of {} imported)",
                                           record.at("result").get<std::string>(), imported,
                                           count_of(record.at("files").size(), "file", "files")));
        }
    }
    return record.at("result") == "success" ? kExitOk : kExitFailure;
}

int list_folder(const ImportArgs& args) {
    Json listed;
    if (!args.data.empty()) {
        const market::DataDir data(args.data);
        Json files = Json::array();
        for (const auto& info : market::list_import_folder(data)) {
            files.push_back(market::import_file_json(info));
        }
        listed = {{"folder", data.import_folder().string()}, {"files", files}};
    } else {
        listed = connect(args.market).get("/api/v1/imports/files");
    }
    if (args.json) {
        print_json(listed);
        return kExitOk;
    }
    if (listed.at("files").empty()) {
        print_line(stderr, fmt::format("the import folder {} is empty",
                                       listed.value("folder", std::string())));
    }
    for (const Json& file : listed.at("files")) {
        std::vector<std::string> apps;
        for (const Json& app : file.at("apps")) {
            apps.push_back(fmt::format(
                "{}@{}{}", app.at("key").get<std::string>(), app.at("major").get<std::string>(),
                app.contains("revision") ? fmt::format(" r{}", app.at("revision").get<int>())
                                         : ""));
        }
        std::string note;
        if (!file.value("settled", true)) {
            note = "  (written to moments ago: still being copied?)";
        } else if (file.contains("problem")) {
            note = "  (" + file.at("problem").get<std::string>() + ")";
        } else if (file.value("differential", false)) {
            note = "  (differential)";
        }
        print_line(
            stdout,
            fmt::format("{}  {}  {}  {}{}", file.at("name").get<std::string>(),
                        human_bytes(file.at("size").get<std::uint64_t>()),
                        file.at("kind").get<std::string>(),
                        apps.empty() ? "-" : fmt::format("{}", fmt::join(apps, ", ")), note));
    }
    return kExitOk;
}

int import_local(const ImportArgs& args, ProgressLine& progress) {
    market::DataDir data(args.data);
    std::optional<market::ServeLock> lock;
    try {
        lock.emplace(data);
    } catch (const Error& e) {
        throw Error(
            fmt::format("{}; a running market imports through --server URL --token T", e.what()),
            e.kind());
    }
    auto catalog = market::open_sqlite_catalog(data.catalog_file());
    market::Publisher publisher(data, *catalog);
    std::vector<fs::path> files(args.files.begin(), args.files.end());
    for (const std::string& name : args.folder) {
        market::check_import_name(name);
        files.push_back(data.import_folder() / name);
    }
    Json record = market::import_batch_plan(files);
    market::ImportBatchEvents events;
    std::string current;
    events.changed = [&](const Json& now) {
        for (const Json& file : now.at("files")) {
            if (file.at("state") == "importing") {
                current = file.at("name").get<std::string>();
            }
        }
    };
    events.progress = [&](std::uint64_t done, std::uint64_t total) {
        progress.update(
            fmt::format("importing {} ({} of {})", current, human_bytes(done), human_bytes(total)));
    };
    market::run_import_batch(data, *catalog, publisher, {}, record, events);
    progress.finish();
    return report_batch(args, record);
}

// The SHA-256 of the first `size` bytes of file.
std::string prefix_sha256(const fs::path& file, std::uint64_t size) {
    core::FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        throw file_error(file.string(), "cannot open", errno);
    }
    core::Hasher hasher(core::HashKind::sha256);
    std::vector<char> buffer(1 << 20);
    for (std::uint64_t done = 0; done < size;) {
        const ssize_t n =
            ::read(fd.get(), buffer.data(),
                   static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size - done)));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw file_error(file.string(), "cannot read", n < 0 ? errno : EIO);
        }
        hasher.update(buffer.data(), static_cast<std::size_t>(n));
        done += static_cast<std::uint64_t>(n);
    }
    return hasher.hex_digest();
}

// Puts a local file into the market's import folder, continuing an upload that stopped (when
// what arrived is the start of this file; else starting over).
void upload(net::ApiClient& api, const fs::path& file, ProgressLine& progress,
            const std::function<void(const std::string&)>& say) {
    const std::string name = file.filename().string();
    market::check_import_name(name);
    const std::uint64_t size = fs::file_size(file);
    if (size == 0) {
        throw Error::format("{}: an empty file, nothing to import", file.string());
    }
    const std::string path = "/api/v1/imports/files/" + name;
    const Json state = api.get(path + "?sha256=1");
    if (state.value("complete", false)) {
        const std::uint64_t theirs = state.value("size", std::uint64_t{0});
        if (theirs != size || state.value("sha256", "") != prefix_sha256(file, size)) {
            throw Error::format(ErrorKind::conflict,
                                "{}: the market's import folder has another file of that name "
                                "({} bytes, other content); rename yours",
                                file.string(), theirs);
        }
        say(fmt::format("{} is in the market's import folder already", name));
        return;
    }
    std::uint64_t received = state.value("received", std::uint64_t{0});
    if (received > 0 &&
        (received >= size || state.value("sha256", "") != prefix_sha256(file, received))) {
        received = 0;  // what arrived is not the start of this file
    }
    if (received > 0) {
        say(fmt::format("continuing the upload of {} at {}", name, human_bytes(received)));
    }
    api.put_file(
        path, file,
        [&](std::uint64_t done, std::uint64_t) {
            progress.update(fmt::format("uploading {} ({} of {})", name,
                                        human_bytes(received + done), human_bytes(size)));
        },
        std::optional<std::uint64_t>(received));
    progress.finish();
}

int import_remote(const ImportArgs& args, ProgressLine& progress,
                  const std::function<void(const std::string&)>& say) {
    net::ApiClient api = connect(args.market);
    std::vector<std::string> names = args.folder;
    for (const std::string& file : args.files) {
        if (!fs::is_regular_file(file)) {
            throw Error::format(ErrorKind::not_found, "{}: no such file", file);
        }
        upload(api, file, progress, say);
        names.push_back(fs::path(file).filename().string());
    }
    // The batch runs in the market; its record is followed until it ends.
    const Json job = follow_job(
        api, api.post("/api/v1/imports", {{"files", names}}), progress, [](const Json& now) {
            for (const Json& file : now.at("detail").at("files")) {
                if (file.at("state") == "importing") {
                    return "importing " + file.at("name").get<std::string>();
                }
            }
            return std::string();
        });
    const Json& record = job.at("detail");
    if (!record.is_object() || !record.contains("files") || record.at("result").is_null()) {
        throw Error::format("the market's import {} ended without a result: {}",
                            job.at("id").get<std::string>(), job.value("error", std::string()));
    }
    return report_batch(args, record);
}

int run_import(const ImportArgs& args) {
    if (args.data.empty() == args.market.server.empty()) {
        throw UsageError(
            "import needs either --data DIR (a market's data directory) or --server "
            "URL --token TOKEN (a running market)");
    }
    if (args.list) {
        return list_folder(args);
    }
    if (args.files.empty() && args.folder.empty()) {
        throw UsageError("import needs files: ferry import FILE... or --folder NAME...");
    }
    auto say = [&](const std::string& text) {
        if (!args.quiet && !args.json) {
            print_line(stderr, text);
        }
    };
    ProgressLine progress(stderr_is_terminal() && !args.quiet && !args.json);
    return args.data.empty() ? import_remote(args, progress, say) : import_local(args, progress);
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
        "<name>-<version>-ram.tar.gz (<folder>/metadata.json, component-images.tar) or the older "
        "zip (metadata.json, a folder per component): its app becomes an app version (key "
        "group_key, major group_version) and each plugin a plugin item. The files are one batch: "
        "each is imported or fails with its reason, and the command fails unless all were "
        "imported. Importing a file again changes nothing. With --server, FILEs are uploaded "
        "into the market's import folder first (a rerun continues a broken upload); files "
        "copied there by other means are named with --folder and listed with --list.");
    command->add_option("FILE", args->files, "The files to import");
    command->add_option("--folder", args->folder,
                        "Names of files in the market's import folder (<data>/import/) to import");
    command->add_flag("--list", args->list,
                      "List the market's import folder: each file's size, kind and the app "
                      "versions inside");
    command->add_option("--data", args->data,
                        "The data directory of a market that is not running (as ferry serve "
                        "--data)");
    add_market_options(*command, args->market, "A running market to import into",
                       "A publish token of that market");
    command->add_flag("--json", args->json, "Machine-readable output");
    command->add_flag("-q,--quiet", args->quiet, "Print only errors");
    command->callback([&run, args] { run = [args] { return run_import(*args); }; });
}

}  // namespace ferry::cli
