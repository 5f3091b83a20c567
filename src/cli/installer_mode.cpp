// ferry started as an installer or as a maintenance tool (a payload appended to it, see
// installer/payload.hpp). An installer takes IFW's installer command line: `FILE --root DIR
// --accept-licenses install [COMPONENT...]`, and on a terminal with no command it walks the
// user through the installation. A maintenance tool is ferry's client on the installation it
// sits in, with IFW's option names and check-updates' XML output.
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "cli/client_console.hpp"
#include "cli/command_errors.hpp"
#include "cli/commands.hpp"
#include "cli/installer_run.hpp"
#include "cli/terminal.hpp"
#include "core/files.hpp"
#include "installer/maintenance.hpp"
#include "net/downloader.hpp"

namespace ferry::cli {

namespace {

struct InstallerArgs {
    std::string root;
    std::vector<std::string> names;
    bool accept_licenses = false;
    bool json = false;
    bool quiet = false;
    bool verbose = false;
};

ClientArgs normalized(ClientArgs args) {
    args.root = fs::absolute(args.root).lexically_normal().string();
    return args;
}

}  // namespace

MadeTarget::MadeTarget(const fs::path& root) : root_(root), existed_(fs::exists(root)) {}

MadeTarget::~MadeTarget() {
    if (!existed_ && !kept_) {
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }
}

PayloadInstall::PayloadInstall(const installer::Payload& payload, ClientArgs args)
    : payload_(payload),
      args_(normalized(std::move(args))),
      root_(args_.root),
      made_(root_),
      console_(args_) {
    const auto& config = payload.manifest.config;
    if (fs::exists(root_) && !fs::is_directory(root_)) {
        throw UsageError(fmt::format("target {} is not a directory", root_.string()));
    }
    fs::create_directories(root_.parent_path());
    if (payload.manifest.offline) {
        // Unpacked beside the target (the same file system) and read for this install only.
        unpacked_.emplace(root_.parent_path(), "." + root_.filename().string() + ".payload-");
        args_.session_repositories.push_back("file://" +
                                             (unpacked_->path() / "repository").string());
    } else if (!config.market.url.empty()) {
        args_.market = config.market.url;
        args_.market_token = config.market.token;
        args_.names.insert(args_.names.begin(), config.market.app);
        args_ = resolve_market_app(std::move(args_));
    }
    // The session first: from here on Ctrl-C asks to stop at the next safe point, and the
    // install that follows the unpacking stops before it changes anything.
    session_.emplace(open_session(args_, console_, true));
    if (payload.manifest.offline) {
        console_.say(
            fmt::format("unpacking the installer's {} repository", human_bytes(payload.size)));
        installer::extract_repository(payload, unpacked_->path());
    } else {
        // An online installer reads the configuration's repositories from the start.
        installer::add_remote_repositories(session_->settings(), config);
        session_->save_settings();
    }
}

int PayloadInstall::install(const std::vector<std::string>& names, bool accept_licenses) {
    const auto& config = payload_.manifest.config;
    const auto result = client::install(*session_, {names, accept_licenses, /*overwrite=*/false});
    made_.keep();
    if (payload_.manifest.offline && !config.repositories.empty()) {
        // Read from now on, by the maintenance tool: an offline install itself needs no network.
        installer::add_remote_repositories(session_->settings(), config);
        session_->save_settings();
    }
    const fs::path tool = installer::write_maintenance_tool(payload_, root_);
    const int code = report_result(args_, console_, *session_, result, "nothing to install");
    if (!args_.json) {
        console_.say(fmt::format(
            "{} is installed in {}; {} checks for updates and changes "
            "the installation",
            installer::product_label(config, config.title), root_.string(), tool.string()));
    }
    return code;
}

int run_installer(const installer::Payload& payload, std::vector<std::string> args) {
    const auto& config = payload.manifest.config;
    const std::string self = payload.file.filename().string();
    CLI::App app{fmt::format(
        "{} {}: {} installer.\nInstalls into the target directory (default {}); on a terminal "
        "without a command it asks what to install and where.",
        config.title, config.version, payload.manifest.offline ? "offline" : "online",
        installer::default_target(config, payload.file).string())};
    app.name(self);
    app.set_version_flag(
        "--version",
        fmt::format("{} (ferry {})", installer::product_label(config, config.name), FERRY_VERSION));
    app.fallthrough();
    InstallerArgs given;
    app.add_option("-t,--root", given.root, "The target directory");
    app.add_flag("--al,--accept-licenses", given.accept_licenses,
                 "Accept the components' licences (copied into <root>/Licenses)");
    for (const char* accepted :
         {"-c,--confirm-command", "--da,--default-answer", "--am,--accept-messages"}) {
        app.add_flag(accepted)->description("Accepted for IFW's scripts: a command asks nothing");
    }
    app.add_flag("--json", given.json, "Machine-readable output on stdout");
    app.add_flag("-q,--quiet", given.quiet, "Print only errors");
    app.add_flag("-v,--verbose", given.verbose, "Say more about each step");
    auto* install = app.add_subcommand(
        "install", "Install the named components (the default set when none are named)");
    install->alias("in");
    install->add_option("COMPONENT", given.names, "Components to install");
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);
        app.parse(std::move(reversed));
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }
    ClientArgs client;
    client.root =
        given.root.empty() ? installer::default_target(config, payload.file).string() : given.root;
    client.names = given.names;
    client.accept_licenses = given.accept_licenses;
    client.json = given.json;
    client.quiet = given.quiet;
    client.verbose = given.verbose;
    if (!install->parsed()) {
        if (::isatty(STDIN_FILENO) == 1 && stderr_is_terminal() && !given.json) {
            return run_wizard(payload, client);
        }
        throw UsageError(
            fmt::format("nothing to do: `{} --root DIR --accept-licenses install` "
                        "installs (`--help` says more); without a command the "
                        "installer asks its questions on a terminal",
                        self));
    }
    PayloadInstall run(payload, client);
    return run.install(run.names(), client.accept_licenses);
}

std::vector<std::string> maintenance_tool_arguments(const installer::Payload& payload,
                                                    std::vector<std::string> args) {
    // The installation is the directory the tool sits in.
    ::setenv("FERRY_ROOT", payload.file.parent_path().c_str(), 1);
    std::vector<std::string> out{args.front()};
    bool data_format = false;
    std::optional<std::size_t> command;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "-t") {
            out.emplace_back("--root");
        } else if (arg == "--al") {
            out.emplace_back("--accept-licenses");
        } else if (arg == "-c" || arg == "--confirm-command" || arg == "--da" ||
                   arg == "--default-answer" || arg == "--am" || arg == "--accept-messages") {
            // IFW's switches against questions: ferry's commands ask none.
        } else {
            if (arg == "--json" || arg == "--xml") {
                data_format = true;
            }
            if (!command && !arg.empty() && arg.front() != '-') {
                command = out.size();
            }
            out.push_back(arg);
        }
    }
    // IFW's maintenance tool answers check-updates in XML; scripts parse it.
    if (command && (out[*command] == "check-updates" || out[*command] == "ch") && !data_format) {
        out.emplace_back("--xml");
    }
    return out;
}

}  // namespace ferry::cli
