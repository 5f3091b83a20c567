// What an installer leaves in its target besides the components: the configuration's
// repositories in the target's settings, and the maintenance tool, a ferry that knows the
// installation it sits in.
#pragma once

#include <filesystem>

#include "client/settings.hpp"
#include "installer/payload.hpp"

namespace ferry::installer {

// Adds the configuration's remote repositories the settings lack (with their display names,
// credentials and Enabled); those present already keep their settings.
void add_remote_repositories(client::Settings& settings, const InstallerConfig& config);

// Writes <root>/<MaintenanceToolName>: the installer's own ferry with a payload that makes it
// the maintenance tool of root. A file of that name that is not a maintenance tool is never
// replaced (an error names it). Returns its path.
fs::path write_maintenance_tool(const Payload& installer, const fs::path& root);

}  // namespace ferry::installer
