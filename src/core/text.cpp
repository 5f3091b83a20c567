// printable_text: a UTF-8 decoder that keeps what a terminal shows as text and replaces the
// rest with U+FFFD, one replacement per bad byte or control character.
#include "core/text.hpp"

#include <cstdint>

namespace ferry::core {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// The length of the valid UTF-8 sequence at text[at] and its code point, or 0 when the bytes
// there are not one (overlong forms, surrogates and values past U+10FFFF included).
std::size_t decode(std::string_view text, std::size_t at, char32_t& code_point) {
    const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[at + i]); };
    const std::uint8_t first = byte(0);
    std::size_t length = 0;
    char32_t value = 0;
    char32_t minimum = 0;
    if (first < 0x80) {
        code_point = first;
        return 1;
    }
    if ((first & 0xE0) == 0xC0) {
        length = 2;
        value = first & 0x1F;
        minimum = 0x80;
    } else if ((first & 0xF0) == 0xE0) {
        length = 3;
        value = first & 0x0F;
        minimum = 0x800;
    } else if ((first & 0xF8) == 0xF0) {
        length = 4;
        value = first & 0x07;
        minimum = 0x10000;
    } else {
        return 0;
    }
    if (at + length > text.size()) {
        return 0;
    }
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80) {
            return 0;
        }
        value = (value << 6) | (byte(i) & 0x3F);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return 0;
    }
    code_point = value;
    return length;
}

bool is_control(char32_t c) {
    return (c < 0x20 && c != '\t' && c != '\n') || (c >= 0x7F && c <= 0x9F);
}

}  // namespace

bool is_printable_text(std::string_view text) {
    for (std::size_t at = 0; at < text.size();) {
        const auto first = static_cast<std::uint8_t>(text[at]);
        if (first >= 0x20 && first < 0x7F) {
            ++at;  // ASCII, the common case
            continue;
        }
        char32_t c = 0;
        const std::size_t length = decode(text, at, c);
        if (length == 0 || is_control(c)) {
            return false;
        }
        at += length;
    }
    return true;
}

std::string printable_text(std::string_view text) {
    if (is_printable_text(text)) {
        return std::string(text);
    }
    std::string out;
    out.reserve(text.size() + 8);
    for (std::size_t at = 0; at < text.size();) {
        char32_t c = 0;
        const std::size_t length = decode(text, at, c);
        if (length == 0) {
            out += kReplacement;
            ++at;
            continue;
        }
        if (is_control(c)) {
            out += kReplacement;
        } else {
            out.append(text.substr(at, length));
        }
        at += length;
    }
    return out;
}

}  // namespace ferry::core
