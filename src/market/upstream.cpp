#include "market/upstream.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/relative_path.hpp"
#include "formats/package_xml.hpp"
#include "formats/updates_xml.hpp"
#include "market/json.hpp"
#include "market/names.hpp"
#include "net/api_client.hpp"
#include "net/downloader.hpp"
#include "net/url.hpp"

namespace ferry::market {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kInterrupted =
    "interrupted: the server stopped before the pull finished; start it again";

// Repository files of an upstream: its token rides as the password of Basic authentication,
// which the market accepts beside Bearer (the downloader speaks Basic).
std::string repository_url(const UpstreamMarket& upstream, const std::string& key,
                           const std::string& major) {
    std::string base = upstream.url;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    if (!upstream.token.empty()) {
        const auto scheme = base.find("://");
        if (scheme != std::string::npos) {
            base.insert(scheme + 3, "token:" + upstream.token + "@");
        }
    }
    return base + "/repo/" + key + "/" + major;
}

// Runs a check of a name taken from an upstream's answer; its refusal names the upstream. Every
// name an answer gives is checked before a request or a path is made of it.
template <typename Check>
void check_from_upstream(const UpstreamMarket& upstream, Check&& check) {
    try {
        check();
    } catch (const Error& e) {
        throw Error::format(ErrorKind::upstream, "upstream market {}: {}",
                            net::strip_credentials(upstream.url), e.what());
    }
}

void check_upstream_key(const UpstreamMarket& upstream, std::string_view text,
                        std::string_view what) {
    check_from_upstream(upstream, [&] { check_key(text, what); });
}

// Why a repository path cannot go into a URL and a file name as it is, or nullopt: it must be a
// clean relative path (core's rule) of characters no URL has to escape (a '%' would be decoded
// into anything).
std::optional<std::string> plain_path_problem(std::string_view path) {
    if (auto problem = core::relative_path_problem(path)) {
        return problem;
    }
    const auto plain = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("._-+~/").find(c) != std::string_view::npos;
    };
    if (auto odd = std::find_if_not(path.begin(), path.end(), plain); odd != path.end()) {
        return fmt::format(
            "contains {:?} (a URL takes only letters, digits and . _ - + ~ / as they are)", *odd);
    }
    return std::nullopt;
}

// A revision as an upstream describes it (GET /api/v1/apps/KEY/versions/MAJOR), every name in it
// checked: component names, file paths (never Updates.xml, which the market writes) and blobs.
struct UpstreamRevision {
    int number = 0;
    std::vector<RevisionComponent> components;
    std::vector<RepositoryFile> files;
};

UpstreamRevision read_upstream_revision(const UpstreamMarket& upstream, const Json& json) {
    UpstreamRevision revision;
    check_from_upstream(upstream, [&] {
        try {
            revision.number = json.at("revision").get<int>();
            revision.components = components_from_json(json.at("components"));
            revision.files = files_from_json(json.at("files"));
        } catch (const Json::exception&) {
            throw Error("its answer is not a revision as the market API describes one");
        }
        for (const RevisionComponent& component : revision.components) {
            formats::validate_component_name(component.name, "its revision");
            if (auto problem = plain_path_problem(component.name)) {
                throw Error::format("component name {:?} {}", component.name, *problem);
            }
            if (component.name.find('/') != std::string::npos) {
                throw Error::format("component name {:?} is not a plain name", component.name);
            }
        }
        for (const RepositoryFile& file : revision.files) {
            if (auto problem = plain_path_problem(file.path)) {
                throw Error::format("file name {:?} {}", file.path, *problem);
            }
            if (file.path == "Updates.xml") {
                throw Error("file name \"Updates.xml\" is not allowed (a market writes its own)");
            }
            if (!is_blob_name(file.sha256)) {
                throw Error::format("{}: {:?} is not a SHA-256", file.path, file.sha256);
            }
        }
    });
    return revision;
}

std::vector<Json> all_apps(net::ApiClient& api) {
    std::vector<Json> apps;
    for (std::size_t offset = 0;;) {
        const Json page = api.get(fmt::format("/api/v1/apps?offset={}&limit=1000", offset));
        for (const Json& app : page.at("apps")) {
            apps.push_back(app);
        }
        offset += page.at("apps").size();
        if (page.at("apps").empty() || offset >= page.at("total").get<std::size_t>()) {
            return apps;
        }
    }
}

App app_of(const Json& json, const std::string& upstream_url) {
    App app;
    app.key = json.at("key").get<std::string>();
    app = app_from_json(json, app);
    app.source = App::Source::upstream;
    app.upstream_url = upstream_url;
    return app;
}

net::DownloadOptions download_options(const UpstreamMarket& upstream) {
    net::DownloadOptions options;
    options.ca_file = upstream.ca_file;
    return options;
}

// Appends the apps of one upstream, each with its majors compared with this market's.
void list_apps_of(const UpstreamMarket& upstream, Catalog& local,
                  std::vector<UpstreamApp>& result) {
    net::ApiClient api(upstream.url, upstream.token, download_options(upstream));
    for (const Json& listed : all_apps(api)) {
        const std::string key = listed.at("key").get<std::string>();
        check_upstream_key(upstream, key, "app key");
        UpstreamApp item;
        item.upstream_url = upstream.url;
        item.app = app_of(listed, upstream.url);
        item.present = local.find_app(key).has_value();
        const Json detail = api.get("/api/v1/apps/" + key);
        for (const Json& major : detail.at("majors")) {
            UpstreamMajor entry;
            entry.major = major.at("major").get<std::string>();
            check_upstream_key(upstream, entry.major, "major version");
            entry.upstream_revision = major.at("latest_revision").get<int>();
            if (const auto here = local.find_major(key, entry.major)) {
                entry.local_revision = here->latest_revision;
                // Revisions are counted per market: an update is a different content.
                const auto mine = local.find_revision(key, entry.major, here->latest_revision);
                const UpstreamRevision theirs = read_upstream_revision(
                    upstream, api.get("/api/v1/apps/" + key + "/versions/" + entry.major));
                entry.update_available = !mine || mine->components != theirs.components;
            }
            item.majors.push_back(entry);
        }
        result.push_back(std::move(item));
    }
}

// The first upstream that has the app, with its description of the app.
struct FoundApp {
    const UpstreamMarket* upstream = nullptr;
    Json app;
};

FoundApp find_app(const std::vector<UpstreamMarket>& upstreams, const std::string& app_key,
                  const std::string& major) {
    check_key(app_key, "app key");
    if (!major.empty()) {
        check_key(major, "major version");
    }
    if (upstreams.empty()) {
        throw Error("this market has no upstream market (ferry serve --upstream URL)",
                    ErrorKind::conflict);
    }
    for (const UpstreamMarket& upstream : upstreams) {
        net::ApiClient api(upstream.url, upstream.token, download_options(upstream));
        try {
            return {&upstream, api.get("/api/v1/apps/" + app_key)};
        } catch (const net::ApiError& e) {
            if (e.status() != 404) {
                throw Error::format(ErrorKind::upstream, "upstream market {}: {}", upstream.url,
                                    e.what());
            }
        } catch (const Error& e) {
            // Not reached, or not answering HTTP.
            throw Error::format(ErrorKind::upstream, "upstream market {}: {}", upstream.url,
                                e.what());
        }
    }
    std::vector<std::string> asked;
    for (const auto& upstream : upstreams) {
        asked.push_back(upstream.url);
    }
    throw Error::format(ErrorKind::not_found, "no upstream market has the app \"{}\" (asked {})",
                        app_key, fmt::join(asked, ", "));
}

// major, or the newest major of the upstream that has the app when major is empty.
std::string major_to_pull(const FoundApp& found, const std::string& app_key,
                          const std::string& major) {
    if (!major.empty()) {
        return major;
    }
    if (found.app.at("majors").empty()) {
        throw Error::format(ErrorKind::not_found, "{}: {} has no published version yet",
                            found.upstream->url, app_key);
    }
    const std::string newest = found.app.at("majors").back().at("major").get<std::string>();
    check_upstream_key(*found.upstream, newest, "major version");
    return newest;
}

}  // namespace

std::vector<UpstreamApp> list_upstream_apps(const std::vector<UpstreamMarket>& upstreams,
                                            Catalog& local) {
    std::vector<UpstreamApp> result;
    for (const UpstreamMarket& upstream : upstreams) {
        try {
            list_apps_of(upstream, local, result);
        } catch (const Error& e) {
            // The request made here was fine; the upstream refused, failed or garbled it. A name
            // refused in its answer says which upstream already.
            throw e.kind() == ErrorKind::upstream
                ? e
                : Error::format(ErrorKind::upstream, "upstream market {}: {}", upstream.url,
                                e.what());
        } catch (const std::exception& e) {
            // The request made here was fine; the upstream refused, failed or garbled it.
            throw Error::format(ErrorKind::upstream, "upstream market {}: {}", upstream.url,
                                e.what());
        }
    }
    return result;
}

std::string resolve_pull_major(const std::vector<UpstreamMarket>& upstreams,
                               const std::string& app_key, const std::string& major) {
    return major_to_pull(find_app(upstreams, app_key, major), app_key, major);
}

PullResult pull_app(const DataDir& data, Publisher& publisher,
                    const std::vector<UpstreamMarket>& upstreams, const std::string& app_key,
                    const std::string& major,
                    const std::function<void(std::uint64_t, std::uint64_t)>& progress,
                    const std::function<bool()>& cancelled) {
    const FoundApp found = find_app(upstreams, app_key, major);
    const UpstreamMarket& upstream = *found.upstream;
    const Json& app = found.app;
    net::ApiClient api(upstream.url, upstream.token, download_options(upstream));
    // Asked by libcurl at least once a second, so that a stop cuts a download in progress (a
    // stalled one too) instead of waiting for it; its .part stays for the next pull.
    net::DownloadOptions options = download_options(upstream);
    options.cancelled = cancelled;
    PullResult result;
    result.upstream_url = upstream.url;
    result.major = major_to_pull(found, app_key, major);
    const std::string base = repository_url(upstream, app_key, result.major);
    // The index and the file list must be of one revision: a publish upstream between the
    // two requests is retried.
    UpstreamRevision revision;
    std::string updates_xml;
    for (int attempt = 0;; ++attempt) {
        revision = read_upstream_revision(
            upstream, api.get("/api/v1/apps/" + app_key + "/versions/" + result.major));
        core::ScratchDir scratch(data.uploads(), ".index-");
        net::fetch_to_file(net::join_url(base, "Updates.xml"), scratch.path() / "Updates.xml",
                           options);
        updates_xml = core::read_file(scratch.path() / "Updates.xml");
        const auto index = formats::parse_updates_xml(
            updates_xml, net::strip_credentials(net::join_url(base, "Updates.xml")));
        result.upstream_revision = revision.number;
        if (index.revision && index.revision->number == result.upstream_revision) {
            break;
        }
        if (attempt == 2) {
            throw Error::format("{}: the index and the revision {} do not match", base,
                                result.upstream_revision);
        }
    }
    const std::vector<RepositoryFile>& files = revision.files;
    std::vector<const RepositoryFile*> missing;
    std::set<std::string> seen;
    std::uint64_t total = 0;
    for (const RepositoryFile& file : files) {
        if (!data.has_blob(file.sha256, file.size) && seen.insert(file.sha256).second) {
            missing.push_back(&file);
            total += file.size;
        }
    }
    std::uint64_t finished = 0;
    options.progress = [&](std::uint64_t done, std::uint64_t) {
        if (progress) {
            progress(finished + done, total);
        }
    };
    net::Downloader downloader(options);
    for (const RepositoryFile* file : missing) {
        if (cancelled && cancelled()) {
            throw Error::format("the pull of {}@{} was cancelled", app_key, result.major);
        }
        // Named by the blob, so that an interrupted pull resumes its .part next time.
        const fs::path dest = data.uploads() / ("pull-" + file->sha256);
        with_context(fmt::format("pulling {} from {}", file->path, upstream.url), [&] {
            downloader.download(net::join_url(base, file->path), dest);
            adopt_blob(data, dest, file->sha256, file->size);
        });
        finished += file->size;
        result.files_transferred += 1;
        result.bytes_transferred += file->size;
        if (progress) {
            progress(finished, total);
        }
    }
    result.published = publisher.publish(
        {app_of(app, upstream.url), result.major, updates_xml, files,
         fmt::format("pulled from {} (revision {})", upstream.url, result.upstream_revision)});
    return result;
}

PullJobs::PullJobs(const DataDir& data, Catalog& catalog, Publisher& publisher,
                   std::vector<UpstreamMarket> upstreams,
                   std::function<void(std::string_view)> failure_log)
    : data_(data),
      publisher_(publisher),
      upstreams_(std::move(upstreams)),
      runner_(catalog, "pull", std::string(kInterrupted), std::move(failure_log)) {}

Job PullJobs::start(const std::string& app_key, const std::string& major) {
    // "app" and "app@<its newest major>" are one pull, so the target names the major the pull
    // fetches: the upstream is asked which that is before the target is compared with the
    // running pulls'. The request is made before the runner is asked, so that other pulls
    // start and record their end meanwhile.
    std::string to_pull = major;
    if (to_pull.empty()) {
        try {
            to_pull = resolve_pull_major(upstreams_, app_key, major);
        } catch (const std::exception& e) {
            // The pull cannot start (no upstream has the app, or one cannot be asked): the job
            // says why, as it does for a pull that fails later.
            return runner_.failed(app_key, e.what());
        }
    }
    return runner_.start(app_key + "@" + to_pull, [this, app_key, to_pull](JobControl& control) {
        pull_app(
            data_, publisher_, upstreams_, app_key, to_pull,
            [&](std::uint64_t done, std::uint64_t total) { control.progress(done, total); },
            [&] { return control.cancelled(); });
    });
}

}  // namespace ferry::market
