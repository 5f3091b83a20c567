#include "core/relative_path.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace ferry::core {

CleanedPath clean_relative_path(std::string_view text) {
    if (text.find('\0') != std::string_view::npos) {
        return {"", "contains a NUL byte"};
    }
    if (!text.empty() && text.front() == '/') {
        return {"", "is absolute"};
    }
    std::string clean;
    for (std::size_t start = 0; start <= text.size();) {
        const std::size_t end = std::min(text.find('/', start), text.size());
        const std::string_view part = text.substr(start, end - start);
        if (part == "..") {
            return {"", "has a '..' component"};
        }
        if (!part.empty() && part != ".") {
            clean += clean.empty() ? "" : "/";
            clean += part;
        }
        start = end + 1;
    }
    return {std::move(clean), ""};
}

namespace {

// The text as a message can carry it: a NUL would end the message there.
std::string quotable(std::string_view text) {
    std::string shown;
    for (char c : text) {
        shown += c == '\0' ? std::string("\\0") : std::string(1, c);
    }
    return shown;
}

}  // namespace

std::optional<std::string> relative_path_problem(std::string_view text) {
    CleanedPath cleaned = clean_relative_path(text);
    if (!cleaned.problem.empty()) {
        return std::move(cleaned.problem);
    }
    if (cleaned.clean.empty()) {
        return "names no file";
    }
    if (cleaned.clean != text) {
        return fmt::format("is not in its clean form (\"{}\")", cleaned.clean);
    }
    return std::nullopt;
}

RelativePath RelativePath::parse(std::string_view text) {
    if (auto problem = relative_path_problem(text)) {
        throw Error::format("the path \"{}\" {}", quotable(text), *problem);
    }
    return RelativePath(std::string(text));
}

std::string_view RelativePath::first() const {
    return std::string_view(path_).substr(0, path_.find('/'));
}

std::string_view RelativePath::name() const {
    const std::size_t slash = path_.rfind('/');
    return slash == std::string::npos ? std::string_view(path_)
                                      : std::string_view(path_).substr(slash + 1);
}

bool RelativePath::has_parent() const {
    return path_.find('/') != std::string::npos;
}

RelativePath RelativePath::parent() const {
    const std::size_t slash = path_.rfind('/');
    if (slash == std::string::npos) {
        throw Error::format(ErrorKind::internal, "the path \"{}\" has no parent", path_);
    }
    return RelativePath(path_.substr(0, slash));
}

void check_file_name(std::string_view name, std::string_view what) {
    if (!relative_path_problem(name) && name.find('/') == std::string_view::npos) {
        return;
    }
    throw Error::format("the {} \"{}\" is not a file name", what, quotable(name));
}

}  // namespace ferry::core
