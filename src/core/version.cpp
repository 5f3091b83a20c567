// IFW-compatible version comparison and dependency expressions: the ordering that decides
// which component version is newer, and the requirement syntax of Dependencies lists.
#include "core/version.hpp"

#include <algorithm>
#include <cstddef>

#include "core/error.hpp"

namespace ferry::core {
namespace {

constexpr std::string_view kBlanks = " \t\n\r\f\v";
constexpr std::string_view kSeparators = ".-_";
constexpr std::string_view kOperatorChars = "<=>";

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(kBlanks);
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = s.find_last_not_of(kBlanks);
    return s.substr(first, last - first + 1);
}

int sign(int value) {
    return (value > 0) - (value < 0);
}

// Like Qt's QString::split: empty parts are kept, so "" is one empty part.
std::vector<std::string_view> split_parts(std::string_view version) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const auto end = version.find_first_of(kSeparators, start);
        if (end == std::string_view::npos) {
            parts.push_back(version.substr(start));
            return parts;
        }
        parts.push_back(version.substr(start, end - start));
        start = end + 1;
    }
}

bool is_numeric(std::string_view part) {
    return !part.empty() &&
           std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Compares digit strings by value without parsing them, so that build stamps longer than
// any integer type (e.g. 2.1-20190319074700000000) still order numerically.
int compare_numbers(std::string_view a, std::string_view b) {
    a.remove_prefix(std::min(a.find_first_not_of('0'), a.size()));
    b.remove_prefix(std::min(b.find_first_not_of('0'), b.size()));
    if (a.size() != b.size()) {
        return a.size() < b.size() ? -1 : 1;
    }
    return sign(a.compare(b));
}

// Outcome of comparing one pair of parts: decided (a sign), equal (go on), or a wildcard hit.
enum class PartResult { less, equal, greater, wildcard };

PartResult from_sign(int s) {
    return s < 0 ? PartResult::less : (s > 0 ? PartResult::greater : PartResult::equal);
}

// One pair of parts, as IFW evaluates it. After two non-numeric parts lose their shared
// prefix, IFW evaluates the remainders again as a fresh pair, so a remainder can turn out
// numeric ("rc2" vs "rc11") or be the wildcard ("vx" vs "v2").
PartResult compare_parts(std::string_view a, std::string_view b) {
    if (a == "x" || b == "x") {
        return PartResult::wildcard;
    }
    const bool a_numeric = is_numeric(a);
    const bool b_numeric = is_numeric(b);
    if (a_numeric && b_numeric) {
        return from_sign(compare_numbers(a, b));
    }
    if (!a_numeric && !b_numeric) {
        const auto mismatch = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
        const auto shared = static_cast<std::size_t>(mismatch.first - a.begin());
        if (shared > 0) {
            return compare_parts(a.substr(shared), b.substr(shared));
        }
    }
    return from_sign(a.compare(b));
}

VersionOp parse_operator(std::string_view expression, std::string_view op) {
    if (op == "<") {
        return VersionOp::less;
    }
    if (op == "<=") {
        return VersionOp::less_equal;
    }
    if (op == ">") {
        return VersionOp::greater;
    }
    if (op == ">=") {
        return VersionOp::greater_equal;
    }
    if (op == "=") {
        return VersionOp::equal;
    }
    throw Error::format("dependency \"{}\": unknown operator \"{}\" (expected <, <=, >, >= or =)",
                        expression, op);
}

std::string_view operator_text(VersionOp op) {
    switch (op) {
        case VersionOp::any:
            return "";
        case VersionOp::equal:
            return "=";
        case VersionOp::less:
            return "<";
        case VersionOp::less_equal:
            return "<=";
        case VersionOp::greater:
            return ">";
        case VersionOp::greater_equal:
            return ">=";
    }
    return "";
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
    const auto a_parts = split_parts(a);
    const auto b_parts = split_parts(b);
    for (std::size_t i = 0;; ++i) {
        const bool a_done = i == a_parts.size();
        const bool b_done = i == b_parts.size();
        if (a_done && b_done) {
            return 0;
        }
        // An extra numeric part is a further release ("1.0.0" after "1.0"); an extra
        // non-numeric one is a pre-release suffix ("v2.0-rc3" before "v2.0").
        if (a_done) {
            return is_numeric(b_parts[i]) ? -1 : 1;
        }
        if (b_done) {
            return is_numeric(a_parts[i]) ? 1 : -1;
        }
        switch (compare_parts(a_parts[i], b_parts[i])) {
            case PartResult::wildcard:
                return 0;
            case PartResult::less:
                return -1;
            case PartResult::greater:
                return 1;
            case PartResult::equal:
                break;
        }
    }
}

Dependency parse_dependency(std::string_view expression) {
    const std::string_view text = trim(expression);
    if (text.find_first_of(kBlanks) != std::string_view::npos) {
        throw Error::format("dependency \"{}\": whitespace inside the expression", expression);
    }
    // Component names cannot contain ':' or '-', so the first of them ends the name; '-' is
    // the legacy separator and only counts when there is no ':'.
    auto separator = text.find(':');
    if (separator == std::string_view::npos) {
        separator = text.find('-');
    }
    Dependency dependency;
    dependency.name = std::string(text.substr(0, separator));
    if (dependency.name.empty()) {
        throw Error::format("dependency \"{}\": empty component name", expression);
    }
    if (separator == std::string_view::npos) {
        return dependency;
    }
    const std::string_view requirement = text.substr(separator + 1);
    if (requirement.empty()) {
        throw Error::format("dependency \"{}\": no version after '{}'", expression,
                            text[separator]);
    }
    const auto op_length =
        std::min(requirement.find_first_not_of(kOperatorChars), requirement.size());
    const std::string_view op = requirement.substr(0, op_length);
    dependency.version = std::string(requirement.substr(op_length));
    dependency.op = op.empty() ? VersionOp::equal : parse_operator(expression, op);
    if (dependency.version.empty()) {
        throw Error::format("dependency \"{}\": operator \"{}\" is not followed by a version",
                            expression, op);
    }
    return dependency;
}

std::vector<std::string> split_list(std::string_view comma_separated) {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= comma_separated.size()) {
        auto end = comma_separated.find(',', start);
        if (end == std::string_view::npos) {
            end = comma_separated.size();
        }
        const std::string_view item = trim(comma_separated.substr(start, end - start));
        if (!item.empty()) {
            items.emplace_back(item);
        }
        start = end + 1;
    }
    return items;
}

bool satisfies(const Dependency& dependency, std::string_view version) {
    const std::string_view required = dependency.version;
    switch (dependency.op) {
        case VersionOp::any:
            return true;
        case VersionOp::equal:
            return version == required;
        case VersionOp::less:
            return compare_versions(required, version) > 0;
        case VersionOp::less_equal:
            return version == required || compare_versions(required, version) > 0;
        case VersionOp::greater:
            return compare_versions(required, version) < 0;
        case VersionOp::greater_equal:
            return version == required || compare_versions(required, version) < 0;
    }
    return false;
}

std::string to_string(const Dependency& dependency) {
    if (dependency.op == VersionOp::any) {
        return dependency.name;
    }
    std::string text = dependency.name;
    text += ':';
    text += operator_text(dependency.op);
    text += dependency.version;
    return text;
}

}  // namespace ferry::core
