// How the user runs ferry, for what messages say: "ferry" unless a maintenance tool says
// otherwise at its start, so that its errors begin with its own name and the commands messages
// suggest are its own (which need no --root in its installation).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ferry::core {

// Called once, before anything else runs, by a maintenance tool with its file.
void set_maintenance_tool(const std::filesystem::path& tool);

// "ferry", or the maintenance tool's file name: what errors and notes start with.
const std::string& program_name();

// The command that runs args (say "update") on the installation at root, in backquotes:
// `ferry update --root ROOT`, or `/opt/app/maintenancetool update` for its own installation
// (with --root ROOT for another).
std::string suggested_command(std::string_view args, const std::filesystem::path& root);

}  // namespace ferry::core
