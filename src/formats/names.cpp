#include "formats/names.hpp"

#include <fmt/format.h>

#include "core/hash.hpp"

namespace ferry::formats {

namespace {

struct NameRule {
    std::string_view punctuation;  // allowed besides ASCII letters and digits
    std::size_t max_length;
    bool underscore_first;  // may start with '_' (else only with a letter or a digit)
    std::string_view why;  // completes "... may hold only ..."
};

// Letters, digits and a little punctuation only: these names become directory and file names
// on every file system a repository is copied to, and parts of URLs that are not escaped.
// <Version><archive>.sha1 must fit the 255 bytes of a file name.
NameRule rule_of(NameKind kind) {
    switch (kind) {
        case NameKind::component:
            return {"._-", 200, true,
                    "a component name is a directory of the repository, so it may hold only "
                    "letters, digits and . _ -, starting with a letter, a digit or _"};
        case NameKind::version:
            return {"._-+~", 100, false,
                    "a version is part of the repository's file names, so it may hold only "
                    "letters, digits and . _ - + ~, starting with a letter or a digit"};
        case NameKind::archive:
        case NameKind::meta_file:
            break;
    }
    return {"._-+~@", 150, true,
            "an archive name is a file name of the repository, so it may hold only letters, "
            "digits and . _ - + ~ @, starting with a letter, a digit or _"};
}

bool is_ascii_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::optional<std::string> rule_problem(const NameRule& rule, std::string_view text) {
    if (text.empty()) {
        return "is empty";
    }
    if (text.size() > rule.max_length) {
        return fmt::format("is longer than {} characters", rule.max_length);
    }
    for (char c : text) {
        if (!is_ascii_alnum(c) && rule.punctuation.find(c) == std::string_view::npos) {
            return fmt::format("contains {} ({})", describe_character(c), rule.why);
        }
    }
    const char first = text.front();
    if (!is_ascii_alnum(first) && (first != '_' || !rule.underscore_first)) {
        return fmt::format("starts with {} ({})", describe_character(first), rule.why);
    }
    return std::nullopt;
}

// One directory or file name inside a component's metadata: anything a file system takes,
// except what leaves the directory or cannot be shown.
std::optional<std::string> meta_segment_problem(std::string_view segment) {
    if (segment.empty()) {
        return "has an empty path element (a leading '/' or '//')";
    }
    if (segment == "." || segment == "..") {
        return fmt::format("has the path element \"{}\" (meta files stay inside the metadata)",
                           segment);
    }
    if (segment.size() > 255) {
        return "has a path element longer than 255 bytes";
    }
    for (char c : segment) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f || c == '\\') {
            return fmt::format("contains {}", describe_character(c));
        }
    }
    return std::nullopt;
}

}  // namespace

std::string describe_character(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
        return fmt::format("a control character (0x{:02x})", byte);
    }
    if (byte >= 0x80) {
        return "a non-ASCII character";
    }
    if (c == ' ') {
        return "a space";
    }
    return fmt::format("'{}'", c);
}

std::string_view to_string(NameKind kind) {
    switch (kind) {
        case NameKind::component:
            return "component name";
        case NameKind::version:
            return "Version";
        case NameKind::archive:
            return "archive name";
        case NameKind::meta_file:
            return "meta file name";
    }
    return "name";
}

std::optional<std::string> name_problem(NameKind kind, std::string_view text) {
    if (text.empty()) {
        return "is empty";
    }
    if (kind == NameKind::meta_file) {
        std::size_t start = 0;
        while (true) {
            const std::size_t end = text.find('/', start);
            if (auto problem = meta_segment_problem(text.substr(start, end - start))) {
                return problem;
            }
            if (end == std::string_view::npos) {
                return std::nullopt;
            }
            start = end + 1;
        }
    }
    return rule_problem(rule_of(kind), text);
}

std::optional<std::string> repository_path_problem(std::string_view path) {
    // A container image's blob, shared by the components of the repository.
    if (path.starts_with(kImageBlobPrefix) &&
        core::is_hex_digest(path.substr(kImageBlobPrefix.size()), 64)) {
        return std::nullopt;
    }
    const std::size_t slash = path.find('/');
    if (slash == std::string_view::npos) {
        return name_problem(NameKind::archive, path);
    }
    if (auto problem = name_problem(NameKind::component, path.substr(0, slash))) {
        return "has a directory that " + *problem;
    }
    const std::string_view file = path.substr(slash + 1);
    if (file.find('/') != std::string_view::npos) {
        return "has more than one directory (files are <component>/<file> or at the top)";
    }
    // <Version><archive>[.sha1]: the characters of both, the length of a whole file name.
    NameRule file_rule = rule_of(NameKind::archive);
    file_rule.max_length = 255;
    if (auto problem = rule_problem(file_rule, file)) {
        return "has a file name that " + *problem;
    }
    return std::nullopt;
}

}  // namespace ferry::formats
