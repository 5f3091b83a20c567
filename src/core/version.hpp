// IFW-compatible version comparison and dependency expressions ("name:>=1.0", legacy "name->=1.0").
// Pure functions: the update decisions of the client and the checks of the market build on them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferry::core {

// Compares like Qt IFW's KDUpdater::compareVersion: negative, zero or positive.
// Parts are split on '.', '-' and '_'; a part "x" is a wildcard that makes the versions equal;
// numeric parts compare as integers; two non-numeric parts compare after stripping their shared
// prefix; a numeric and a non-numeric part compare as strings; when one side runs out, an extra
// numeric part makes that side greater and an extra non-numeric part makes it smaller.
int compare_versions(std::string_view a, std::string_view b);

enum class VersionOp { any, equal, less, less_equal, greater, greater_equal };

struct Dependency {
    std::string name;
    VersionOp op = VersionOp::any;
    std::string version;  // empty when op is any

    bool operator==(const Dependency&) const = default;
};

// Parses "name", "name:op version" or the legacy "name-op version" (op one of < <= > >= =;
// a version without an operator means "="). Throws ferry::Error quoting the expression.
Dependency parse_dependency(std::string_view expression);

// Splits IFW's comma-separated lists (Dependencies, AutoDependOn, Replaces), trimming blanks.
std::vector<std::string> split_list(std::string_view comma_separated);

// Whether an available version meets the dependency, exactly as IFW decides it: "=" is an exact
// string match; "<=" and ">=" accept an exact string match or the strict comparison.
bool satisfies(const Dependency& dependency, std::string_view version);

std::string to_string(const Dependency& dependency);

}  // namespace ferry::core
