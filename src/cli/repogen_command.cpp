// `ferry repogen`: IFW's repogen options with IFW's meaning, plus -j, --keep and --json.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "archive/archive.hpp"
#include "cli/command_errors.hpp"
#include "cli/commands.hpp"
#include "cli/ifw_options.hpp"
#include "cli/terminal.hpp"
#include "repo/generator.hpp"

namespace ferry::cli {

namespace {

struct RepogenArgs {
    std::string repository;
    std::vector<std::string> packages;
    std::vector<std::string> repositories;
    std::string format = "7z";
    std::string level = "5";
    bool unite_metadata = false;
    bool component_metadata = false;
    bool verbose = false;
    bool quiet = false;
    bool json = false;
    repo::GenerateOptions options;
};

nlohmann::json to_json(const repo::GenerateReport& report) {
    nlohmann::json components = nlohmann::json::array();
    for (const auto& c : report.components) {
        nlohmann::json archives = nlohmann::json::array();
        for (std::size_t i = 0; i < c.archives.size(); ++i) {
            const auto& a = c.archives[i];
            archives.push_back({{"name", a.name},
                                {"size", a.size},
                                {"sha1", a.sha1},
                                {"sha256", a.sha256},
                                {"stored", i < c.stored.size() && c.stored[i]}});
        }
        components.push_back({{"name", c.name},
                              {"version", c.version},
                              {"action", repo::to_string(c.action)},
                              {"archives", archives}});
    }
    return {{"repository", report.repository.string()}, {"metadata_name", report.metadata_name},
            {"bytes_written", report.bytes_written},    {"components", components},
            {"removed_files", report.removed_files},
            {"removed_other_files", report.removed_other_files},
            {"warnings", report.warnings}};
}

void print_text(const repo::GenerateReport& report, bool verbose) {
    std::map<repo::ComponentReport::Action, int> counts;
    for (const auto& c : report.components) {
        ++counts[c.action];
        if (verbose) {
            std::uint64_t size = 0;
            for (const auto& a : c.archives) {
                size += a.size;
            }
            std::printf("  %-9s %s %s (%zu archive%s, %s)\n",
                        std::string(repo::to_string(c.action)).c_str(), c.name.c_str(),
                        c.version.c_str(), c.archives.size(), c.archives.size() == 1 ? "" : "s",
                        human_bytes(size).c_str());
        }
    }
    std::string breakdown;
    for (const auto& [action, count] : counts) {
        breakdown +=
            fmt::format("{}{} {}", breakdown.empty() ? "" : ", ", count, repo::to_string(action));
    }
    std::printf("Repository %s: %s (%s), %s written\n", report.repository.string().c_str(),
                count_of(report.components.size(), "component").c_str(), breakdown.c_str(),
                human_bytes(report.bytes_written).c_str());
    if (!report.removed_files.empty()) {
        std::printf("Removed %s of versions older than --keep allows\n",
                    count_of(report.removed_files.size(), "file").c_str());
    }
    for (const auto& file : report.removed_other_files) {
        std::printf("Removed %s (in the replaced directory, not part of its repository)\n",
                    file.c_str());
    }
}

int run_repogen(RepogenArgs& args) {
    auto& options = args.options;
    if (args.packages.empty() && args.repositories.empty()) {
        throw UsageError(
            "repogen needs something to publish: -p/--packages DIR (IFW's packages layout), "
            "or --repository DIR");
    }
    for (const auto& p : args.packages) {
        options.packages.emplace_back(p);
    }
    for (const auto& r : args.repositories) {
        options.repositories.emplace_back(r);
    }
    options.format = archive::parse_archive_format(args.format);
    options.level = archive::parse_compression_level(args.level);
    if (args.unite_metadata != args.component_metadata) {
        options.metadata =
            args.unite_metadata ? repo::MetadataMode::united : repo::MetadataMode::component;
    }
    ProgressLine progress(stderr_is_terminal() && !args.quiet && !args.json);
    options.on_progress = [&](const repo::GenerateProgress& p) {
        progress.update(fmt::format("repogen: component {} of {}, {} of {}", p.components_done,
                                    p.components_total, human_bytes(p.bytes_done),
                                    human_bytes(p.bytes_total)));
    };
    const auto report = repo::generate_repository(args.repository, options);
    progress.finish();
    for (const auto& warning : report.warnings) {
        std::fprintf(stderr, "repogen: warning: %s\n", warning.c_str());
    }
    if (args.json) {
        print_json(to_json(report));
    } else if (!args.quiet) {
        print_text(report, args.verbose);
    }
    return kExitOk;
}

}  // namespace

void add_repogen_command(CLI::App& app, CommandAction& run) {
    auto args = std::make_shared<RepogenArgs>();
    auto* cmd = app.add_subcommand(
        "repogen",
        "Generate an IFW-compatible online repository from packages directories.\n"
        "The output is reproducible: the same input gives a byte-identical repository.");
    auto& o = args->options;
    cmd->add_option("-p,--packages", args->packages,
                    "Packages directory (IFW layout: <name>/meta/package.xml, <name>/data/); "
                    "repeatable")
        ->allow_extra_args(false);
    cmd->add_option("--repository", args->repositories,
                    "Take components from this existing repository too; repeatable")
        ->allow_extra_args(false);
    add_component_selection(cmd, o.include, o.exclude);
    cmd->add_flag(
        "--update", o.update,
        "Update the selected components in an existing repository; others stay as they are");
    cmd->add_flag("--update-new-components", o.update_new_components,
                  "Like --update, but only components whose version is newer than the "
                  "repository's (or that it lacks)");
    cmd->add_flag("-r,--remove", o.remove_existing,
                  "Replace an existing repository (built beside it, swapped in at the end); "
                  "files in it that its Updates.xml does not list go too, and are named");
    cmd->add_option("-s,--sha-update", o.sha_update,
                    "Components that get a ContentSha1, so clients update them when their "
                    "content changes even without a version change (comma-separated)")
        ->delimiter(',')
        ->allow_extra_args(false);
    cmd->add_flag("--unite-metadata", args->unite_metadata,
                  "Only the united metadata archive (default: united and per component)");
    cmd->add_flag("--component-metadata", args->component_metadata,
                  "Only per-component metadata archives");
    add_archive_options(cmd, args->format, args->level);
    cmd->add_flag("--ignore-translations", o.ignore_translations,
                  "Do not ship translation files in the metadata");
    cmd->add_flag("--ignore-invalid-packages", o.ignore_invalid_packages,
                  "Skip invalid packages with a warning instead of failing");
    cmd->add_flag("--ignore-invalid-repositories", o.ignore_invalid_repositories,
                  "Skip invalid --repository sources with a warning instead of failing");
    cmd->add_option("-j,--jobs", o.jobs, "Archives compressed at once (default: one per core)");
    cmd->add_option("--keep", o.keep,
                    "Earlier versions whose archives --update keeps for clients holding an "
                    "older Updates.xml")
        ->default_str("1");
    cmd->add_flag("-v,--verbose", args->verbose, "List every component");
    cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors and warnings");
    cmd->add_flag("--json", args->json, "Print a machine-readable summary");
    cmd->add_option("REPOSITORY_DIR", args->repository, "The repository to write")->required();
    cmd->callback([args, &run] { run = [args] { return run_repogen(*args); }; });
}

}  // namespace ferry::cli
