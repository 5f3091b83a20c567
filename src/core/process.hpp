// Running another program (docker, docker-compose) and reading what it said: argv as given (no
// shell), its output (stdout and stderr together) captured through a temporary file, so that a
// chatty program never blocks on a full pipe while ferry feeds its standard input.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ferry::core {

struct ProcessResult {
    int exit_code = 0;   // 128 + N when killed by signal N
    std::string output;  // stdout and stderr, at most the last 64 KiB
    bool ok() const { return exit_code == 0; }
};

// Runs argv[0] (looked up in PATH) with argv. feed, when given, writes the program's standard
// input into the fd it is passed (a pipe, closed afterwards); an exception it throws is rethrown
// once the program has ended, unless the program failed (its output then says why, and the
// exception is most likely the broken pipe). Without feed, standard input is /dev/null. Throws
// ferry::Error when the program cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::function<void(int fd)>& feed = {});

// The program's path when PATH has it, else nullopt.
std::optional<std::string> find_program(const std::string& name);

}  // namespace ferry::core
