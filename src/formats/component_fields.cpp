#include "formats/component_fields.hpp"

#include "formats/names.hpp"

namespace ferry::formats {

namespace {

void check(const XmlSource& xml, const pugi::xml_node& e, std::string_view context, NameKind kind,
           std::string_view text) {
    if (text.empty()) {
        return;
    }
    if (auto problem = name_problem(kind, text)) {
        throw xml.error_at(e, fmt::format("{}{}{} \"{}\" {}", context, context.empty() ? "" : ": ",
                                          to_string(kind), text, *problem));
    }
}

void check_all(const XmlSource& xml, const pugi::xml_node& e, std::string_view context,
               NameKind kind, const std::vector<std::string>& texts) {
    for (const auto& text : texts) {
        check(xml, e, context, kind, text);
    }
}

}  // namespace

void check_path_names(const XmlSource& xml, const pugi::xml_node& e, const ComponentDescription& c,
                      std::string_view context) {
    const std::string_view element = e.name();
    if (element == "Name") {
        check(xml, e, {}, NameKind::component, c.name);
    } else if (element == "Version") {
        check(xml, e, context, NameKind::version, c.version);
    } else if (element == "DownloadableArchives") {
        check_all(xml, e, context, NameKind::archive, c.downloadable_archives);
    } else if (element == "Script") {
        check(xml, e, context, NameKind::meta_file, c.script);
    } else if (element == "Licenses") {
        for (const auto& license : c.licenses) {
            check(xml, e, context, NameKind::meta_file, license.file);
        }
    } else if (element == "UserInterfaces") {
        check_all(xml, e, context, NameKind::meta_file, c.user_interfaces);
    } else if (element == "Translations") {
        check_all(xml, e, context, NameKind::meta_file, c.translations);
    }
}

}  // namespace ferry::formats
