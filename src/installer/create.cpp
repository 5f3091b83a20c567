#include "installer/create.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "installer/payload.hpp"

namespace ferry::installer {

CreateReport create_installer(const CreateOptions& options) {
    const bool has_content = !options.packages.empty() || !options.repositories.empty();
    const bool has_remote =
        !options.config.repositories.empty() || !options.config.market.url.empty();
    const bool offline = options.mode != CreateMode::online_only && has_content;
    if (options.mode == CreateMode::online_only && has_content) {
        throw Error(
            "an --online-only installer carries no packages; it installs from the "
            "configuration's RemoteRepositories or --market (leave out -p and --repository)");
    }
    if (options.mode == CreateMode::offline_only && !has_content) {
        throw Error(
            "an --offline-only installer needs what it carries: -p/--packages DIR or "
            "--repository DIR");
    }
    if (!offline && !has_remote) {
        throw Error(
            "nothing to install from: give -p/--packages DIR or --repository DIR (an "
            "offline installer), or RemoteRepositories in the configuration or --market "
            "(an online one)");
    }
    if (!options.config.market.url.empty() && offline) {
        throw Error(
            "--market installs the market's app (its newest revision when the installer "
            "runs, or with --offline-only the one it carries); leave out -p and --repository");
    }
    check_config(options.config, "the installer's configuration");

    Manifest manifest;
    manifest.kind = PayloadKind::installer;
    manifest.config = options.config;
    manifest.offline = offline;
    if (options.mode == CreateMode::offline_only) {
        manifest.config.repositories.clear();
    }

    CreateReport report;
    report.output = options.output;
    report.offline = offline;
    const fs::path parent = fs::absolute(options.output).parent_path();
    // Built beside the output, so that the payload's files and the installer share a file system.
    const core::ScratchDir scratch(parent, ".ferry-installer-");
    std::optional<fs::path> repository;
    if (offline) {
        repo::GenerateOptions generate;
        generate.packages = options.packages;
        generate.repositories = options.repositories;
        generate.include = options.include;
        generate.exclude = options.exclude;
        generate.format = options.format;
        generate.level = options.level;
        generate.ignore_translations = options.ignore_translations;
        generate.on_progress = options.on_progress;
        repository = scratch.path() / "repository";
        auto generated = repo::generate_repository(*repository, generate);
        report.components = std::move(generated.components);
        report.warnings = std::move(generated.warnings);
        if (report.components.empty()) {
            throw Error("the installer would carry no component: -i/-e left none of the packages");
        }
    }
    const fs::path payload = scratch.path() / "payload.tar";
    write_payload(payload, manifest, repository);
    report.size = write_executable(options.base, payload, options.output);
    report.payload_size = report.size - own_size(options.output);
    return report;
}

}  // namespace ferry::installer
