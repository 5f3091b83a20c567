// Raising a component's version in its package.xml, as `ferry publish --bump` does for
// components whose content changed while their version stayed: the next version, and the file
// with only the text of its <Version> replaced.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ferry::formats {

// The next version after version: its last run of digits plus one ("1.0" -> "1.1",
// "2.0.9" -> "2.0.10", "1.0-beta2" -> "1.0-beta3", "1.99999999999999999999" ->
// "1.100000000000000000000"); a version without digits gets ".1" appended. The result compares
// greater (core::compare_versions).
std::string raised_version(std::string_view version);

// xml_text with the text of the root <Package>'s own <Version> element replaced by version
// (escaped) and every other byte as it was: comments, order, layout, line ends. Versions that
// appear elsewhere (in comments, in other elements) are left alone. Throws ferry::Error naming
// source_name when the text is not XML, has no such <Version>, or its <Version> holds anything
// but plain text.
std::string with_package_version(std::string_view xml_text, std::string_view version,
                                 std::string_view source_name);

// Rewrites the file (atomically) with with_package_version.
void set_package_version(const std::filesystem::path& package_xml, std::string_view version);

}  // namespace ferry::formats
