// The description of one component as package.xml states it and Updates.xml carries it.
// One struct for both, because IFW's repogen copies package.xml's elements into PackageUpdate.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ferry::formats {

// A text with an optional xml:lang (empty lang = the untranslated text).
struct LocalizedText {
    std::string lang;
    std::string text;
    bool operator==(const LocalizedText&) const = default;
};

struct License {
    std::string name;
    std::string file;
    std::string priority;  // kept as written; empty when absent
    bool operator==(const License&) const = default;
};

// <Operation name="..."><Argument>...</Argument>...</Operation>
struct Operation {
    std::string name;
    std::vector<std::string> arguments;
    bool operator==(const Operation&) const = default;
};

struct TreeName {
    std::string name;
    bool move_children = false;
    bool operator==(const TreeName&) const = default;
};

struct ComponentDescription {
    std::string name;
    std::vector<LocalizedText> display_names;
    std::vector<LocalizedText> descriptions;
    std::string version;
    std::string release_date;   // YYYY-MM-DD
    std::string default_value;  // "true", "false", "script" or empty (absent)
    bool is_virtual = false;
    std::vector<std::string> dependencies;    // raw expressions, see core::parse_dependency
    std::vector<std::string> auto_depend_on;  // raw names
    std::string script;
    std::optional<int> sorting_priority;
    std::string update_text;
    bool essential = false;
    bool forced_installation = false;
    bool forced_update = false;
    bool requires_admin_rights = false;
    std::optional<bool> checkable;  // absent means IFW's default (true)
    bool expanded_by_default = false;
    std::vector<std::string> replaces;
    std::optional<TreeName> tree_name;
    std::vector<License> licenses;
    std::vector<std::string> user_interfaces;  // file names in meta/
    std::vector<std::string> translations;     // file names in meta/
    std::vector<Operation> operations;
    std::vector<std::string> downloadable_archives;
    std::string content_sha1;  // IFW's ContentSha1, passed through when given

    bool operator==(const ComponentDescription&) const = default;
};

}  // namespace ferry::formats
