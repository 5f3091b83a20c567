// `ferry publish`: a packages tree (built here with repogen) or a built repository into a
// market as a revision of an app, uploading only the archives the market lacks. Builds are kept
// in a cache directory, so that a re-publish recompresses only the components that changed.
#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/market_options.hpp"
#include "cli/terminal.hpp"
#include "core/file_descriptor.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/version.hpp"
#include "market/publisher.hpp"
#include "net/api_client.hpp"
#include "repo/generator.hpp"

namespace ferry::cli {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

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

// FERRY_CACHE_DIR, else $XDG_CACHE_HOME/ferry, else ~/.cache/ferry; empty when none is set.
fs::path cache_root() {
    for (const auto& [variable, below] :
         {std::pair{"FERRY_CACHE_DIR", ""}, std::pair{"XDG_CACHE_HOME", "ferry"},
          std::pair{"HOME", ".cache/ferry"}}) {
        const char* value = std::getenv(variable);
        if (value != nullptr && *value != '\0') {
            return fs::path(value) / below;
        }
    }
    return {};
}

// Where the builds of one packages tree go: the previous build of the same tree is where
// repogen takes the archives of unchanged components from. Held under an flock, so that two
// publishes of one tree do not build into one directory at once.
class BuildCache {
  public:
    explicit BuildCache(const fs::path& packages) {
        const fs::path root = cache_root();
        if (root.empty()) {
            return;
        }
        const std::string key = core::sha256_hex(fs::canonical(packages).string()).substr(0, 16);
        dir_ = root / "publish" / key;
        fs::create_directories(dir_);
        core::write_file_atomic(dir_ / "packages.txt", fs::canonical(packages).string() + "\n");
        lock_ = core::FileDescriptor(
            ::open((dir_ / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
        if (lock_.get() < 0 || ::flock(lock_.get(), LOCK_EX) != 0) {
            throw Error::format("{}: cannot lock the build cache: {}", (dir_ / "lock").string(),
                                errno_text(errno));
        }
    }

    bool enabled() const { return !dir_.empty(); }
    fs::path repository() const { return dir_ / "repository"; }

  private:
    fs::path dir_;
    core::FileDescriptor lock_;
};

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

// Builds packages into out, replacing what a previous build left there; that build's archives
// of components whose inputs did not change are reused (hard links) instead of recompressed.
fs::path build_repository(const fs::path& packages, const fs::path& out) {
    repo::GenerateOptions options;
    options.packages = {packages};
    options.remove_existing = true;
    repo::generate_repository(out, options);
    return out;
}

int run_publish(const PublishArgs& args) {
    if (args.market.server.empty()) {
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
    net::ApiClient api = connect(args.market);
    fs::path repository = source;
    std::optional<BuildCache> cache;
    if (!prebuilt && !args.no_cache) {
        cache.emplace(source);
    }
    const fs::path build_dir =
        cache && cache->enabled() ? cache->repository() : scratch.path() / "repository";
    if (!prebuilt) {
        say(fmt::format("building the repository from {}", source.string()));
        repository = build_repository(source, build_dir);
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
            repository = build_repository(copy, build_dir);
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

void add_publish_command(CLI::App& app, CommandAction& run) {
    auto args = std::make_shared<PublishArgs>();
    auto* publish = app.add_subcommand(
        "publish", "Publish a packages directory (or a built repository) as a revision of an app");
    publish->add_option("SOURCE", args->source, "Packages directory or repository directory")
        ->required();
    add_market_options(*publish, args->market, "The market's URL", "A publish token");
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
    publish->add_flag("--no-cache", args->no_cache,
                      "Build in a temporary directory instead of the build cache "
                      "(FERRY_CACHE_DIR, else ~/.cache/ferry)");
    publish->add_flag("--json", args->json, "Machine-readable output");
    publish->add_flag("-q,--quiet", args->quiet, "Print only errors");
    publish->callback([&run, args] { run = [args] { return run_publish(*args); }; });
}

}  // namespace ferry::cli
