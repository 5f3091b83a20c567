// What the fuzz targets share: the input as text, and the rule they check. A parser of outside
// input may refuse it only with ferry::Error (the message the user sees); any other exception, a
// crash or a sanitizer report is a finding, and libFuzzer stops on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "core/error.hpp"

namespace ferry::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Writes an input where the code under test reads it, as a new file: not core::write_file_atomic,
// whose fsyncs would cost a hundred times the parsing, and not by truncating the old one, which
// makes ext4 write the file back on close (its replace-by-truncate heuristic), just as slow.
inline void write_input(const std::filesystem::path& path, std::string_view content) {
    std::filesystem::remove(path);
    std::ofstream(path, std::ios::binary)
        .write(content.data(), static_cast<std::streamsize>(content.size()));
}

// Runs parse; a ferry::Error is a refusal, which is what bad input deserves.
template <typename Fn>
void expect_refusal_at_most(Fn&& parse) {
    try {
        parse();
    } catch (const Error&) {
    }
}

}  // namespace ferry::fuzz
