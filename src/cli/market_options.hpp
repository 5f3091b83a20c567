// What every command that talks to a market's API shares: the CA file it trusts.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "net/downloader.hpp"

namespace ferry::cli {

// --ca-file (or FERRY_CA_FILE): PEM certificates to trust for an https market.
inline void add_ca_file_option(CLI::App& command, std::string& ca_file) {
    command
        .add_option("--ca-file", ca_file,
                    "PEM certificates to trust for an https market instead of the system's")
        ->envname("FERRY_CA_FILE")
        ->check(CLI::ExistingFile);
}

// The options of an ApiClient that trusts ca_file (the system's certificates when empty).
inline net::DownloadOptions api_options(const std::string& ca_file) {
    net::DownloadOptions options;
    options.ca_file = ca_file;
    return options;
}

}  // namespace ferry::cli
