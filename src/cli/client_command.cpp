// The client commands on a target directory: install, update, check-updates, remove, list,
// search, rollback, verify and repos, with IFW's short names and exit codes.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <regex>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/terminal.hpp"
#include "client/operations.hpp"
#include "client/resolver.hpp"
#include "net/url.hpp"

namespace ferry::cli {

namespace {

using Json = nlohmann::json;
using client::ExitCode;

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

struct ClientArgs {
    std::string root;
    std::vector<std::string> repositories;
    std::string ca_file;
    std::vector<std::string> names;
    bool json = false;
    bool xml = false;
    bool quiet = false;
    bool verbose = false;
    bool all = false;
    bool accept_licenses = false;
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

    client::Reporter reporter() {
        client::Reporter reporter;
        reporter.info = [this](std::string_view text) { say(text); };
        reporter.detail = [this](std::string_view text) {
            if (args_.verbose) {
                say(text);
            }
        };
        reporter.warning = [this](std::string_view text) {
            progress_.finish();
            std::fprintf(stderr, "ferry: %.*s\n", static_cast<int>(text.size()), text.data());
        };
        reporter.progress = [this](std::string_view label, std::uint64_t done,
                                   std::uint64_t total) { show(label, done, total); };
        reporter.progress_done = [this] {
            progress_.finish();
            started_ = false;
        };
        reporter.cancelled = [] { return cancel_requested.load(); };
        return reporter;
    }

    void say(std::string_view text) {
        if (!args_.quiet) {
            progress_.finish();
            std::fprintf(stderr, "%.*s\n", static_cast<int>(text.size()), text.data());
        }
    }

  private:
    void show(std::string_view label, std::uint64_t done, std::uint64_t total) {
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
                        std::string(20 - filled, '.'), percent, human_bytes(done),
                        human_bytes(total), human_bytes(static_cast<std::uint64_t>(rate)), eta),
            done == total);
    }

    const ClientArgs& args_;
    ProgressLine progress_;
    bool started_ = false;
    std::chrono::steady_clock::time_point start_;
};

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

client::Session open_session(const ClientArgs& args, Console& console, bool create) {
    catch_cancel();
    client::SessionOptions options;
    apply_timeout_from_environment(options.download);
    options.root = args.root;
    options.create = create;
    options.add_repositories = args.repositories;
    options.download.ca_file = args.ca_file;
    options.reporter = console.reporter();
    return client::Session(std::move(options));
}

void print_json(const Json& json) {
    std::printf("%s\n", json.dump(2).c_str());
}

std::string root_hint(const client::Session& session) {
    return session.installation().root().string();
}

int report_result(const ClientArgs& args, Console& console, const client::Session& session,
                  const client::OperationResult& result, std::string_view nothing) {
    if (args.json) {
        Json changes = Json::array();
        for (const auto& change : result.changes) {
            changes.push_back({{"action", client::to_string(change.kind)},
                               {"name", change.name},
                               {"old_version", change.old_version},
                               {"new_version", change.new_version},
                               {"reason", change.reason}});
        }
        print_json({{"root", root_hint(session)},
                    {"changes", changes},
                    {"already_installed", result.already_installed},
                    {"scripts_skipped", result.scripts_skipped},
                    {"licenses", result.licenses},
                    {"downloaded_bytes", result.downloaded_bytes},
                    {"exit_code", result.exit_code}});
    } else {
        for (const auto& name : result.already_installed) {
            console.say(fmt::format("{} is installed already", name));
        }
        for (const auto& change : result.changes) {
            std::string versions = change.old_version.empty() ? change.new_version
                                   : change.new_version.empty()
                                       ? change.old_version
                                       : change.old_version + " -> " + change.new_version;
            console.say(fmt::format("{:<9} {} {}{}", client::to_string(change.kind), change.name,
                                    versions,
                                    change.reason.empty() ? "" : " (" + change.reason + ")"));
        }
        if (result.changes.empty() && result.already_installed.empty()) {
            console.say(nothing);
        }
        for (const auto& licence : result.licenses) {
            console.say(fmt::format("licence copied to {}", licence));
        }
    }
    if (!result.scripts_skipped.empty()) {
        std::string names;
        for (const auto& name : result.scripts_skipped) {
            names += (names.empty() ? "" : ", ") + name;
        }
        std::fprintf(stderr,
                     "ferry: note: ferry does not run IFW component scripts or operations; these "
                     "components were installed from their archives without them: %s\n",
                     names.c_str());
    }
    if (result.exit_code == ExitCode::kEssentialUpdated) {
        console.say(fmt::format(
            "essential updates were applied; run `ferry update --root {}` again for the others",
            root_hint(session)));
    }
    return result.exit_code;
}

int run_install(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, true);
    const auto result = client::install(session, {args.names, args.accept_licenses});
    return report_result(args, console, session, result, "nothing to install");
}

int run_update(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, false);
    const auto result = client::update(session, args.names, args.accept_licenses);
    return report_result(args, console, session, result, "everything is up to date");
}

int run_remove(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, false);
    const auto result = client::remove(session, args.names);
    return report_result(args, console, session, result, "nothing to remove");
}

int run_rollback(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, false);
    const auto result = client::rollback(session, args.names);
    return report_result(args, console, session, result, "nothing to roll back");
}

std::string xml_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

int run_check(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, false);
    // -v shows where the time goes: reading the repositories, the installation, the decision.
    using Clock = std::chrono::steady_clock;
    auto started = Clock::now();
    auto lap = [&] {
        const auto now = Clock::now();
        const double ms = std::chrono::duration<double, std::milli>(now - started).count();
        started = now;
        return ms;
    };
    const auto& indexes = session.indexes();
    const double read_ms = lap();
    const auto& installed = session.installed();
    const double installed_ms = lap();
    const auto& remote = session.remote();
    const client::UpdateCheck check = client::check(session);
    const double decided_ms = lap();
    if (args.verbose) {
        std::size_t offered = 0;
        for (const auto& repository : indexes.repositories) {
            offered += repository.index.packages.size();
        }
        console.say(
            fmt::format("read {} repositories ({} components, {} bytes transferred) in {:.1f} ms; "
                        "components.xml ({} components) in {:.1f} ms; decided in {:.1f} ms",
                        indexes.repositories.size(), offered, indexes.bytes_transferred, read_ms,
                        installed.components.size(), installed_ms, decided_ms));
    }
    if (args.xml) {
        // IFW's check-updates output, for integrators that parse it.
        std::printf("<updates>\n");
        for (const auto& update : check.updates) {
            const auto* component = remote.find(update.name);
            std::string title = update.name;
            if (component != nullptr && !component->update.component.display_names.empty()) {
                title = component->update.component.display_names.front().text;
            }
            std::printf("    <update name=\"%s\" version=\"%s\" size=\"%llu\" id=\"%s\"/>\n",
                        xml_escape(title).c_str(), xml_escape(update.new_version).c_str(),
                        static_cast<unsigned long long>(
                            component != nullptr ? component->update.uncompressed_size : 0),
                        xml_escape(update.name).c_str());
        }
        std::printf("</updates>\n");
    } else if (args.json) {
        Json updates = Json::array();
        std::map<std::string, std::string> shown_urls;  // repository URL -> without credentials
        for (const auto& update : check.updates) {
            // Filled field by field: initializer lists copy every value, which shows at
            // thousands of updates.
            Json& entry = updates.emplace_back();
            entry["name"] = update.name;
            entry["installed_version"] = update.installed_version;
            entry["new_version"] = update.new_version;
            entry["reason"] = client::to_string(update.reason);
            entry["essential"] = update.essential;
            entry["forced_update"] = update.forced_update;
            auto shown = shown_urls.find(update.repository_url);
            if (shown == shown_urls.end()) {
                shown = shown_urls
                            .emplace(update.repository_url,
                                     net::strip_credentials(update.repository_url))
                            .first;
            }
            entry["repository"] = shown->second;
        }
        print_json({{"root", root_hint(session)},
                    {"updates", std::move(updates)},
                    {"mandatory_pending", check.mandatory_pending},
                    {"mandatory", check.mandatory_names},
                    {"bytes_transferred", session.indexes().bytes_transferred}});
    } else if (check.updates.empty()) {
        console.say("There are currently no updates available.");
    } else {
        for (const auto& update : check.updates) {
            std::printf("%s %s -> %s%s\n", update.name.c_str(),
                        update.installed_version.empty() ? "(not installed)"
                                                         : update.installed_version.c_str(),
                        update.new_version.c_str(),
                        update.essential       ? " (essential)"
                        : update.forced_update ? " (forced)"
                                               : "");
        }
        if (check.mandatory_pending) {
            console.say(
                fmt::format("essential or forced updates are pending; run `ferry update "
                            "--root {}` before installing anything else",
                            root_hint(session)));
        }
    }
    return check.mandatory_pending ? ExitCode::kForceUpdate : ExitCode::kSuccess;
}

int run_list(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, false);
    const auto installed = session.installation().components();
    Json list = Json::array();
    for (const auto& component : installed.components) {
        if (component.is_virtual && !args.all) {
            continue;
        }
        if (args.json) {
            list.push_back({{"name", component.name},
                            {"version", component.version},
                            {"title", component.title},
                            {"description", component.description},
                            {"install_date", component.install_date},
                            {"last_update_date", component.last_update_date},
                            {"size", component.size},
                            {"virtual", component.is_virtual}});
        } else {
            std::printf("%s %s  %s\n", component.name.c_str(), component.version.c_str(),
                        component.title.c_str());
        }
    }
    if (args.json) {
        print_json({{"root", root_hint(session)},
                    {"application_name", installed.application_name},
                    {"components", list}});
    }
    return ExitCode::kSuccess;
}

int run_search(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, false);
    const std::string pattern = args.names.empty() ? "" : args.names.front();
    std::regex expression;
    try {
        expression = std::regex(pattern, std::regex::icase | std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        throw Error::format("search pattern \"{}\" is not a valid regular expression: {}", pattern,
                            e.what());
    }
    const auto installed = session.installation().components();
    Json found = Json::array();
    std::size_t count = 0;
    for (const auto& component : session.remote().components) {
        const auto& c = component.update.component;
        const std::string title = c.display_names.empty() ? "" : c.display_names[0].text;
        if (!client::is_visible(c, args.all) ||
            !(std::regex_search(c.name, expression) || std::regex_search(title, expression))) {
            continue;
        }
        ++count;
        const auto* local = installed.find(c.name);
        if (args.json) {
            found.push_back({{"name", c.name},
                             {"version", c.version},
                             {"title", title},
                             {"installed_version", local ? local->version : ""},
                             {"repository", net::strip_credentials(component.repository_url)}});
        } else {
            std::printf("%s %s  %s%s\n", c.name.c_str(), c.version.c_str(), title.c_str(),
                        local ? (" [installed " + local->version + "]").c_str() : "");
        }
    }
    if (args.json) {
        print_json({{"root", root_hint(session)}, {"components", found}});
    } else if (count == 0) {
        console.say(fmt::format("no component matches \"{}\"", pattern));
    }
    return count == 0 ? ExitCode::kNoPackagesFound : ExitCode::kSuccess;
}

int run_verify(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, false);
    const auto result = client::verify(session, args.names);
    if (args.json) {
        Json problems = Json::array();
        for (const auto& problem : result.problems) {
            problems.push_back({{"component", problem.component},
                                {"path", problem.path},
                                {"problem", client::to_string(problem.kind)},
                                {"detail", problem.detail}});
        }
        print_json({{"root", root_hint(session)},
                    {"ok", result.problems.empty()},
                    {"components", result.checked},
                    {"unrecorded", result.unrecorded},
                    {"files", result.files},
                    {"problems", problems}});
    } else {
        for (const auto& problem : result.problems) {
            std::printf("%s: %s: %s (%s)\n", problem.component.c_str(), problem.path.c_str(),
                        std::string(client::to_string(problem.kind)).c_str(),
                        problem.detail.c_str());
        }
        for (const auto& name : result.unrecorded) {
            console.say(
                fmt::format("{}: installed by another tool; no file record to check", name));
        }
        console.say(fmt::format("{}: {} ({} components, {} files checked)", root_hint(session),
                                result.problems.empty()
                                    ? std::string("OK")
                                    : fmt::format("{} problems", result.problems.size()),
                                result.checked.size(), result.files));
    }
    return result.problems.empty() ? ExitCode::kSuccess : ExitCode::kFailure;
}

int run_repos_list(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, false);
    Json list = Json::array();
    for (const auto& repository : session.settings().repositories) {
        const bool has_credentials = !repository.username.empty() || !repository.password.empty();
        if (args.json) {
            list.push_back({{"url", repository.url},
                            {"priority", repository.priority},
                            {"display_name", repository.display_name},
                            {"enabled", repository.enabled},
                            {"credentials", has_credentials}});
        } else {
            std::printf(
                "%s  priority %d%s%s%s\n", repository.url.c_str(), repository.priority,
                repository.enabled ? "" : "  (disabled)",
                has_credentials ? "  (with credentials)" : "",
                repository.display_name.empty() ? "" : ("  " + repository.display_name).c_str());
        }
    }
    if (args.json) {
        print_json({{"root", root_hint(session)}, {"repositories", list}});
    }
    return ExitCode::kSuccess;
}

int run_repos_add(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, true);
    std::string url = args.url;
    if (!args.username.empty() || !args.password.empty()) {
        url = net::split_credentials(url).url;
    }
    const std::string stored =
        client::add_repository(session.settings(), url, args.priority, args.display_name);
    if (!args.username.empty() || !args.password.empty()) {
        auto* setting = session.settings().find(stored);
        setting->username = args.username;
        setting->password = args.password;
    }
    session.save_settings();
    console.say(fmt::format("repository {} added to {}", stored, root_hint(session)));
    return ExitCode::kSuccess;
}

int run_repos_remove(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, false);
    if (!client::remove_repository(session.settings(), args.url)) {
        throw Error::format("{}: no repository {} in the settings", root_hint(session),
                            net::strip_credentials(args.url));
    }
    session.save_settings();
    console.say(fmt::format("repository {} removed", net::strip_credentials(args.url)));
    return ExitCode::kSuccess;
}

// Options every client command takes.
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
        ->allow_extra_args(false);
    cmd->add_option("--ca-file", args.ca_file,
                    "PEM certificates to trust for https repositories instead of the system's")
        ->envname("FERRY_CA_FILE");
}

}  // namespace

void add_client_commands(CLI::App& app, CommandAction& run) {
    auto args = std::make_shared<ClientArgs>();
    auto command = [&](const char* name, const char* alias, const char* help,
                       int (*action)(const ClientArgs&)) {
        CLI::App* cmd = app.add_subcommand(name, help);
        if (alias != nullptr) {
            cmd->alias(alias);
        }
        cmd->callback([&run, args, action] { run = [args, action] { return action(*args); }; });
        return cmd;
    };

    auto* install = command("install", "in",
                            "Install components (the default set when none are named) and what "
                            "they depend on",
                            run_install);
    add_common(install, *args, true);
    add_network(install, *args);
    install->add_option("COMPONENT", args->names, "Components to install");
    install->add_flag("--accept-licenses", args->accept_licenses,
                      "Accept the licences of the components (copied into <root>/Licenses)");

    auto* update = command("update", "up", "Update all or the named components", run_update);
    add_common(update, *args, true);
    add_network(update, *args);
    update->add_option("COMPONENT", args->names, "Components to update (default: all)");
    update->add_flag("--accept-licenses", args->accept_licenses,
                     "Accept the licences of components the update installs");

    auto* check = command("check-updates", "ch", "Show the available updates", run_check);
    add_common(check, *args, true);
    add_network(check, *args);
    check->add_flag("--xml", args->xml, "IFW's <updates> format on stdout");

    auto* remove =
        command("remove", "rm", "Remove components and the installed components that need them",
                run_remove);
    add_common(remove, *args, true);
    remove->add_option("COMPONENT", args->names, "Components to remove")->required();

    auto* list = command("list", "li", "List the installed components", run_list);
    add_common(list, *args, true);
    list->add_flag("--all", args->all, "Include virtual components");

    auto* search = command("search", "se",
                           "Search the repositories' components by name or title (a regular "
                           "expression)",
                           run_search);
    add_common(search, *args, true);
    add_network(search, *args);
    search->add_option("PATTERN", args->names, "Regular expression (default: everything)");
    search->add_flag("--all", args->all, "Include virtual components");

    auto* rollback = command("rollback", nullptr,
                             "Put back the previous version of updated components", run_rollback);
    add_common(rollback, *args, true);
    rollback->add_option("COMPONENT", args->names,
                         "Components to roll back (default: every one with a kept version)");

    auto* verify = command("verify", nullptr,
                           "Check the installed files against what was installed", run_verify);
    add_common(verify, *args, true);
    verify->add_option("COMPONENT", args->names, "Components to check (default: all)");

    auto* repos = app.add_subcommand("repos", "The target's repositories");
    repos->require_subcommand(1);
    auto* repos_list = repos->add_subcommand("list", "List the repositories");
    add_common(repos_list, *args, true);
    repos_list->callback([&run, args] { run = [args] { return run_repos_list(*args); }; });
    auto* repos_add = repos->add_subcommand("add", "Add a repository (or change its settings)");
    add_common(repos_add, *args, false);
    repos_add->add_option("URL", args->url, "Repository URL (file://, http://, https://)")
        ->required();
    repos_add->add_option("--priority", args->priority,
                          "Higher wins when two repositories offer one version");
    repos_add->add_option("--name", args->display_name, "A name to show");
    repos_add->add_option("--username", args->username, "User name for the repository");
    repos_add->add_option("--password", args->password,
                          "Password (stored readable by the owner only, never printed)");
    repos_add->callback([&run, args] { run = [args] { return run_repos_add(*args); }; });
    auto* repos_remove = repos->add_subcommand("remove", "Remove a repository");
    add_common(repos_remove, *args, false);
    repos_remove->add_option("URL", args->url, "Repository URL")->required();
    repos_remove->callback([&run, args] { run = [args] { return run_repos_remove(*args); }; });
}

}  // namespace ferry::cli
