// ferry's entry point: parses the command line and runs one command. Invoked as `repogen`, the
// binary behaves as `ferry repogen` so that it can stand in for IFW's tool.
#include <malloc.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_errors.hpp"
#include "cli/commands.hpp"
#include "cli/terminal.hpp"
#include "client/operations.hpp"
#include "core/error.hpp"
#include "core/program.hpp"
#include "installer/packed.hpp"
#include "installer/payload.hpp"
#include "net/downloader.hpp"

namespace {

// Runs a command, turning what it throws into the error line (or --json object) and exit code
// every command reports failures with.
int reporting_failures(bool json, const std::function<int()>& command) {
    using namespace ferry::cli;
    try {
        return command();
    } catch (const ferry::client::OperationError& e) {
        report_failure(e, json);
        return e.exit_code();
    } catch (const UsageError& e) {
        report_failure(e, json);
        return kExitUsage;
    } catch (const ferry::net::Cancelled& e) {
        // Ctrl-C or SIGTERM cut a download: nothing was changed, and the next run continues
        // the download from its .part.
        report_failure(ferry::Error(std::string("cancelled; nothing was changed (") + e.what() +
                                    "; the next run continues the download)"),
                       json);
        return ferry::client::kCanceled;
    } catch (const ferry::Error& e) {
        report_failure(e, json);
    } catch (const std::bad_alloc&) {
        report_failure(ferry::Error("out of memory", ferry::ErrorKind::storage), json);
    } catch (const std::exception& e) {
        // Only a bug gets here: every expected failure is a ferry::Error naming its input.
        const ferry::Error error = ferry::as_error(e);
        report_failure(
            error.kind() == ferry::ErrorKind::internal
                ? ferry::Error("internal error (a bug in ferry): " + std::string(error.what()),
                               ferry::ErrorKind::internal)
                : error,
            json);
    }
    return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace ferry::cli;
    // A file size limit or a full disk must surface as a write error, not kill the process.
    std::signal(SIGXFSZ, SIG_IGN);
    // Reading a large index allocates and frees tens of megabytes in many steps; by default
    // glibc gives the heap's top back to the kernel each time it shrinks and faults it in again
    // when it grows. Keeping up to 64 MiB of it makes the update decision on 5,000 components
    // several times faster where page faults are expensive (virtual machines).
    mallopt(M_TOP_PAD, 64 << 20);
    std::vector<std::string> args(argv, argv + argc);
    const std::string invoked = std::filesystem::path(args[0]).filename().string();
    // An installer or a maintenance tool: ferry with a payload after its own bytes.
    std::optional<ferry::installer::Payload> payload;
    try {
        if (const auto self = ferry::installer::own_executable(args[0])) {
            payload = ferry::installer::open_payload(*self);
        }
    } catch (const ferry::Error& e) {
        print_error(invoked, e.what());
        return kExitFailure;
    }
    if (payload && payload->manifest.kind == ferry::installer::PayloadKind::installer) {
        const bool json = std::find(args.begin(), args.end(), "--json") != args.end();
        return reporting_failures(json, [&] { return run_installer(*payload, args); });
    }
    if (payload) {
        ferry::core::set_maintenance_tool(payload->file);
        args = maintenance_tool_arguments(*payload, std::move(args));
    }
    if (invoked == "repogen") {
        args.insert(args.begin() + 1, "repogen");
    }

    CLI::App app{
        "ferry: delivers multi-component applications and keeps installations up to "
        "date.\nRepositories are IFW-compatible (Updates.xml) and reproducible."};
    // A maintenance tool's help and messages name it.
    app.name(payload ? invoked : "ferry");
    app.set_version_flag("--version", std::string("ferry ") + FERRY_VERSION);
    app.require_subcommand(1);
    CommandAction run;
    add_repogen_command(app, run);
    add_repo_command(app, run);
    add_client_commands(app, run);
    add_repos_command(app, run);
    add_market_commands(app, run);
    add_publish_command(app, run);
    add_export_command(app, run);
    add_import_command(app, run);
    add_inventory_command(app, run);
    add_installer_command(app, run);

    if (const auto typed = unknown_command(app, args)) {
        const auto nearest = nearest_command(app, *typed);
        const std::string& program = ferry::core::program_name();
        print_error(
            program,
            fmt::format("unknown command \"{}\"{}; `{} --help` lists the commands", *typed,
                        nearest ? fmt::format(" (did you mean \"{}\"?)", *nearest) : std::string(),
                        program));
        return kExitUsage;
    }
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);
        app.parse(std::move(reversed));
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }
    return reporting_failures(json_requested(app), [&] { return run ? run() : kExitOk; });
}
