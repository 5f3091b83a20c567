#include "market/names.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"

namespace ferry::market {

namespace {

bool is_printable_ascii(char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
}

bool is_ascii_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A character as a message shows it: printable ASCII as itself, anything else as its code, so
// that a control character in a hostile name cannot reach a terminal.
std::string shown(char c) {
    return is_printable_ascii(c) ? fmt::format("'{}'", c)
                                 : fmt::format("byte 0x{:02x}", static_cast<unsigned char>(c));
}

}  // namespace

std::optional<std::string> key_problem(std::string_view text) {
    if (text.empty()) {
        return "is empty";
    }
    if (text.size() > kMaxKeyLength) {
        return fmt::format("is {} characters long (at most {})", text.size(), kMaxKeyLength);
    }
    // The first character rules out ".", ".." and hidden names; a trailing '.' is refused
    // because some file systems and URL normalizers drop it.
    if (!is_ascii_alnum(text.front())) {
        return fmt::format("starts with {} (it must start with a letter or a digit)",
                           shown(text.front()));
    }
    for (char c : text) {
        if (!is_ascii_alnum(c) && c != '.' && c != '_' && c != '-') {
            return fmt::format("contains {} (allowed: letters, digits, '.', '_' and '-')",
                               shown(c));
        }
    }
    if (text.back() == '.') {
        return "ends with '.'";
    }
    return std::nullopt;
}

void check_key(std::string_view text, std::string_view what) {
    if (const auto problem = key_problem(text)) {
        // The text is quoted only when it is short and printable; the reason says what it holds.
        const bool quotable = text.size() <= kMaxKeyLength &&
                              std::all_of(text.begin(), text.end(), is_printable_ascii);
        throw Error::format("{} {}{}", what, quotable ? fmt::format("\"{}\" ", text) : "",
                            *problem);
    }
}

}  // namespace ferry::market
