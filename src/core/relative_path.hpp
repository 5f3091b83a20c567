// A path inside a directory that outside input may name (an archive entry, a file record, the
// journal): checked once, when it is made, to be relative, clean and free of '..', so that code
// holding one can join it to its root without asking again.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::core {

// The clean form of a '/'-separated relative path ("./a//b/" → "a/b", "." → ""), or why it has
// none: clean is empty and problem says what is wrong ("is absolute", "has a '..' component",
// "contains a NUL byte"). Archive names are read leniently through this; stored paths are not.
struct CleanedPath {
    std::string clean;
    std::string problem;
};
CleanedPath clean_relative_path(std::string_view text);

// The one rule for a path that outside input names inside a directory: nullopt when text is a
// clean relative path (what RelativePath::parse accepts), else why not, as a phrase that
// completes `the path "a/../b" ...` ("has a '..' component", "is not in its clean form ("a/b")").
std::optional<std::string> relative_path_problem(std::string_view text);

class RelativePath {
  public:
    // text must already be clean: not empty, not absolute, no '..', '.' or empty component, no
    // NUL. Otherwise throws ferry::Error (invalid input) quoting text and saying why.
    static RelativePath parse(std::string_view text);

    const std::string& str() const { return path_; }
    const char* c_str() const { return path_.c_str(); }
    // The first component ("a" of "a/b/c").
    std::string_view first() const;
    // The last component ("c" of "a/b/c").
    std::string_view name() const;
    // "a/b" of "a/b/c"; false when there is no parent inside the directory.
    bool has_parent() const;
    RelativePath parent() const;

    // Joining two clean relative paths gives a clean one.
    friend RelativePath operator/(const RelativePath& a, const RelativePath& b) {
        return RelativePath(a.path_ + "/" + b.path_);
    }
    friend RelativePath operator/(const RelativePath& a, std::string_view name) {
        return a / parse(name);
    }
    auto operator<=>(const RelativePath&) const = default;
    bool operator==(const RelativePath&) const = default;

  private:
    explicit RelativePath(std::string path) : path_(std::move(path)) {}
    std::string path_;
};

// A single file name: a clean relative path of one component (component names, journal ids).
// Throws like RelativePath::parse, saying what the name is for.
void check_file_name(std::string_view name, std::string_view what);

}  // namespace ferry::core
