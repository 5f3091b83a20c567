// What the client commands share: their options, the console that reports to people (messages
// and progress on stderr, data on stdout) and the session each command opens on its target.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/terminal.hpp"
#include "client/operations.hpp"

namespace ferry::cli {

struct ClientArgs {
    std::string root;
    std::vector<std::string> repositories;
    std::string ca_file;
    std::string market;        // install --market URL: the first name is APP[@MAJOR]
    std::string market_token;  // for a private market
    std::vector<std::string> names;
    // Read for this command only, never saved: an offline installer's unpacked repository.
    std::vector<std::string> session_repositories;
    bool json = false;
    bool xml = false;
    bool quiet = false;
    bool verbose = false;
    bool all = false;
    bool accept_licenses = false;
    bool overwrite = false;   // install, update, rollback: replace files nobody installed
    bool start = false;       // install, update, rollback: start the services
    bool purge_data = false;  // remove: the last service's data volumes go too
    // repos
    std::string url;
    int priority = 0;
    std::string display_name;
    std::string username;
    std::string password;
};

// Output for people on stderr (stdout carries the data: lists, JSON, XML); a progress line on a
// terminal, nothing of it otherwise.
class Console {
  public:
    explicit Console(const ClientArgs& args)
        : args_(args), progress_(stderr_is_terminal() && !args.quiet && !args.json) {}

    client::Reporter reporter();
    void say(std::string_view text);

  private:
    void show(std::string_view label, std::uint64_t done, std::uint64_t total);

    const ClientArgs& args_;
    ProgressLine progress_;
    bool started_ = false;
    std::chrono::steady_clock::time_point start_;
};

// Opens the target (under its lock, recovering an interrupted transaction) with the options
// and environment (FERRY_TIMEOUT) of the command; Ctrl-C from here on cancels at a safe step.
client::Session open_session(const ClientArgs& args, Console& console, bool create);

// install --market URL APP[@MAJOR]: the arguments with the market's repository for the app's
// major version (its newest when none is named) added and APP taken off the names.
ClientArgs resolve_market_app(ClientArgs args);

// What install, update, remove and rollback print (or --json) of a finished operation; returns
// its exit code.
int report_result(const ClientArgs& args, Console& console, const client::Session& session,
                  const client::OperationResult& result, std::string_view nothing);

// Whether Ctrl-C (or SIGTERM) asked a command to stop since its session opened.
bool cancel_was_requested();

// The target as messages name it.
std::string root_hint(const client::Session& session);

// Options every client command takes (--root, -q, -v, and --json when it prints data), and
// those of commands that read repositories (--repo, --ca-file).
void add_common(CLI::App* cmd, ClientArgs& args, bool data);
void add_network(CLI::App* cmd, ClientArgs& args);

}  // namespace ferry::cli
