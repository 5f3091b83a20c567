// The console, options and session shared by the client commands (see client_console.hpp).
#include "cli/client_console.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "cli/command_errors.hpp"
#include "core/program.hpp"
#include "net/url.hpp"

namespace ferry::cli {

namespace {

// The first Ctrl-C (or SIGTERM) asks the operation to stop at the next safe point; a second
// Ctrl-C stops the process at once (the journal makes that safe too).
std::atomic<bool> cancel_requested{false};

extern "C" void request_cancel(int signal_number) {
    cancel_requested = true;
    std::signal(signal_number, SIG_DFL);
}

void catch_cancel() {
    std::signal(SIGINT, request_cancel);
    std::signal(SIGTERM, request_cancel);
}

// FERRY_TIMEOUT=SECONDS bounds both the time to connect and how long a transfer may stall
// before the attempt fails (and is retried); the defaults suit slow links, scripts may want less.
void apply_timeout_from_environment(net::DownloadOptions& download) {
    const char* value = std::getenv("FERRY_TIMEOUT");
    if (value == nullptr || *value == '\0') {
        return;
    }
    char* end = nullptr;
    errno = 0;
    const long seconds = std::strtol(value, &end, 10);
    if (errno != 0 || *end != '\0' || seconds <= 0) {
        throw Error::format("FERRY_TIMEOUT=\"{}\" is not a positive whole number of seconds",
                            value);
    }
    download.connect_timeout_seconds = seconds;
    download.low_speed_seconds = seconds;
}

// A size in bytes, with an optional K, M or G (binary multiples): "64M".
std::uint64_t size_from_environment(const char* name, std::uint64_t fallback) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
        return fallback;
    }
    char* end = nullptr;
    errno = 0;
    const unsigned long long number = std::strtoull(value, &end, 10);
    int shift = 0;
    switch (*end) {
        case 'K':
            shift = 10;
            break;
        case 'M':
            shift = 20;
            break;
        case 'G':
            shift = 30;
            break;
        default:
            break;
    }
    if (shift != 0) {
        ++end;
    }
    if (errno != 0 || end == value || *end != '\0' || value[0] == '-' || number == 0 ||
        number > (UINT64_MAX >> shift)) {
        throw Error::format(
            "{}=\"{}\" is not a size (a positive number of bytes, or with K, M or G: 64M)", name,
            value);
    }
    return static_cast<std::uint64_t>(number) << shift;
}

void apply_limits_from_environment(client::RemoteLimits& limits) {
    limits.index_bytes = size_from_environment("FERRY_MAX_INDEX_SIZE", limits.index_bytes);
    limits.metadata_bytes = size_from_environment("FERRY_MAX_METADATA_SIZE", limits.metadata_bytes);
}

}  // namespace

bool cancel_was_requested() {
    return cancel_requested.load();
}

client::Reporter Console::reporter() {
    client::Reporter reporter;
    reporter.info = [this](std::string_view text) { say(text); };
    reporter.detail = [this](std::string_view text) {
        if (args_.verbose) {
            say(text);
        }
    };
    reporter.warning = [this](std::string_view text) {
        progress_.finish();
        print_line(stderr, fmt::format("{}: {}", core::program_name(), text));
    };
    reporter.progress = [this](std::string_view label, std::uint64_t done, std::uint64_t total) {
        show(label, done, total);
    };
    reporter.progress_done = [this] {
        progress_.finish();
        started_ = false;
    };
    reporter.cancelled = [] { return cancel_requested.load(); };
    return reporter;
}

void Console::say(std::string_view text) {
    if (!args_.quiet) {
        progress_.finish();
        print_line(stderr, text);
    }
}

void Console::show(std::string_view label, std::uint64_t done, std::uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (!started_) {
        started_ = true;
        start_ = now;
    }
    if (label != "downloading") {
        progress_.update(fmt::format("{}: {} of {}", label, done, total));
        return;
    }
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0.2 ? static_cast<double>(done) / seconds : 0;
    std::string eta;
    if (rate > 0 && total > done) {
        eta = fmt::format(", {:.0f} s left", static_cast<double>(total - done) / rate);
    }
    const int percent = total > 0 ? static_cast<int>(done * 100 / total) : 0;
    const int filled = percent / 5;
    progress_.update(
        fmt::format("downloading [{}{}] {}% {} of {}, {}/s{}", std::string(filled, '#'),
                    std::string(20 - filled, '.'), percent, human_bytes(done), human_bytes(total),
                    human_bytes(static_cast<std::uint64_t>(rate)), eta),
        done == total);
}

client::Session open_session(const ClientArgs& args, Console& console, bool create) {
    catch_cancel();
    client::SessionOptions options;
    apply_timeout_from_environment(options.download);
    apply_limits_from_environment(options.limits);
    // Downloads stop within a second of Ctrl-C, keeping their .part for the next run.
    options.download.cancelled = [] { return cancel_requested.load(); };
    options.root = args.root;
    options.create = create;
    options.add_repositories = args.repositories;
    options.session_repositories = args.session_repositories;
    options.download.ca_file = args.ca_file;
    options.reporter = console.reporter();
    options.services = {args.start, args.purge_data};
    return client::Session(std::move(options));
}

std::string root_hint(const client::Session& session) {
    return session.installation().root().string();
}

void add_common(CLI::App* cmd, ClientArgs& args, bool data) {
    cmd->add_option("--root", args.root, "The installation's target directory")
        ->required()
        ->envname("FERRY_ROOT");
    cmd->add_flag("-q,--quiet", args.quiet, "Print only errors and requested data");
    cmd->add_flag("-v,--verbose", args.verbose, "Say more about each step");
    if (data) {
        cmd->add_flag("--json", args.json, "Machine-readable output on stdout");
    }
}

void add_network(CLI::App* cmd, ClientArgs& args) {
    // One URL per --repo, so that component names may follow it: `install --repo URL NAME`.
    cmd->add_option("--repo", args.repositories,
                    "A repository URL to add to the target's settings (repeatable); "
                    "user:password@ in it is stored apart, readable by the owner only")
        // One URL per --repo, so that `--repo URL COMPONENT` leaves COMPONENT to the positional.
        ->allow_extra_args(false)
        ->transform(parsed_by(net::repository_url));
    cmd->add_option("--ca-file", args.ca_file,
                    "PEM certificates to trust for https repositories instead of the system's")
        ->envname("FERRY_CA_FILE");
}

}  // namespace ferry::cli
