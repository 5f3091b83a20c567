// Reading and writing IFW's components.xml, the record of what is installed in a target
// directory; see components_xml.hpp for the rules.
#include "formats/components_xml.hpp"

#include <charconv>
#include <set>
#include <string>

#include <fmt/format.h>

#include "formats/xml_text.hpp"

namespace ferry::formats {

namespace {

bool flag(const pugi::xml_node& e) {
    return parse_bool_text(element_text(e)).value_or(false);
}

class ComponentsReader {
  public:
    explicit ComponentsReader(const XmlSource& xml) : xml_(xml) {}

    InstalledComponents read() {
        pugi::xml_node root = xml_.document().document_element();
        if (std::string_view(root.name()) != "Packages") {
            throw xml_.error_at(
                root, fmt::format("root element is <{}>, expected <Packages>", root.name()));
        }
        InstalledComponents installed;
        std::set<std::string, std::less<>> names;
        for (pugi::xml_node e : root.children()) {
            if (e.type() != pugi::node_element) {
                continue;
            }
            const std::string_view tag = e.name();
            if (tag == "ApplicationName") {
                installed.application_name = trim(element_text(e));
            } else if (tag == "ApplicationVersion") {
                installed.application_version = trim(element_text(e));
            } else if (tag == "Package") {
                InstalledComponent c = read_package(e);
                if (!names.insert(c.name).second) {
                    throw xml_.error_at(e, fmt::format("component \"{}\" is listed twice", c.name));
                }
                installed.components.push_back(std::move(c));
            }
        }
        return installed;
    }

  private:
    InstalledComponent read_package(const pugi::xml_node& package) {
        InstalledComponent c;
        for (pugi::xml_node e : package.children()) {
            if (e.type() != pugi::node_element) {
                continue;
            }
            const std::string_view tag = e.name();
            const std::string text = element_text(e);
            if (tag == "Name") {
                c.name = trim(text);
            } else if (tag == "Title") {
                c.title = text;
            } else if (tag == "Description") {
                c.description = text;
            } else if (tag == "Version") {
                c.version = trim(text);
                c.inherit_version_from = e.attribute("inheritVersionFrom").value();
            } else if (tag == "LastUpdateDate") {
                c.last_update_date = read_date(e, text);
            } else if (tag == "InstallDate") {
                c.install_date = read_date(e, text);
            } else if (tag == "Size") {
                c.size = read_size(e, text);
            } else if (tag == "SortingPriority") {
                c.sorting_priority = read_int(e, text);
            } else if (tag == "TreeName") {
                c.tree_name =
                    TreeName{std::string(trim(text)),
                             parse_bool_text(e.attribute("moveChildren").value()).value_or(false)};
            } else if (tag == "Dependencies") {
                c.dependencies = split_comma_list(text);
            } else if (tag == "AutoDependOn") {
                c.auto_depend_on = split_comma_list(text);
            } else if (tag == "ForcedInstallation") {
                c.forced_installation = flag(e);
            } else if (tag == "Virtual") {
                c.is_virtual = flag(e);
            } else if (tag == "Checkable") {
                c.checkable = flag(e);
            } else if (tag == "ExpandedByDefault") {
                c.expanded_by_default = flag(e);
            } else if (tag == "ContentSha1") {
                c.content_sha1 = trim(text);
            }
        }
        if (c.name.empty()) {
            throw xml_.error_at(package, "<Package> has no Name");
        }
        return c;
    }

    std::string read_date(const pugi::xml_node& e, std::string_view text) {
        const std::string_view date = trim(text);
        if (!date.empty() && !is_iso_date(date)) {
            throw xml_.error_at(
                e, fmt::format("{} \"{}\" is not a date (expected YYYY-MM-DD)", e.name(), date));
        }
        return std::string(date);
    }

    std::uint64_t read_size(const pugi::xml_node& e, std::string_view text) {
        const std::string_view digits = trim(text);
        std::uint64_t value = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
            throw xml_.error_at(e, fmt::format("Size \"{}\" is not a byte count", digits));
        }
        return value;
    }

    int read_int(const pugi::xml_node& e, std::string_view text) {
        const std::string_view digits = trim(text);
        int value = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
            throw xml_.error_at(e, fmt::format("{} \"{}\" is not a number", e.name(), digits));
        }
        return value;
    }

    const XmlSource& xml_;
};

void write_flag(XmlWriter& out, std::string_view name, bool value) {
    if (value) {
        out.element(name, "true");
    }
}

}  // namespace

const InstalledComponent* InstalledComponents::find(std::string_view name) const {
    for (const InstalledComponent& c : components) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

bool is_iso_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return false;
    }
    auto number = [&](std::size_t from, std::size_t length) {
        int value = 0;
        for (std::size_t i = from; i < from + length; ++i) {
            if (text[i] < '0' || text[i] > '9') {
                return -1;
            }
            value = value * 10 + (text[i] - '0');
        }
        return value;
    };
    const int year = number(0, 4);
    const int month = number(5, 2);
    const int day = number(8, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1) {
        return false;
    }
    constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month == 2 && day == 29) {
        return leap;
    }
    return day <= kDays[month - 1];
}

std::string write_components_xml(const InstalledComponents& installed) {
    XmlWriter out;
    out.open("Packages");
    out.element("ApplicationName", installed.application_name);
    out.element("ApplicationVersion", installed.application_version);
    for (const InstalledComponent& c : installed.components) {
        out.open("Package");
        out.element("Name", c.name);
        out.element("Title", c.title);
        out.element("Description", c.description);
        if (c.sorting_priority) {
            out.element("SortingPriority", std::to_string(*c.sorting_priority));
        }
        if (c.tree_name) {
            out.element("TreeName", c.tree_name->name,
                        {{"moveChildren", c.tree_name->move_children ? "true" : "false"}});
        }
        if (c.inherit_version_from.empty()) {
            out.element("Version", c.version);
        } else {
            out.element("Version", c.version, {{"inheritVersionFrom", c.inherit_version_from}});
        }
        out.element("LastUpdateDate", c.last_update_date);
        out.element("InstallDate", c.install_date);
        out.element("Size", std::to_string(c.size));
        if (!c.dependencies.empty()) {
            out.element("Dependencies", join_comma_list(c.dependencies));
        }
        if (!c.auto_depend_on.empty()) {
            out.element("AutoDependOn", join_comma_list(c.auto_depend_on));
        }
        write_flag(out, "ForcedInstallation", c.forced_installation);
        write_flag(out, "Virtual", c.is_virtual);
        write_flag(out, "Checkable", c.checkable);
        write_flag(out, "ExpandedByDefault", c.expanded_by_default);
        if (!c.content_sha1.empty()) {
            out.element("ContentSha1", c.content_sha1);
        }
        out.close("Package");
    }
    out.close("Packages");
    return out.text();
}

InstalledComponents parse_components_xml(std::string_view xml_text, std::string_view source_name) {
    XmlSource xml(xml_text, source_name);
    return ComponentsReader(xml).read();
}

}  // namespace ferry::formats
