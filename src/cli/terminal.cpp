#include "cli/terminal.hpp"

#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "core/text.hpp"

namespace ferry::cli {

bool stderr_is_terminal() {
    return ::isatty(STDERR_FILENO) == 1;
}

std::string human_bytes(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        ++unit;
    }
    return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

void ProgressLine::update(std::string_view text, bool force) {
    if (!enabled_) {
        return;
    }
    auto now = std::chrono::steady_clock::now();
    if (!force && drawn_ && now - last_ < std::chrono::milliseconds(100)) {
        return;
    }
    last_ = now;
    drawn_ = true;
    std::fprintf(stderr, "\r\033[K%.*s", static_cast<int>(text.size()), text.data());
    std::fflush(stderr);
}

void ProgressLine::finish() {
    if (enabled_ && drawn_) {
        std::fputs("\r\033[K", stderr);
        std::fflush(stderr);
        drawn_ = false;
    }
}

std::string count_of(std::uint64_t count, std::string_view singular, std::string_view plural) {
    if (count == 1) {
        return "1 " + std::string(singular);
    }
    return std::to_string(count) + " " +
           (plural.empty() ? std::string(singular) + "s" : std::string(plural));
}

void print_line(std::FILE* stream, std::string_view text) {
    // One write per line, so that lines of several threads (the server's logs) do not mix.
    std::string shown = core::printable_text(text);
    shown += '\n';
    std::fwrite(shown.data(), 1, shown.size(), stream);
}

void print_error(std::string_view command, std::string_view message) {
    print_line(stderr, fmt::format("{}: error: {}", command, message));
}

void print_json(const nlohmann::json& json) {
    std::printf("%s\n", json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace ferry::cli
