// The one error model of the library: exceptions of type ferry::Error that carry a message
// naming the input and the cause, plus a "while ..." trace added as the error travels up.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace ferry {

// What kind of failure an error is, so that a server can answer it with the right status and a
// command can tell the user's mistake from the machine's. One place maps kinds to HTTP statuses.
enum class ErrorKind {
    invalid_input,  // the input named in the message is wrong: a file, an argument, a request
    not_found,      // the thing asked for does not exist
    conflict,       // the input is valid but clashes with what is already there
    upstream,       // another server failed or answered wrongly
    storage,        // the local disk or database failed (full, read-only, permissions)
    internal,       // a bug: nothing the user did explains it
};

class Error : public std::runtime_error {
  public:
    explicit Error(std::string message, ErrorKind kind = ErrorKind::invalid_input)
        : std::runtime_error(std::move(message)), kind_(kind) {}

    template <typename... Args>
    static Error format(fmt::format_string<Args...> f, Args&&... args) {
        return Error(fmt::format(f, std::forward<Args>(args)...));
    }
    template <typename... Args>
    static Error format(ErrorKind kind, fmt::format_string<Args...> f, Args&&... args) {
        return Error(fmt::format(f, std::forward<Args>(args)...), kind);
    }

    ErrorKind kind() const { return kind_; }

    // Adds an outer step ("while generating repository out/"), innermost first.
    void add_context(std::string step) { context_.push_back(std::move(step)); }
    const std::vector<std::string>& context() const { return context_; }

    // The message followed by one "  while ..." line per context step.
    std::string describe() const;

  private:
    ErrorKind kind_;
    std::vector<std::string> context_;
};

// A foreign exception as an Error a user can read: a JSON parser's complaint about its input
// is invalid input, without the parser's internal codes; anything else is internal.
Error as_error(const std::exception& e);

// Runs fn; an Error escaping it gains the context step. Other exceptions become Errors.
template <typename Fn>
decltype(auto) with_context(const std::string& step, Fn&& fn) {
    try {
        return fn();
    } catch (Error& e) {
        e.add_context(step);
        throw;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        Error wrapped = as_error(e);
        wrapped.add_context(step);
        throw wrapped;
    }
}

// errno as text, for messages about system calls.
std::string errno_text(int error_number);

}  // namespace ferry
