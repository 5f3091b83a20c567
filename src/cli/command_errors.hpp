// How a command's failure reaches the user: one line (and its "while ..." trace) on stderr, a
// JSON error object on stdout when the command was asked for --json, and the exit code scripts
// rely on. Also the answer to a command name ferry does not know.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.hpp"

namespace ferry::cli {

// A command line that names a real command but asks for something that cannot work (a missing
// or contradictory option, a pattern that does not parse): exit code 2, like CLI11's own errors.
class UsageError : public Error {
  public:
    using Error::Error;
};

// A CLI11 check that runs the library's own parser on an option's value, so that a value the
// library refuses is a usage error (exit 2) with the library's message, and the list of what is
// valid lives in one place. A parser that returns a string (a normalised form) replaces the value
// when the check is given to CLI11 as a transform.
template <typename Parse>
CLI::Validator parsed_by(Parse parse) {
    return CLI::Validator(
        [parse](std::string& value) -> std::string {
            try {
                if constexpr (std::is_convertible_v<decltype(parse(value)), std::string>) {
                    value = parse(value);
                } else {
                    parse(value);
                }
                return {};
            } catch (const Error& e) {
                return e.what();
            }
        },
        "");
}

// The known command closest to `typed` (its name or an alias), if one is close enough to be
// what the user meant.
std::optional<std::string> nearest_command(const CLI::App& app, const std::string& typed);

// The first word of args that is not an option, when it names no command of app.
std::optional<std::string> unknown_command(const CLI::App& app,
                                           const std::vector<std::string>& args);

// Whether the command that was parsed was given --json.
bool json_requested(const CLI::App& app);

// Prints the failure as text on stderr and, with json, as {"error": {...}} on stdout.
void report_failure(const Error& error, bool json);

}  // namespace ferry::cli
