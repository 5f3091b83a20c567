// `ferry installer create`: what IFW's binarycreator does. An offline installer carries a
// repository built from packages (or copied from built repositories) in its payload; an online
// one carries only its configuration and installs from the repositories or market it names.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "installer/config.hpp"
#include "repo/generator.hpp"

namespace ferry::installer {

// binarycreator's default installs from its payload and leaves the configuration's remote
// repositories in the target's settings; --online-only carries no payload; --offline-only
// leaves the remote repositories out.
enum class CreateMode { both, online_only, offline_only };

struct CreateOptions {
    InstallerConfig config;
    CreateMode mode = CreateMode::both;
    std::vector<fs::path> packages;      // -p
    std::vector<fs::path> repositories;  // --repository
    std::vector<std::string> include;    // -i
    std::vector<std::string> exclude;    // -e
    archive::ArchiveFormat format = archive::ArchiveFormat::sevenzip;
    int level = 5;
    bool ignore_translations = false;
    fs::path base;  // the ferry whose own bytes start the installer
    fs::path output;
    std::function<void(const repo::GenerateProgress&)> on_progress;
};

struct CreateReport {
    fs::path output;
    bool offline = false;
    std::uint64_t size = 0;                         // of the installer
    std::uint64_t payload_size = 0;                 // of what follows ferry's own bytes
    std::vector<repo::ComponentReport> components;  // what the payload carries
    std::vector<std::string> warnings;
};

// Writes the installer (atomically: nothing at output on failure). The choice of mode against
// the inputs is checked first: an online installer needs repositories or a market to install
// from, an offline one packages or repositories to carry.
CreateReport create_installer(const CreateOptions& options);

}  // namespace ferry::installer
