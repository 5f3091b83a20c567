#include "market/market_client.hpp"

#include <optional>
#include <set>

#include "core/files.hpp"
#include "formats/package_version.hpp"
#include "market/json.hpp"
#include "market/names.hpp"
#include "market/publish_build.hpp"
#include "market/publisher.hpp"

namespace ferry::market {

namespace {

using Json = nlohmann::json;

std::string versions_path(const std::string& app_key, const std::string& major) {
    return "/api/v1/apps/" + app_key + "/versions/" + major;
}

}  // namespace

MarketClient::MarketClient(std::string url, std::string token, net::DownloadOptions options)
    : api_(std::move(url), std::move(token), std::move(options)) {}

std::optional<std::vector<RevisionComponent>> MarketClient::published_components(
    const std::string& app_key, const std::string& major) {
    Json revision;
    try {
        revision = api_.get(versions_path(app_key, major));
    } catch (const net::ApiError& e) {
        if (e.status() == 404) {
            return std::nullopt;
        }
        throw;
    }
    try {
        return components_from_json(revision.at("components"));
    } catch (const Json::exception&) {
        throw Error::format(ErrorKind::upstream, "{}{}: the answer is not a revision", url(),
                            versions_path(app_key, major));
    }
}

std::vector<std::string> MarketClient::missing_blobs(const std::vector<RepositoryFile>& files) {
    Json blobs = Json::array();
    for (const auto& file : files) {
        blobs.push_back({{"sha256", file.sha256}, {"size", file.size}});
    }
    const Json answer = api_.post("/api/v1/blobs/missing", {{"blobs", blobs}});
    try {
        return answer.at("missing").get<std::vector<std::string>>();
    } catch (const Json::exception&) {
        throw Error::format(ErrorKind::upstream,
                            "{}/api/v1/blobs/missing: the answer has no list of missing blobs",
                            url());
    }
}

void MarketClient::upload_blob(const fs::path& file, const std::string& sha256,
                               const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
    api_.put_file("/api/v1/blobs/" + sha256, file, progress);
}

Json MarketClient::commit_revision(const std::string& app_key, const std::string& major,
                                   const Json& app, const std::string& updates_xml,
                                   const std::vector<RepositoryFile>& files,
                                   const std::string& notes) {
    return api_.post(versions_path(app_key, major) + "/revisions", {{"app", app},
                                                                    {"updates_xml", updates_xml},
                                                                    {"files", files_json(files)},
                                                                    {"notes", notes}});
}

PublishOutcome publish_to_market(MarketClient& market, const PublishJob& job,
                                 const PublishEvents& events) {
    // Both become parts of URLs and of the market's paths: refused here, before a build.
    check_key(job.app_key, "app key");
    check_key(job.major, "major version");
    const auto say = [&](const std::string& text) {
        if (events.say) {
            events.say(text);
        }
    };
    const fs::path& source = job.source;
    std::error_code ec;
    const bool prebuilt = fs::exists(source / "Updates.xml", ec);
    if (!prebuilt && !fs::is_directory(source, ec)) {
        throw Error::format("{}: neither a packages directory nor a repository", source.string());
    }
    if (prebuilt && job.bump) {
        throw Error::format("{}: --bump needs a packages directory, not a built repository",
                            source.string());
    }
    core::ScratchDir scratch;
    fs::path repository = source;
    std::optional<BuildCache> cache;
    if (!prebuilt && job.use_cache) {
        cache.emplace(publish_cache_root(), source);
    }
    const fs::path build_dir =
        cache && cache->enabled() ? cache->repository() : scratch.path() / "repository";
    if (!prebuilt) {
        say(fmt::format("building the repository from {}", source.string()));
        build_repository(source, build_dir);
        repository = build_dir;
    }
    RepositoryFiles files = read_repository_files(repository);

    if (job.bump) {
        const auto published = market.published_components(job.app_key, job.major);
        const auto raise =
            published ? versions_to_raise(files, *published) : std::map<std::string, std::string>{};
        if (!raise.empty()) {
            // The packages directory stays as it is: the raised versions go into a copy.
            const fs::path copy = scratch.path() / "packages";
            fs::copy(source, copy, fs::copy_options::recursive | fs::copy_options::copy_symlinks,
                     ec);
            if (ec) {
                throw Error::format(ErrorKind::storage, "{}: cannot copy to {}: {}",
                                    source.string(), copy.string(), ec.message());
            }
            for (const auto& [name, version] : raise) {
                formats::set_package_version(copy / name / "meta" / "package.xml", version);
                say(fmt::format("--bump: {} becomes {}", name, version));
            }
            build_repository(copy, build_dir);
            files = read_repository_files(build_dir);
            repository = build_dir;
        }
    }

    PublishOutcome outcome;
    std::uint64_t total = 0;
    for (const auto& file : files.files) {
        total += file.size;
    }
    const std::vector<std::string> missing = market.missing_blobs(files.files);
    std::set<std::string> to_upload(missing.begin(), missing.end());
    for (const auto& file : files.files) {
        if (to_upload.erase(file.sha256) == 0) {
            continue;  // the market has it, or it was uploaded for another path
        }
        market.upload_blob(repository / file.path, file.sha256,
                           [&](std::uint64_t done, std::uint64_t) {
                               if (events.upload) {
                                   events.upload(file.path, outcome.uploaded_bytes + done, total);
                               }
                           });
        outcome.uploaded_bytes += file.size;
        ++outcome.uploaded_files;
    }
    outcome.answer = market.commit_revision(job.app_key, job.major, job.app, files.updates_xml,
                                            files.files, job.notes);
    return outcome;
}

AppVersion resolve_app_version(net::ApiClient& api, const std::string& wanted) {
    const auto at = wanted.find('@');
    AppVersion version;
    version.key = wanted.substr(0, at);
    check_key(version.key, "app key");
    version.app = api.get("/api/v1/apps/" + version.key);
    const nlohmann::json& majors = version.app.at("majors");
    if (majors.empty()) {
        throw Error::format(ErrorKind::not_found, "{}: the app {} has no published version",
                            api.base_url(), version.key);
    }
    const nlohmann::json* chosen = &majors.back();
    if (at != std::string::npos) {
        const std::string major = wanted.substr(at + 1);
        chosen = nullptr;
        std::vector<std::string> known;
        for (const nlohmann::json& m : majors) {
            known.push_back(m.at("major").get<std::string>());
            if (known.back() == major) {
                chosen = &m;
            }
        }
        if (chosen == nullptr) {
            throw Error::format(ErrorKind::not_found, "{}: {} has no version \"{}\" (it has {})",
                                api.base_url(), version.key, major, fmt::join(known, ", "));
        }
    }
    version.major = chosen->at("major").get<std::string>();
    version.repository = chosen->at("repository").get<std::string>();
    return version;
}

std::string market_file_url(const std::string& base_url, const std::string& path,
                            const std::string& token) {
    std::string url = base_url;
    const auto scheme = url.find("://");
    if (!token.empty() && scheme != std::string::npos) {
        url.insert(scheme + 3, "token:" + token + "@");
    }
    return url + path;
}

std::string repository_url(const std::string& base_url, const AppVersion& version,
                           const std::string& token) {
    return market_file_url(base_url, version.repository, token);
}

}  // namespace ferry::market
