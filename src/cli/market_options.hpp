// What every command that talks to a market's API shares: where it is (--server), the token it
// sends (--token) and the certificates it trusts (--ca-file), and following a job.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/terminal.hpp"
#include "net/api_client.hpp"
#include "net/downloader.hpp"

namespace ferry::cli {

struct MarketConnection {
    std::string server;
    std::string token;
    std::string ca_file;
};

// --server (FERRY_SERVER), --token (FERRY_TOKEN) and --ca-file (FERRY_CA_FILE); returns --server's
// option.
inline CLI::Option* add_market_options(CLI::App& command, MarketConnection& market,
                                       const std::string& server_help,
                                       const std::string& token_help) {
    CLI::Option* server =
        command.add_option("--server", market.server, server_help)->envname("FERRY_SERVER");
    command.add_option("--token", market.token, token_help)->envname("FERRY_TOKEN");
    command
        .add_option("--ca-file", market.ca_file,
                    "PEM certificates to trust for an https market instead of the system's")
        ->envname("FERRY_CA_FILE")
        ->check(CLI::ExistingFile);
    return server;
}

// The options of an ApiClient that trusts ca_file (the system's certificates when empty).
inline net::DownloadOptions api_options(const std::string& ca_file) {
    net::DownloadOptions options;
    options.ca_file = ca_file;
    return options;
}

inline net::ApiClient connect(const MarketConnection& market) {
    return net::ApiClient(market.server, market.token, api_options(market.ca_file));
}

// Polls a job of the market until it ends, showing doing(job) with its progress on the line
// (nothing while doing answers ""); the job as it ended.
inline nlohmann::json follow_job(net::ApiClient& api, nlohmann::json job, ProgressLine& progress,
                                 const std::function<std::string(const nlohmann::json&)>& doing) {
    const std::string id = job.at("id").get<std::string>();
    while (job.at("state") == "queued" || job.at("state") == "running") {
        if (const std::string what = doing(job); !what.empty()) {
            progress.update(fmt::format("{} ({} of {})", what,
                                        human_bytes(job.at("done").get<std::uint64_t>()),
                                        human_bytes(job.at("total").get<std::uint64_t>())));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        job = api.get("/api/v1/jobs/" + id);
    }
    progress.finish();
    return job;
}

}  // namespace ferry::cli
