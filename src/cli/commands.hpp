// The ferry command line: each command lives in its own file and registers itself on the app;
// the callback it leaves in `run` does the work after parsing and returns the exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "installer/payload.hpp"

namespace ferry::cli {

using CommandAction = std::function<int()>;

void add_repogen_command(CLI::App& app, CommandAction& run);
void add_repo_command(CLI::App& app, CommandAction& run);
void add_client_commands(CLI::App& app, CommandAction& run);
void add_repos_command(CLI::App& app, CommandAction& run);
void add_market_commands(CLI::App& app, CommandAction& run);
void add_publish_command(CLI::App& app, CommandAction& run);
void add_export_command(CLI::App& app, CommandAction& run);
void add_import_command(CLI::App& app, CommandAction& run);
void add_inventory_command(CLI::App& app, CommandAction& run);
void add_installer_command(CLI::App& app, CommandAction& run);

// ferry with a payload appended (installer/payload.hpp) is an installer, which runs this instead
// of ferry's command line, or a maintenance tool, whose arguments (IFW's spellings) this makes
// ferry's, on the installation it sits in.
int run_installer(const installer::Payload& payload, std::vector<std::string> args);
std::vector<std::string> maintenance_tool_arguments(const installer::Payload& payload,
                                                    std::vector<std::string> args);

// Exit codes shared by all commands (IFW's where they overlap).
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

}  // namespace ferry::cli
