// The ferry command line: each command lives in its own file and registers itself on the app;
// the callback it leaves in `run` does the work after parsing and returns the exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

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

// Exit codes shared by all commands (IFW's where they overlap).
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

}  // namespace ferry::cli
