// The client commands on a target directory: install, update, check-updates, remove, list,
// search, rollback and verify, with IFW's short names and exit codes.
#include <regex.h>

#include <cstdio>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/client_console.hpp"
#include "cli/command_errors.hpp"
#include "cli/commands.hpp"
#include "cli/market_options.hpp"
#include "cli/terminal.hpp"
#include "client/operations.hpp"
#include "client/resolver.hpp"
#include "core/program.hpp"
#include "core/text.hpp"
#include "market/market_client.hpp"
#include "net/api_client.hpp"
#include "net/url.hpp"

namespace ferry::cli {

namespace {

using Json = nlohmann::json;
using client::ExitCode;

constexpr const char* kStartHelp =
    "Start the service components (docker compose up) and wait until their health probes pass";
constexpr const char* kOverwriteHelp =
    "Replace files in the way that no installed component owns (refused otherwise)";

// What became of the installation's services: for people, on stderr.
void report_services(Console& console, const client::Session& session,
                     const client::ServicesOutcome& services) {
    if (!services.docker_missing.empty()) {
        print_line(stderr,
                   fmt::format("{}: note: the Compose project is laid out in {}, but {}",
                               core::program_name(), root_hint(session), services.docker_missing));
        return;
    }
    for (const auto& tag : services.loaded) {
        console.say(fmt::format("loaded image {}", tag));
    }
    if (services.started) {
        console.say(fmt::format("services running: {}", fmt::join(services.services, ", ")));
    } else if (services.stopped) {
        console.say("services stopped and removed");
    } else if (!services.services.empty()) {
        console.say(
            fmt::format("services ready: {} (start them with --start, or docker compose "
                        "up -d in {})",
                        fmt::join(services.services, ", "), root_hint(session)));
    }
}

}  // namespace

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
        const auto& services = result.services;
        print_json({{"root", root_hint(session)},
                    {"changes", changes},
                    {"services",
                     {{"services", services.services},
                      {"loaded_images", services.loaded},
                      {"started", services.started},
                      {"stopped", services.stopped},
                      {"docker_missing", services.docker_missing}}},
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
        print_line(stderr, core::program_name() +
                               ": note: ferry does not run IFW component scripts or "
                               "operations; these components were installed from their "
                               "archives without them: " +
                               names);
    }
    report_services(console, session, result.services);
    if (result.exit_code == ExitCode::kEssentialUpdated) {
        console.say(fmt::format("essential updates were applied; run {} again for the others",
                                core::suggested_command("update", session.installation().root())));
    }
    return result.exit_code;
}

ClientArgs resolve_market_app(ClientArgs args) {
    if (args.names.empty()) {
        throw UsageError(
            "--market needs the app to install: ferry install --market URL APP[@MAJOR]");
    }
    const std::string wanted = args.names.front();
    args.names.erase(args.names.begin());
    // The market's API is asked with the trust the repository downloads get: a market with a
    // private CA is reached through --ca-file for both.
    net::ApiClient api(args.market, args.market_token, api_options(args.ca_file));
    market::AppVersion chosen;
    try {
        chosen = market::resolve_app_version(api, wanted);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::not_found) {
            throw;
        }
        throw client::OperationError(client::kNoPackagesFound, e.what());
    }
    args.repositories.push_back(market::repository_url(api.base_url(), chosen, args.market_token));
    return args;
}

namespace {

int run_install(const ClientArgs& given) {
    const ClientArgs args = given.market.empty() ? given : resolve_market_app(given);
    Console console(args);
    client::Session session = open_session(args, console, true);
    const auto result =
        client::install(session, {args.names, args.accept_licenses, args.overwrite});
    return report_result(args, console, session, result, "nothing to install");
}

int run_update(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, false);
    const auto result = client::update(session, args.names, args.accept_licenses, args.overwrite);
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
    const auto result = client::rollback(session, args.names, args.overwrite);
    return report_result(args, console, session, result, "nothing to roll back");
}

std::string xml_escape(std::string_view text) {
    std::string out;
    for (char c : core::printable_text(text)) {
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
        console.say(fmt::format(
            "read {} ({}, {} transferred) in {:.1f} ms; "
            "components.xml ({}) in {:.1f} ms; decided in {:.1f} ms",
            count_of(indexes.repositories.size(), "repository", "repositories"),
            count_of(offered, "component"), count_of(indexes.bytes_transferred, "byte"), read_ms,
            count_of(installed.components.size(), "component"), installed_ms, decided_ms));
        // Why each installed component is or is not offered (check-updates -v).
        for (const auto& component : installed.components) {
            const auto* offered = remote.find(component.name);
            console.say(fmt::format("{} {}: {}", component.name, component.version,
                                    offered != nullptr
                                        ? client::explain_update(component, offered->update)
                                        : std::string("not offered: no repository has it")));
        }
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
            print_line(stdout,
                       fmt::format("{} {} -> {}{}", update.name,
                                   update.installed_version.empty() ? "(not installed)"
                                                                    : update.installed_version,
                                   update.new_version,
                                   update.essential       ? " (essential)"
                                   : update.forced_update ? " (forced)"
                                                          : ""));
        }
        if (check.mandatory_pending) {
            console.say(
                fmt::format("essential or forced updates are pending; run {} before "
                            "installing anything else",
                            core::suggested_command("update", session.installation().root())));
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
            print_line(stdout, fmt::format("{} {}  {}", component.name, component.version,
                                           component.title));
        }
    }
    if (args.json) {
        print_json({{"root", root_hint(session)},
                    {"application_name", installed.application_name},
                    {"components", list}});
    }
    return ExitCode::kSuccess;
}

// A search pattern as IFW's `search` takes it: a regular expression (POSIX extended here),
// matched anywhere in the text, case-insensitively.
class SearchPattern {
  public:
    explicit SearchPattern(const std::string& pattern) {
        const int status =
            ::regcomp(&regex_, pattern.c_str(), REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (status != 0) {
            char cause[256];
            ::regerror(status, &regex_, cause, sizeof cause);
            throw UsageError(fmt::format(
                "search pattern \"{}\" is not a valid regular expression: {}", pattern, cause));
        }
    }
    ~SearchPattern() { ::regfree(&regex_); }
    SearchPattern(const SearchPattern&) = delete;
    SearchPattern& operator=(const SearchPattern&) = delete;

    bool matches(const std::string& text) const {
        return ::regexec(&regex_, text.c_str(), 0, nullptr, 0) == 0;
    }

  private:
    regex_t regex_{};
};

int run_search(const ClientArgs& args) {
    // The pattern first: a pattern that cannot work is the command line's fault, whatever the
    // target holds.
    const std::string pattern = args.names.empty() ? "" : args.names.front();
    const SearchPattern expression(pattern);
    Console console(args);
    client::Session session = open_session(args, console, false);
    const auto installed = session.installation().components();
    Json found = Json::array();
    std::size_t count = 0;
    for (const auto& component : session.remote().components) {
        const auto& c = component.update.component;
        const std::string title = c.display_names.empty() ? "" : c.display_names[0].text;
        if (!client::is_visible(c, args.all) ||
            !(expression.matches(c.name) || expression.matches(title))) {
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
            print_line(stdout, fmt::format("{} {}  {}{}", c.name, c.version, title,
                                           local ? " [installed " + local->version + "]" : ""));
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
            print_line(stdout, fmt::format("{}: {}: {} ({})", problem.component, problem.path,
                                           client::to_string(problem.kind), problem.detail));
        }
        for (const auto& name : result.unrecorded) {
            console.say(
                fmt::format("{}: installed by another tool; no file record to check", name));
        }
        console.say(fmt::format(
            "{}: {} ({}, {} checked)", root_hint(session),
            result.problems.empty() ? std::string("OK")
                                    : count_of(result.problems.size(), "problem"),
            count_of(result.checked.size(), "component"), count_of(result.files, "file")));
    }
    return result.problems.empty() ? ExitCode::kSuccess : ExitCode::kFailure;
}

int run_status(const ClientArgs& args) {
    Console console(args);
    client::Session session = open_session(args, console, false);
    std::fputs(client::services_status(session.installation()).c_str(), stdout);
    return ExitCode::kSuccess;
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
    install->add_option("COMPONENT", args->names,
                        "Components to install (with --market: APP[@MAJOR], then components)");
    install->add_option("--market", args->market,
                        "Install an app from this market: its repository joins the settings");
    install->add_option("--token", args->market_token, "A token for a private market")
        ->envname("FERRY_TOKEN");
    install->add_flag("--accept-licenses", args->accept_licenses,
                      "Accept the licences of the components (copied into <root>/Licenses)");
    install->add_flag("--overwrite", args->overwrite, kOverwriteHelp);
    install->add_flag("--start", args->start, kStartHelp);

    auto* update = command("update", "up", "Update all or the named components", run_update);
    add_common(update, *args, true);
    add_network(update, *args);
    update->add_option("COMPONENT", args->names, "Components to update (default: all)");
    update->add_flag("--accept-licenses", args->accept_licenses,
                     "Accept the licences of components the update installs");
    update->add_flag("--overwrite", args->overwrite, kOverwriteHelp);
    update->add_flag("--start", args->start, kStartHelp);

    auto* check = command("check-updates", "ch", "Show the available updates", run_check);
    add_common(check, *args, true);
    add_network(check, *args);
    check->add_flag("--xml", args->xml, "IFW's <updates> format on stdout");

    auto* remove =
        command("remove", "rm", "Remove components and the installed components that need them",
                run_remove);
    add_common(remove, *args, true);
    remove->add_option("COMPONENT", args->names, "Components to remove")->required();
    remove->add_flag("--purge-data", args->purge_data,
                     "When no service is left, remove the services' data volumes too");

    auto* status =
        command("status", nullptr, "Show the state of the installation's services", run_status);
    add_common(status, *args, false);

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
    rollback->add_flag("--overwrite", args->overwrite, kOverwriteHelp);
    rollback->add_flag("--start", args->start, kStartHelp);

    auto* verify = command("verify", nullptr,
                           "Check the installed files against what was installed", run_verify);
    add_common(verify, *args, true);
    verify->add_option("COMPONENT", args->names, "Components to check (default: all)");
}

}  // namespace ferry::cli
