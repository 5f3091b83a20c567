// What the fuzz targets share: the input as text, and the rule they check. A parser of outside
// input may refuse it only with ferry::Error (the message the user sees); any other exception, a
// crash or a sanitizer report is a finding, and libFuzzer stops on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.hpp"

namespace ferry::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
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
