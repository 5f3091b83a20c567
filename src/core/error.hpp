// The one error model of the library: exceptions of type ferry::Error that carry a message
// naming the input and the cause, plus a "while ..." trace added as the error travels up.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace ferry {

class Error : public std::runtime_error {
  public:
    explicit Error(std::string message) : std::runtime_error(std::move(message)) {}

    template <typename... Args>
    static Error format(fmt::format_string<Args...> f, Args&&... args) {
        return Error(fmt::format(f, std::forward<Args>(args)...));
    }

    // Adds an outer step ("while generating repository out/"), innermost first.
    void add_context(std::string step) { context_.push_back(std::move(step)); }
    const std::vector<std::string>& context() const { return context_; }

    // The message followed by one "  while ..." line per context step.
    std::string describe() const;

  private:
    std::vector<std::string> context_;
};

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
        Error wrapped(e.what());
        wrapped.add_context(step);
        throw wrapped;
    }
}

// errno as text, for messages about system calls.
std::string errno_text(int error_number);

}  // namespace ferry
