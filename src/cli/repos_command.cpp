// `ferry repos list|add|remove`: the repositories a target reads, with their priorities and
// credentials (stored apart, readable by the owner only, never printed).
#include <cstdio>

#include "cli/client_console.hpp"
#include "cli/command_errors.hpp"
#include "cli/commands.hpp"
#include "cli/terminal.hpp"
#include "net/url.hpp"

namespace ferry::cli {

namespace {

using Json = nlohmann::json;
using client::ExitCode;

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
            print_line(
                stdout,
                fmt::format("{}  priority {}{}{}{}", repository.url, repository.priority,
                            repository.enabled ? "" : "  (disabled)",
                            has_credentials ? "  (with credentials)" : "",
                            repository.display_name.empty() ? "" : "  " + repository.display_name));
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

}  // namespace

void add_repos_command(CLI::App& app, CommandAction& run) {
    auto args = std::make_shared<ClientArgs>();
    auto* repos = app.add_subcommand("repos", "The target's repositories");
    repos->require_subcommand(1);
    auto* repos_list = repos->add_subcommand("list", "List the repositories");
    add_common(repos_list, *args, true);
    repos_list->callback([&run, args] { run = [args] { return run_repos_list(*args); }; });
    auto* repos_add = repos->add_subcommand("add", "Add a repository (or change its settings)");
    add_common(repos_add, *args, false);
    repos_add
        ->add_option("URL", args->url,
                     "Repository URL (http://, https://, file:///PATH) or absolute path")
        ->required()
        ->transform(parsed_by(net::repository_url));
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
