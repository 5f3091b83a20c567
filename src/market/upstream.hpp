// Upstream ("cloud") markets: what they offer compared with this market, and pulls that copy an
// app's major version from one into this market. A pull transfers only the files this market
// lacks (resuming interrupted downloads), checks each against the SHA-256 and size the upstream
// recorded, and publishes the revision here only when every file is in place. Names in an
// upstream's answers are checked before a request or a path is made of them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/jobs.hpp"
#include "market/publisher.hpp"

namespace ferry::market {

struct UpstreamMarket {
    std::string url;      // "https://market.example.com"
    std::string token;    // sent to the upstream; empty for an open one
    std::string ca_file;  // PEM certificates to trust instead of the system's; empty: the system's
};

struct UpstreamMajor {
    std::string major;
    int upstream_revision = 0;
    int local_revision = 0;         // 0: not in this market
    bool update_available = false;  // present here at an older revision
};

struct UpstreamApp {
    std::string upstream_url;
    App app;               // as the upstream describes it
    bool present = false;  // this market has the app
    std::vector<UpstreamMajor> majors;
};

// Every app of every upstream, with its majors compared with this market's.
std::vector<UpstreamApp> list_upstream_apps(const std::vector<UpstreamMarket>& upstreams,
                                            Catalog& local);

struct PullResult {
    std::string upstream_url;
    std::string major;
    int upstream_revision = 0;
    PublishResult published;
    std::size_t files_transferred = 0;
    std::uint64_t bytes_transferred = 0;
};

// Copies app_key@major (the upstream's newest major when empty) from the first upstream that
// has the app. progress(done, total) counts the bytes to transfer; cancelled() is checked
// between files and, at least once a second, during each download (net::Cancelled), which
// keeps the download's .part for the next pull.
PullResult pull_app(const DataDir& data, Publisher& publisher,
                    const std::vector<UpstreamMarket>& upstreams, const std::string& app_key,
                    const std::string& major,
                    const std::function<void(std::uint64_t, std::uint64_t)>& progress = {},
                    const std::function<bool()>& cancelled = {});

// The major that pull_app(upstreams, app_key, major) copies: major itself, or the newest major
// of the first upstream that has the app (one request to each upstream asked). Throws as
// pull_app does when no upstream has the app or one cannot be asked.
std::string resolve_pull_major(const std::vector<UpstreamMarket>& upstreams,
                               const std::string& app_key, const std::string& major);

// Runs pulls as jobs on background threads, recorded in the catalog with their state and
// progress. A job's target names the major it copies ("app@3"), so a pull of the newest major
// and a pull naming that major are one target. A pull of a target that is already queued or
// running is that job (the work is done once).
class PullJobs {
  public:
    // failure_log takes what cannot be told otherwise: a job state the catalog failed to save.
    PullJobs(const DataDir& data, Catalog& catalog, Publisher& publisher,
             std::vector<UpstreamMarket> upstreams,
             std::function<void(std::string_view)> failure_log = {});
    // Stops: running pulls are cancelled (a download within a second) and recorded as failed
    // (interrupted); the parts downloaded stay for the next pull to resume.
    ~PullJobs() = default;
    PullJobs(const PullJobs&) = delete;
    PullJobs& operator=(const PullJobs&) = delete;

    // With major empty, first asks the upstreams for the app's newest major (without blocking
    // other pulls); when that fails the job returned has failed already, with the reason.
    Job start(const std::string& app_key, const std::string& major);
    const std::vector<UpstreamMarket>& upstreams() const { return upstreams_; }

    // Threads of pulls still held: the running ones. The threads of finished pulls are joined
    // first (here and by start()).
    std::size_t threads() { return runner_.threads(); }

  private:
    const DataDir& data_;
    Publisher& publisher_;
    std::vector<UpstreamMarket> upstreams_;
    JobRunner runner_;  // last: stopped (its threads joined) before the rest goes
};

}  // namespace ferry::market
