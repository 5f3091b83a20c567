// A client command's hold on a target: the installation opened under its lock, an interrupted
// transaction finished or undone first, the settings, and the repositories read once (with
// their RepositoryUpdate actions applied and saved) and merged by IFW's rules.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/installation.hpp"
#include "client/remote.hpp"
#include "client/settings.hpp"
#include "client/transaction.hpp"
#include "client/update_decision.hpp"

namespace ferry::client {

// How operations talk to the user; any member may be empty.
struct Reporter {
    std::function<void(std::string_view)> info;     // what happened
    std::function<void(std::string_view)> detail;   // more, for -v
    std::function<void(std::string_view)> warning;  // what the user should know
    // Long work: label, done and total in bytes (downloads) or items (extraction, applying).
    std::function<void(std::string_view label, std::uint64_t done, std::uint64_t total)> progress;
    std::function<void()> progress_done;
    // True once the user asked to stop (Ctrl-C): checked between steps, before anything is
    // changed; a cancelled operation ends with kCanceled and leaves the target as it was.
    std::function<bool()> cancelled;
};

// What a command asks of the installation's services (client/services.hpp).
struct ServiceRun {
    bool start = false;       // start the services (and wait for their health probes)
    bool purge_data = false;  // when the last service goes: remove its data volumes too
};

struct SessionOptions {
    fs::path root;
    bool create = false;  // install may create the target; other commands need one
    std::vector<std::string> add_repositories;  // --repo: added to the settings
    // Read in this session only and never saved in the settings: an offline installer's own
    // repository, unpacked for the time of the install.
    std::vector<std::string> session_repositories;
    net::DownloadOptions download;
    RemoteLimits limits;
    int concurrency = 4;
    Reporter reporter;
    ServiceRun services;
};

class Session {
  public:
    explicit Session(SessionOptions options);

    const Installation& installation() const { return installation_; }
    Settings& settings() { return settings_; }
    void save_settings();
    const Reporter& reporter() const { return options_.reporter; }
    const ServiceRun& service_run() const { return options_.services; }
    Recovery recovered() const { return recovered_; }

    // The repositories' indexes, fetched once per session (RepositoryUpdate actions applied and
    // saved), merged by IFW's rules for this installation's application.
    const MergedComponents& remote();
    // components.xml as the session opened it (each session applies at most one transaction).
    const formats::InstalledComponents& installed();
    const FetchedIndexes& indexes();
    RemoteOptions remote_options() const;

  private:
    SessionOptions options_;
    Installation installation_;
    std::optional<TargetLock> lock_;
    Settings settings_;
    Recovery recovered_ = Recovery::nothing;
    bool settings_dirty_ = false;  // --repo added repositories not saved yet
    std::optional<FetchedIndexes> indexes_;
    std::optional<formats::InstalledComponents> installed_;
    std::optional<MergedComponents> merged_;
};

}  // namespace ferry::client
