// The installation state: IFW's components.xml, which the maintenance tool keeps in the target
// directory to record what is installed; read tolerantly and written byte-stable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/component.hpp"

namespace ferry::formats {

// One <Package> entry. Booleans default to false because IFW writes them only when true and
// reads an absent element as false (Checkable included, unlike package.xml).
struct InstalledComponent {
    std::string name;
    std::string title;
    std::string description;
    std::string version;
    std::string inherit_version_from;  // <Version inheritVersionFrom="..">; empty when absent
    std::string last_update_date;      // YYYY-MM-DD; empty when unknown
    std::string install_date;          // YYYY-MM-DD; empty when unknown
    std::uint64_t size = 0;            // <Size>: the uncompressed size of the installed data
    std::optional<int> sorting_priority;
    std::optional<TreeName> tree_name;
    std::vector<std::string> dependencies;    // raw expressions, see core::parse_dependency
    std::vector<std::string> auto_depend_on;  // raw names
    bool forced_installation = false;
    bool is_virtual = false;
    bool checkable = false;
    bool expanded_by_default = false;
    std::string content_sha1;  // empty when the repository carried none
    bool operator==(const InstalledComponent&) const = default;
};

struct InstalledComponents {
    std::string application_name;
    std::string application_version;
    std::vector<InstalledComponent> components;  // in file order; the writer keeps this order
    bool operator==(const InstalledComponents&) const = default;

    const InstalledComponent* find(std::string_view name) const;
};

// Writes <Packages> the way IFW lays it out (element order of IFW's LocalPackageHub, optional
// elements only when set), with an XML declaration; the same state gives the same bytes.
std::string write_components_xml(const InstalledComponents& installed);

// Reads a components.xml written by IFW or ferry: any element order, unknown elements ignored.
// Rejects a root other than <Packages>, a <Package> without Name, a name given twice, a Size
// that is not a number and dates that are not YYYY-MM-DD; errors name source_name and the line.
InstalledComponents parse_components_xml(std::string_view xml_text, std::string_view source_name);

// Whether text is a calendar date written YYYY-MM-DD (the form Updates.xml and components.xml
// use).
bool is_iso_date(std::string_view text);

}  // namespace ferry::formats
