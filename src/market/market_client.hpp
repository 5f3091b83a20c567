// The publishing side of the market protocol: a client of a market's API that reads what an app
// has published, asks which blobs the market lacks, uploads them and commits a revision; and
// `publish_to_market`, the whole of `ferry publish` (build, --bump, upload, commit) as a library
// call, so that the command only parses and prints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "market/catalog.hpp"
#include "net/api_client.hpp"

namespace ferry::market {

class MarketClient {
  public:
    // url like "http://127.0.0.1:8080"; token may be empty (an open market's reads).
    MarketClient(std::string url, std::string token, net::DownloadOptions options = {});

    const std::string& url() const { return api_.base_url(); }

    // The components of app_key@major's latest revision; nullopt when the market has neither
    // the app nor that major yet (a first publish).
    std::optional<std::vector<RevisionComponent>> published_components(const std::string& app_key,
                                                                       const std::string& major);

    // The SHA-256s of the files the market does not have yet.
    std::vector<std::string> missing_blobs(const std::vector<RepositoryFile>& files);

    // Uploads one file as the blob of its SHA-256; progress(done, total) while it goes.
    void upload_blob(const std::filesystem::path& file, const std::string& sha256,
                     const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

    // Commits a revision of app_key@major: the market's answer (revision, unchanged, changed,
    // unchanged_components, repository). app holds only the app fields to set.
    nlohmann::json commit_revision(const std::string& app_key, const std::string& major,
                                   const nlohmann::json& app, const std::string& updates_xml,
                                   const std::vector<RepositoryFile>& files,
                                   const std::string& notes);

  private:
    net::ApiClient api_;
};

struct PublishJob {
    std::filesystem::path source;  // a packages directory, or a repository built already
    std::string app_key;
    std::string major;
    nlohmann::json app = nlohmann::json::object();  // the app fields given (name, kind, ...)
    std::string notes;
    // Raise the version of components whose content changed while their version did not.
    bool bump = false;
    // Build in the publish build cache (see publish_build.hpp) rather than a temporary directory.
    bool use_cache = true;
};

struct PublishEvents {
    std::function<void(const std::string&)> say;  // a step worth telling ("building ...")
    // Bytes of one file uploaded so far, and of every upload together.
    std::function<void(const std::string& path, std::uint64_t done, std::uint64_t total)> upload;
};

struct PublishOutcome {
    nlohmann::json answer;  // the market's answer to the commit
    std::size_t uploaded_files = 0;
    std::uint64_t uploaded_bytes = 0;
};

// One major version of an app as a market lists it: where its repository is and what its
// publisher allows.
struct AppVersion {
    std::string key;
    std::string major;
    std::string repository;  // the repository's path on the market ("/repo/<key>/<major>/")
    nlohmann::json app;      // the app as GET /api/v1/apps/<key> answers it
};

// "KEY" (the newest major) or "KEY@MAJOR" through the market's API. A missing app is the API's
// 404; an app without that major (or without any) is an error of kind not_found naming the
// majors it has.
AppVersion resolve_app_version(net::ApiClient& api, const std::string& wanted);

// The URL of a file the market at base_url serves (path: "/repo/...", "/exports/..."), carrying
// token as Basic credentials when it is not empty.
std::string market_file_url(const std::string& base_url, const std::string& path,
                            const std::string& token);

// The URL of its repository on the market at base_url, carrying token (as Basic credentials,
// which ferry's downloads and IFW's installers send) when it is not empty.
std::string repository_url(const std::string& base_url, const AppVersion& version,
                           const std::string& token);

// Publishes job.source into the market as the next revision of job.app_key@job.major: checks the
// key and the major (before anything is built), builds a packages directory (in the build
// cache unless told otherwise), raises versions for --bump against what the market has, uploads
// only the blobs the market lacks and commits. Throws ferry::Error (net::ApiError for a refusal
// by the market) naming the input and the cause.
PublishOutcome publish_to_market(MarketClient& market, const PublishJob& job,
                                 const PublishEvents& events = {});

}  // namespace ferry::market
