// Helpers shared by the unit and end-to-end tests: files, scratch dirs, running a program.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/files.hpp"

namespace ferry::testing {

namespace fs = std::filesystem;

// Writes text to path, creating parent directories.
void write_text(const fs::path& path, const std::string& content);
std::string read_text(const fs::path& path);

// Deterministic pseudo-random bytes (incompressible), from a seed.
std::string random_bytes(std::size_t size, unsigned seed);

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs argv[0] with the arguments, extra environment variables added, and captures both
// streams. No shell is involved.
CommandResult run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env = {}, const fs::path& cwd = {});

// Compares actual with tests/data/golden/<file>. With FERRY_UPDATE_GOLDEN=1 in the environment
// the golden file is rewritten instead, so that format changes show up as diffs in review.
void expect_matches_golden(const std::string& file, const std::string& actual);

// The message of the ferry::Error that fn throws; a test failure (and "") when it throws none.
std::string error_of(const std::function<void()>& fn);

// Every regular file below root as relative path → content (for comparing trees).
std::map<std::string, std::string> snapshot_tree(const fs::path& root);

// A socket listening on a free 127.0.0.1 port that never accepts: connections complete from the
// backlog and then hear nothing (a server that hangs, or a port in use). Closed with the object.
class SilentListener {
  public:
    SilentListener();
    ~SilentListener();
    SilentListener(const SilentListener&) = delete;
    SilentListener& operator=(const SilentListener&) = delete;
    int port() const { return port_; }

  private:
    int fd_ = -1;
    int port_ = 0;
};

}  // namespace ferry::testing
