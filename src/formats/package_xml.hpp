// Reads and validates IFW's packages/<name>/meta/package.xml.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "formats/component.hpp"

namespace ferry::formats {

// Parses package.xml text. component_name is the package directory's name (IFW takes the
// component's name from it). source_name is used in errors ("packages/a/meta/package.xml:12: ...").
// Validates as IFW does: the name has no '-' or ':'; Version is non-empty, has no surrounding
// whitespace and does not start with '<', '=' or '>'; ReleaseDate is YYYY-MM-DD (empty becomes
// core::default_release_date()); Default is not combined with Virtual or with Checkable.
// Throws ferry::Error naming the file, the line and the cause.
// release_date_given, when not null, is set to whether the file has a ReleaseDate of its own.
ComponentDescription parse_package_xml(std::string_view xml_text, std::string_view component_name,
                                       std::string_view source_name,
                                       bool* release_date_given = nullptr);

// Reads <package_dir>/meta/package.xml; the component name is package_dir's file name.
ComponentDescription read_package_xml(const std::filesystem::path& package_dir,
                                      bool* release_date_given = nullptr);

// Checks a component name as IFW does; throws naming the source and the offending character.
void validate_component_name(std::string_view name, std::string_view source_name);

}  // namespace ferry::formats
