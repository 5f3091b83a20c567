// Terminal output for commands: a self-updating progress line on a terminal (nothing when
// stderr is not one), byte sizes for people, lines of text with control characters replaced,
// and the error line every command prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace ferry::cli {

// Prints json on stdout, indented, for --json: text that is not UTF-8 (a file name, a
// repository's bytes) becomes U+FFFD rather than an error.
void print_json(const nlohmann::json& json);

bool stderr_is_terminal();

std::string human_bytes(std::uint64_t bytes);

// "1 component", "2 components"; irregular plurals are given ("repository", "repositories").
std::string count_of(std::uint64_t count, std::string_view singular, std::string_view plural = {});

class ProgressLine {
  public:
    explicit ProgressLine(bool enabled) : enabled_(enabled) {}
    ~ProgressLine() { finish(); }
    // Redraws at most ten times a second unless force.
    void update(std::string_view text, bool force = false);
    void finish();

  private:
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_{};
};

// Writes one line of text for people, through core::printable_text: names, titles and messages
// that came from a repository or a server cannot drive the terminal. One write per line, so
// threads may share a stream.
void print_line(std::FILE* stream, std::string_view text);

void print_error(std::string_view command, std::string_view message);

}  // namespace ferry::cli
