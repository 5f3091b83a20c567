// Version numbers and dependency expressions, as they come from package.xml, Updates.xml and
// components.xml: the input's first line is compared with its second and parsed as a
// dependency, which the second line must then satisfy or not; the whole input is split as a
// Dependencies list.
#include "core/version.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = ferry::fuzz::as_text(data, size);
    const std::size_t newline = text.find('\n');
    const std::string_view first = text.substr(0, newline);
    const std::string_view second =
        newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ferry::core::compare_versions(first, second);
    ferry::core::split_list(text);
    ferry::fuzz::expect_refusal_at_most([&] {
        const ferry::core::Dependency dependency = ferry::core::parse_dependency(first);
        ferry::core::satisfies(dependency, second);
        ferry::core::to_string(dependency);
    });
    return 0;
}
