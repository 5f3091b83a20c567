#include "installer/maintenance.hpp"

#include <fmt/format.h>

#include "client/installation.hpp"
#include "core/error.hpp"
#include "core/files.hpp"

namespace ferry::installer {

void add_remote_repositories(client::Settings& settings, const InstallerConfig& config) {
    for (const auto& repository : config.repositories) {
        if (settings.find(repository.url) == nullptr) {
            settings.repositories.push_back(repository);
        }
    }
}

fs::path write_maintenance_tool(const Payload& installer, const fs::path& root) {
    const fs::path tool = root / installer.manifest.config.maintenance_tool_name;
    std::error_code error;
    const auto status = fs::symlink_status(tool, error);
    if (fs::exists(status)) {
        std::optional<Payload> existing;
        if (fs::is_regular_file(status)) {
            try {
                existing = open_payload(tool);
            } catch (const Error&) {
                // Damaged: not replaced either, the message below says why.
            }
        }
        if (!existing || existing->manifest.kind != PayloadKind::maintenance_tool) {
            throw Error::format(
                "{} exists and is not a maintenance tool; it was left as it is "
                "(MaintenanceToolName must name a file no component installs)",
                tool.string());
        }
    }
    Manifest manifest;
    manifest.kind = PayloadKind::maintenance_tool;
    manifest.config = installer.manifest.config;
    // The tool is readable by everyone; credentials stay in the target's settings (0600).
    for (auto& repository : manifest.config.repositories) {
        repository.username.clear();
        repository.password.clear();
    }
    manifest.config.market.token.clear();
    const core::ScratchDir scratch(client::TargetPaths{root}.state(), "maintenancetool-");
    const fs::path payload = scratch.path() / "payload.tar";
    write_payload(payload, manifest, std::nullopt);
    write_executable(installer.file, payload, tool);
    return tool;
}

}  // namespace ferry::installer
