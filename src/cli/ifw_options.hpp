// Options that IFW's repogen and binarycreator share, with the same meaning in both ferry
// commands that stand in for them: which components (-i/-e) and how their archives are written
// (--af/--ac).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "cli/command_errors.hpp"

namespace ferry::cli {

inline void add_component_selection(CLI::App* cmd, std::vector<std::string>& include,
                                    std::vector<std::string>& exclude) {
    cmd->add_option("-i,--include", include, "Only these components (comma-separated)")
        ->delimiter(',')
        ->allow_extra_args(false);
    cmd->add_option("-e,--exclude", exclude, "Leave out these components (comma-separated)")
        ->delimiter(',')
        ->allow_extra_args(false);
}

inline void add_archive_options(CLI::App* cmd, std::string& format, std::string& level) {
    cmd->add_option("--af,--archive-format", format,
                    "Data archive format: 7z, zip, tar, tar.gz, tar.bz2, tar.xz, tar.zst")
        ->default_str("7z")
        ->check(parsed_by(archive::parse_archive_format));
    cmd->add_option("--ac,--compression", level, "Compression level: 0, 1, 3, 5, 7, 9")
        ->default_str("5")
        ->check(parsed_by(archive::parse_compression_level));
}

}  // namespace ferry::cli
