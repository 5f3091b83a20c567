// Internal to src/formats: the ComponentDescription fields that package.xml and Updates.xml
// both hold as plain flags or comma-separated lists, named as IFW names the elements, and the
// check of the names in them that become paths.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/component.hpp"
#include "formats/xml_text.hpp"

namespace ferry::formats {

using ComponentFlag = bool ComponentDescription::*;
using ComponentList = std::vector<std::string> ComponentDescription::*;

inline constexpr std::pair<std::string_view, ComponentFlag> kComponentFlags[] = {
    {"Virtual", &ComponentDescription::is_virtual},
    {"Essential", &ComponentDescription::essential},
    {"ForcedInstallation", &ComponentDescription::forced_installation},
    {"ForcedUpdate", &ComponentDescription::forced_update},
    {"RequiresAdminRights", &ComponentDescription::requires_admin_rights},
    {"ExpandedByDefault", &ComponentDescription::expanded_by_default},
};

inline constexpr std::pair<std::string_view, ComponentList> kComponentLists[] = {
    {"Dependencies", &ComponentDescription::dependencies},
    {"AutoDependOn", &ComponentDescription::auto_depend_on},
    {"Replaces", &ComponentDescription::replaces},
    {"DownloadableArchives", &ComponentDescription::downloadable_archives},
};

// Called by both readers after element e was read into c: checks the names e set that become
// paths (Name, Version, DownloadableArchives, Script, Licenses, UserInterfaces, Translations)
// and throws an error naming the file, e's line, the context ("component A", when the file
// holds several), the name and the cause. Empty texts are left to the readers' own rules.
void check_path_names(const XmlSource& xml, const pugi::xml_node& e, const ComponentDescription& c,
                      std::string_view context = {});

}  // namespace ferry::formats
