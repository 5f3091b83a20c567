#include "formats/service_values.hpp"

#include <charconv>
#include <limits>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "formats/names.hpp"

namespace ferry::formats::service_values {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || is_digit(c);
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool is_all_digits(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    for (char c : text) {
        if (!is_digit(c)) {
            return false;
        }
    }
    return true;
}

// A name of lowercase letters, digits and the given punctuation, starting with a letter or a
// digit (and, for DNS names, ending with one).
std::optional<std::string> lowercase_name_problem(std::string_view text, std::string_view punct,
                                                  std::size_t max_length, bool alnum_last,
                                                  std::string_view why) {
    if (text.empty()) {
        return "is empty";
    }
    if (text.size() > max_length) {
        return fmt::format("is longer than {} characters ({})", max_length, why);
    }
    for (char c : text) {
        if (!is_lower_alnum(c) && punct.find(c) == std::string_view::npos) {
            return fmt::format("contains {} ({})", describe_character(c), why);
        }
    }
    if (!is_lower_alnum(text.front())) {
        return fmt::format("starts with {} ({})", describe_character(text.front()), why);
    }
    if (alnum_last && !is_lower_alnum(text.back())) {
        return fmt::format("ends with {} ({})", describe_character(text.back()), why);
    }
    return std::nullopt;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(separator, start);
        if (end == std::string_view::npos) {
            parts.push_back(text.substr(start));
            return parts;
        }
        parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
}

// docker's path-component: [a-z0-9]+ joined by '.', '_', '__' or any number of '-'.
bool is_path_component(std::string_view c) {
    std::size_t i = 0;
    while (true) {
        if (i == c.size() || !is_lower_alnum(c[i])) {
            return false;
        }
        while (i < c.size() && is_lower_alnum(c[i])) {
            ++i;
        }
        if (i == c.size()) {
            return true;
        }
        if (c[i] == '.') {
            ++i;
        } else if (c[i] == '_') {
            i += c.substr(i, 2) == "__" ? 2 : 1;
        } else if (c[i] == '-') {
            while (i < c.size() && c[i] == '-') {
                ++i;
            }
        } else {
            return false;
        }
    }
}

// A registry host: DNS labels of letters, digits and inner '-', joined by '.', and a port.
bool is_domain(std::string_view domain) {
    const std::size_t colon = domain.find(':');
    if (colon != std::string_view::npos) {
        const std::string_view port = domain.substr(colon + 1);
        if (!parse_port(port)) {
            return false;
        }
        domain = domain.substr(0, colon);
    }
    for (std::string_view label : split(domain, '.')) {
        if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) {
            return false;
        }
        for (char c : label) {
            if (!is_alnum(c) && c != '-') {
                return false;
            }
        }
    }
    return true;
}

bool is_tag(std::string_view tag) {
    if (tag.empty() || tag.size() > 128 || !(is_alnum(tag.front()) || tag.front() == '_')) {
        return false;
    }
    for (char c : tag) {
        if (!is_alnum(c) && c != '_' && c != '.' && c != '-') {
            return false;
        }
    }
    return true;
}

std::optional<std::string> digest_problem(std::string_view digest) {
    const std::size_t colon = digest.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return fmt::format("has the digest \"{}\", which is not algorithm:hex", digest);
    }
    const std::string_view algorithm = digest.substr(0, colon);
    const std::string_view hex = digest.substr(colon + 1);
    for (char c : algorithm) {
        if (!is_alnum(c) && c != '+' && c != '.' && c != '_' && c != '-') {
            return fmt::format("has the digest algorithm \"{}\", which is not a name", algorithm);
        }
    }
    for (char c : hex) {
        if (!is_digit(c) && !(c >= 'a' && c <= 'f')) {
            return fmt::format("has a digest that is not lowercase hex (\"{}\")", hex);
        }
    }
    if (algorithm == "sha256" ? hex.size() != 64 : hex.size() < 32) {
        return fmt::format("has a {} digest of {} hex digits", algorithm, hex.size());
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> service_name_problem(std::string_view text) {
    return lowercase_name_problem(
        text, "-", 63, true,
        "a service name is a DNS name: lowercase letters, digits and '-' inside, up to 63");
}

std::optional<std::string> volume_name_problem(std::string_view text) {
    return lowercase_name_problem(
        text, "_.-", 64, false,
        "a volume name is lowercase letters, digits and _ . -, starting with a letter or digit");
}

std::optional<std::string> port_name_problem(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    return lowercase_name_problem(text, "-", 63, true,
                                  "a port name is lowercase letters, digits and '-' inside");
}

std::optional<std::string> environment_name_problem(std::string_view text) {
    static constexpr std::string_view why =
        "a variable name is letters, digits and _, not starting with a digit";
    if (text.empty()) {
        return "is empty";
    }
    for (char c : text) {
        if (!is_alnum(c) && c != '_') {
            return fmt::format("contains {} ({})", describe_character(c), why);
        }
    }
    if (is_digit(text.front())) {
        return fmt::format("starts with a digit ({})", why);
    }
    return std::nullopt;
}

std::optional<std::string> container_path_problem(std::string_view text) {
    if (text.empty()) {
        return "is empty";
    }
    if (text.size() > 4096) {
        return "is longer than 4096 characters";
    }
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            return fmt::format("contains {}", describe_character(c));
        }
        if (c == ':') {
            return "contains ':' (Compose's short volume syntax separates fields with it)";
        }
    }
    if (text.front() != '/') {
        return "is not an absolute path (it must start with '/')";
    }
    if (text == "/") {
        return "is the container's root directory";
    }
    if (text.back() == '/') {
        return "ends with '/' (write the path without it)";
    }
    for (std::string_view segment : split(text.substr(1), '/')) {
        if (segment.empty()) {
            return "has an empty path element ('//')";
        }
        if (segment == "." || segment == "..") {
            return fmt::format("has the path element \"{}\" (write the clean path)", segment);
        }
    }
    return std::nullopt;
}

std::optional<std::string> image_reference_problem(std::string_view text) {
    if (text.empty()) {
        return "is empty";
    }
    for (char c : text) {
        if (!is_alnum(c) && std::string_view("._-/:@+").find(c) == std::string_view::npos) {
            return fmt::format("contains {} (an image reference is name[:tag][@digest])",
                               describe_character(c));
        }
    }
    std::string_view name = text;
    if (const std::size_t at = name.find('@'); at != std::string_view::npos) {
        if (auto problem = digest_problem(name.substr(at + 1))) {
            return problem;
        }
        name = name.substr(0, at);
    }
    const std::size_t slash = name.rfind('/');
    const std::size_t colon = name.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        const std::string_view tag = name.substr(colon + 1);
        if (!is_tag(tag)) {
            return fmt::format(
                "has the tag \"{}\" (a tag is up to 128 letters, digits and _ . -, not "
                "starting with . or -)",
                tag);
        }
        name = name.substr(0, colon);
    }
    if (name.empty()) {
        return "has no name (name[:tag][@digest])";
    }
    if (name.size() > 255) {
        return "has a name longer than 255 characters";
    }
    std::vector<std::string_view> components = split(name, '/');
    const std::string_view first = components.front();
    // As docker splits a name: the first component is a registry when it looks like a host.
    if (components.size() > 1 &&
        (first.find_first_of(".:") != std::string_view::npos || first == "localhost")) {
        if (!is_domain(first)) {
            return fmt::format("has the registry \"{}\", which is not a host[:port]", first);
        }
        components.erase(components.begin());
    }
    for (std::string_view component : components) {
        if (!is_path_component(component)) {
            return fmt::format(
                "has the name component \"{}\" (name components are lowercase letters and "
                "digits, joined by . _ __ or -)",
                component);
        }
    }
    return std::nullopt;
}

std::optional<std::string> text_problem(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte == 0) {
            return "contains a NUL character";
        }
        if (byte < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = 0;
        std::uint32_t code = 0;
        if ((byte & 0xe0) == 0xc0) {
            length = 2;
            code = byte & 0x1f;
        } else if ((byte & 0xf0) == 0xe0) {
            length = 3;
            code = byte & 0x0f;
        } else if ((byte & 0xf8) == 0xf0) {
            length = 4;
            code = byte & 0x07;
        } else {
            return "is not valid UTF-8";
        }
        if (i + length > text.size()) {
            return "is not valid UTF-8";
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xc0) != 0x80) {
                return "is not valid UTF-8";
            }
            code = (code << 6) | (next & 0x3f);
        }
        static constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code < kSmallest[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
            return "is not valid UTF-8";
        }
        i += length;
    }
    return std::nullopt;
}

std::string default_service_name(std::string_view component) {
    std::string name;
    for (char c : component) {
        if (c == '.' || c == '_') {
            name += '-';
        } else if (c >= 'A' && c <= 'Z') {
            name += static_cast<char>(c - 'A' + 'a');
        } else {
            name += c;
        }
    }
    return name;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    if (!is_all_digits(text) || text.size() > 5) {
        return std::nullopt;
    }
    unsigned value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    if (value < 1 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

std::optional<std::uint64_t> parse_memory(std::string_view text, std::string& why) {
    std::size_t digits = 0;
    while (digits < text.size() && is_digit(text[digits])) {
        ++digits;
    }
    if (digits == 0) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    if (std::from_chars(text.data(), text.data() + digits, value).ec != std::errc()) {
        why = "is too large";
        return std::nullopt;
    }
    std::string unit;
    for (char c : text.substr(digits)) {
        unit += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    static constexpr std::pair<std::string_view, int> kUnits[] = {
        {"", 0},     {"b", 0},  {"k", 10},  {"kb", 10},  {"kib", 10}, {"m", 20},  {"mb", 20},
        {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40},   {"tb", 40}, {"tib", 40}};
    int shift = -1;
    for (const auto& [name, bits] : kUnits) {
        if (unit == name) {
            shift = bits;
        }
    }
    if (shift < 0) {
        return std::nullopt;
    }
    if (value > (std::numeric_limits<std::uint64_t>::max() >> shift)) {
        why = "is too large";
        return std::nullopt;
    }
    value <<= shift;
    if (value != 0 && value < (6u << 20)) {
        why = "is below Docker's smallest memory limit, 6M (0 means no limit)";
        return std::nullopt;
    }
    return value;
}

std::optional<double> parse_cpus(std::string_view text, std::string& why) {
    const std::size_t dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view fraction =
        dot == std::string_view::npos ? std::string_view("0") : text.substr(dot + 1);
    if (!is_all_digits(whole) || !is_all_digits(fraction) || whole.size() > 6) {
        return std::nullopt;
    }
    double value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    if (value != 0 && value < 0.01) {
        why = "is below 0.01 (0 means no limit)";
        return std::nullopt;
    }
    if (value > 1024) {
        why = "is more than 1024";
        return std::nullopt;
    }
    return value;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text, std::string& why) {
    using std::chrono::milliseconds;
    constexpr std::uint64_t kMostMs = 24ull * 3600 * 1000;
    if (is_all_digits(text)) {
        why = "has no unit (10s, 1m, 1h)";
        return std::nullopt;
    }
    std::uint64_t total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t digits = i;
        while (digits < text.size() && is_digit(text[digits])) {
            ++digits;
        }
        if (digits == i || digits - i > 9) {
            return std::nullopt;
        }
        std::uint64_t number = 0;
        std::from_chars(text.data() + i, text.data() + digits, number);
        std::uint64_t unit_ms = 0;
        const std::string_view rest = text.substr(digits);
        std::size_t unit_length = 1;
        if (rest.starts_with("ms")) {
            unit_ms = 1;
            unit_length = 2;
        } else if (rest.starts_with("s")) {
            unit_ms = 1000;
        } else if (rest.starts_with("m")) {
            unit_ms = 60'000;
        } else if (rest.starts_with("h")) {
            unit_ms = 3'600'000;
        } else {
            return std::nullopt;
        }
        total += number * unit_ms;  // at most 10^9 * 3.6 * 10^6 per part: no overflow
        if (total > kMostMs) {
            why = "is longer than a day (24h)";
            return std::nullopt;
        }
        i = digits + unit_length;
    }
    if (total % 1000 != 0) {
        why = "is not a whole number of seconds";
        return std::nullopt;
    }
    return std::chrono::seconds(total / 1000);
}

std::optional<std::uint32_t> parse_mode(std::string_view text) {
    if (text.size() != 4 || text[0] != '0') {
        return std::nullopt;
    }
    std::uint32_t mode = 0;
    for (char c : text.substr(1)) {
        if (c < '0' || c > '7') {
            return std::nullopt;
        }
        mode = mode * 8 + static_cast<std::uint32_t>(c - '0');
    }
    return mode;
}

std::optional<bool> parse_bool(std::string_view text) {
    if (text == "true" || text == "True" || text == "TRUE") {
        return true;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
        return false;
    }
    return std::nullopt;
}

std::optional<unsigned> parse_count(std::string_view text, unsigned limit) {
    if (!is_all_digits(text) || text.size() > 9) {
        return std::nullopt;
    }
    unsigned value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    if (value > limit) {
        return std::nullopt;
    }
    return value;
}

std::string format_mode(std::uint32_t mode) {
    return fmt::format("0{:03o}", mode);
}

std::string format_duration(std::chrono::seconds duration) {
    return fmt::format("{}s", duration.count());
}

}  // namespace ferry::formats::service_values
