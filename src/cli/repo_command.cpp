// `ferry repo verify` and `ferry repo redirect`: checking and maintaining a repository.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/terminal.hpp"
#include "core/error.hpp"
#include "net/downloader.hpp"
#include "net/url.hpp"
#include "repo/redirect.hpp"
#include "repo/verify.hpp"

namespace ferry::cli {

namespace {

struct VerifyArgs {
    std::string location;
    bool json = false;
};

int run_verify(const VerifyArgs& args) {
    const auto report = net::is_url(args.location) ? repo::verify_repository_url(args.location)
                                                   : repo::verify_repository(args.location);
    const std::string shown = net::strip_credentials(args.location);
    if (args.json) {
        nlohmann::json problems = nlohmann::json::array();
        for (const auto& p : report.problems) {
            problems.push_back({{"file", p.file}, {"problem", p.message}});
        }
        print_json(nlohmann::json{{"repository", shown},
                                  {"ok", report.ok()},
                                  {"components", report.components},
                                  {"files_checked", report.files_checked},
                                  {"problems", problems}});
    } else if (report.ok()) {
        std::printf("%s: OK (%s, %s checked)\n", shown.c_str(),
                    count_of(report.components, "component").c_str(),
                    count_of(report.files_checked, "file").c_str());
    } else {
        for (const auto& p : report.problems) {
            std::printf("%s: %s\n", p.file.c_str(), p.message.c_str());
        }
        std::printf("%s: %s (%s, %s checked)\n", shown.c_str(),
                    count_of(report.problems.size(), "problem").c_str(),
                    count_of(report.components, "component").c_str(),
                    count_of(report.files_checked, "file").c_str());
    }
    return report.ok() ? kExitOk : kExitFailure;
}

struct RedirectArgs {
    std::string repository;
    formats::RepositoryAction action;
    bool json = false;
};

void add_credentials(CLI::App* cmd, RedirectArgs& args) {
    cmd->add_option("--username", args.action.username, "User name for the repository");
    cmd->add_option("--password", args.action.password, "Password for the repository");
    cmd->add_option("--displayname", args.action.display_name,
                    "Name shown for the repository in clients' settings");
}

void add_redirect_commands(CLI::App* repo, CommandAction& run) {
    auto* redirect = repo->add_subcommand(
        "redirect",
        "Edit the RepositoryUpdate section of Updates.xml: tell clients to add, remove or "
        "replace repositories. URLs may be relative to the repository's own URL.");
    redirect->require_subcommand(1);
    using Kind = formats::RepositoryAction::Kind;

    auto args = std::make_shared<RedirectArgs>();
    auto* add = redirect->add_subcommand("add", "Clients add the repository at --url");
    add->add_option("REPOSITORY_DIR", args->repository)->required();
    add->add_option("--url", args->action.url, "The repository to add")->required();
    add_credentials(add, *args);
    add->callback([args, &run] {
        run = [args] {
            args->action.kind = Kind::add;
            repo::add_redirect(args->repository, args->action);
            return kExitOk;
        };
    });

    auto* remove = redirect->add_subcommand("remove", "Clients remove the repository at --url");
    remove->add_option("REPOSITORY_DIR", args->repository)->required();
    remove->add_option("--url", args->action.url, "The repository to remove")->required();
    remove->callback([args, &run] {
        run = [args] {
            args->action.kind = Kind::remove;
            repo::add_redirect(args->repository, args->action);
            return kExitOk;
        };
    });

    auto* replace = redirect->add_subcommand(
        "replace", "Clients replace the repository at --old-url with the one at --new-url");
    replace->add_option("REPOSITORY_DIR", args->repository)->required();
    replace->add_option("--old-url", args->action.old_url, "The repository to replace")->required();
    replace->add_option("--new-url", args->action.new_url, "The repository to use instead")
        ->required();
    add_credentials(replace, *args);
    replace->callback([args, &run] {
        run = [args] {
            args->action.kind = Kind::replace;
            repo::add_redirect(args->repository, args->action);
            return kExitOk;
        };
    });

    auto* drop = redirect->add_subcommand(
        "drop", "Delete the entries for --url (url or oldUrl) from RepositoryUpdate");
    drop->add_option("REPOSITORY_DIR", args->repository)->required();
    drop->add_option("--url", args->action.url, "The entry to delete")->required();
    drop->callback([args, &run] {
        run = [args] {
            const auto dropped = repo::drop_redirect(args->repository, args->action.url);
            if (dropped == 0) {
                throw Error::format("{}: no RepositoryUpdate entry for {}", args->repository,
                                    args->action.url);
            }
            return kExitOk;
        };
    });

    auto* list = redirect->add_subcommand("list", "Show the RepositoryUpdate entries");
    list->add_option("REPOSITORY_DIR", args->repository)->required();
    list->add_flag("--json", args->json, "Machine-readable output");
    list->callback([args, &run] {
        run = [args] {
            nlohmann::json entries = nlohmann::json::array();
            for (const auto& a : repo::list_redirects(args->repository)) {
                const std::string kind(formats::to_string(a.kind));
                if (args->json) {
                    entries.push_back({{"action", kind},
                                       {"url", a.url},
                                       {"old_url", a.old_url},
                                       {"new_url", a.new_url},
                                       {"displayname", a.display_name},
                                       {"has_credentials", !a.username.empty()}});
                } else if (a.kind == Kind::replace) {
                    std::printf("%-8s %s -> %s\n", kind.c_str(), a.old_url.c_str(),
                                a.new_url.c_str());
                } else {
                    std::printf("%-8s %s\n", kind.c_str(), a.url.c_str());
                }
            }
            if (args->json) {
                print_json(entries);
            }
            return kExitOk;
        };
    });
}

}  // namespace

void add_repo_command(CLI::App& app, CommandAction& run) {
    auto* repo = app.add_subcommand("repo", "Check and maintain repositories");
    repo->require_subcommand(1);

    auto verify_args = std::make_shared<VerifyArgs>();
    auto* verify = repo->add_subcommand(
        "verify",
        "Check a repository (ferry's or IFW's) against its Updates.xml: archives present, sizes, "
        ".sha1 sidecars, SHA-256 where recorded, metadata SHA-1s. Exit 0 when all is well.");
    verify
        ->add_option("DIR_OR_URL", verify_args->location,
                     "Repository directory, or its http(s):// or file:// URL")
        ->required();
    verify->add_flag("--json", verify_args->json, "Machine-readable report");
    verify->callback(
        [verify_args, &run] { run = [verify_args] { return run_verify(*verify_args); }; });

    add_redirect_commands(repo, run);
}

}  // namespace ferry::cli
