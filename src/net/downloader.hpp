// The installer's HTTP(S)/file:// client: one reused libcurl handle per Downloader (connection
// reuse), retries with backoff, resumable downloads, conditional fetches against a cache.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "net/backoff.hpp"

namespace ferry::net {

enum class FetchStatus { ok, not_found };

// Thrown when DownloadOptions::cancelled said stop: the transfer was cut within a second and a
// download's .part is kept, so that the next call continues it.
class Cancelled : public Error {
  public:
    explicit Cancelled(std::string message) : Error(std::move(message)) {}
};

struct DownloadOptions {
    long connect_timeout_seconds = 15;
    long low_speed_seconds = 30;  // abort when under low_speed_bytes per second for this long
    long low_speed_bytes = 1;
    long timeout_seconds = 0;  // whole transfer; 0 means no limit
    long max_redirects = 5;
    std::uint64_t max_bytes = UINT64_MAX;  // per download, resumed bytes included
    // How a user raises max_bytes, named when a download exceeds it ("FERRY_MAX_INDEX_SIZE").
    std::string max_bytes_setting;
    RetryPolicy retry;
    // A PEM file of CA certificates to trust instead of the system's (a private repository's
    // own CA); empty uses the system's.
    std::string ca_file;
    // Called with bytes done (of the whole file, resumed part included) and the total (0 when
    // the server does not say). Called from the thread doing the transfer.
    std::function<void(std::uint64_t done, std::uint64_t total)> progress;
    // Asked while a transfer runs (at least once a second, also while it stalls) and between
    // retries; true cuts the transfer and throws Cancelled. Called from the transferring thread.
    std::function<bool()> cancelled;
};

struct DownloadResult {
    FetchStatus status = FetchStatus::ok;
    long http_status = 0;                 // of the last response; 0 for file://
    std::uint64_t size = 0;               // of the downloaded file or body
    std::uint64_t bytes_transferred = 0;  // body bytes received, over all attempts
    bool resumed = false;       // an existing .part was continued (the server answered 206)
    bool not_modified = false;  // fetch_cached: the server answered 304
    int attempts = 0;
};

struct CachedBody {
    std::string body;
    DownloadResult result;
};

class Downloader {
  public:
    explicit Downloader(DownloadOptions options = {});
    ~Downloader();
    Downloader(const Downloader&) = delete;
    Downloader& operator=(const Downloader&) = delete;

    // Downloads url into dest through "<dest>.part": an existing .part is continued with a
    // Range request (If-Range with the ETag it was started with, kept in "<dest>.part.etag";
    // started over when the server sends the whole file), and renamed to dest
    // once complete. A 404 (or a missing file:// path) returns not_found and leaves dest alone;
    // other failures throw ferry::Error naming the URL without credentials and the cause,
    // after the retries the policy allows for transient failures. A failed download keeps its
    // .part so that the next call continues it. max_bytes bounds this download below the
    // options' bound (e.g. by the size an index promises).
    DownloadResult download(const std::string& url, const std::filesystem::path& dest,
                            std::uint64_t max_bytes = UINT64_MAX);

    // Fetches url into memory, keeping body, ETag and Last-Modified in cache_dir (named by the
    // SHA-256 of the URL); a cached entry makes the request conditional, and a 304 returns the
    // cached body without transferring it. A 404 returns not_found with an empty body.
    CachedBody fetch_cached(const std::string& url, const std::filesystem::path& cache_dir);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct Request {
    std::string url;
    std::filesystem::path dest;
    // This request's progress, in place of DownloadOptions::progress, so that callers can add up
    // the downloads running side by side. May be empty.
    std::function<void(std::uint64_t done, std::uint64_t total)> progress;
    std::uint64_t max_bytes = UINT64_MAX;  // below DownloadOptions::max_bytes, for this file
};

struct RequestOutcome {
    DownloadResult result;
    std::string error;  // empty on success (not_found is reported in result.status)
};

// Downloads every request, at most concurrency at a time (each worker with its own handle);
// outcomes are in request order. One failure does not stop the others; a cancellation stops
// them all and throws Cancelled once every worker has ended.
std::vector<RequestOutcome> download_all(const std::vector<Request>& requests, int concurrency,
                                         const DownloadOptions& options = {});

// A one-off Downloader::download: url into dest (through "<dest>.part", renamed on success).
// A 404 (or a missing file:// path) returns not_found; any other failure, after retries of
// transient ones, throws ferry::Error naming the URL without credentials and the cause.
FetchStatus fetch_to_file(const std::string& url, const std::filesystem::path& dest,
                          const DownloadOptions& options = {});

}  // namespace ferry::net
