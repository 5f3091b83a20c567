// Reads and validates IFW's packages/<name>/meta/package.xml.
// The checks mirror what IFW's repogen refuses, so a tree ferry accepts is one IFW accepts too.
#include "formats/package_xml.hpp"

#include <charconv>
#include <system_error>

#include "core/error.hpp"
#include "core/files.hpp"
#include "formats/component_fields.hpp"
#include "formats/names.hpp"
#include "formats/xml_text.hpp"

namespace ferry::formats {

namespace {

bool is_leap_year(int year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

// YYYY-MM-DD naming a day that exists.
bool is_iso_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return false;
    }
    auto number = [&](std::size_t pos, std::size_t len, int& value) {
        const char* first = text.data() + pos;
        const char* last = first + len;
        auto [end, ec] = std::from_chars(first, last, value);
        return ec == std::errc() && end == last && *first != '-' && *first != '+';
    };
    int year = 0;
    int month = 0;
    int day = 0;
    if (!number(0, 4, year) || !number(5, 2, month) || !number(8, 2, day)) {
        return false;
    }
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1) {
        return false;
    }
    int days = kDays[month - 1] + (month == 2 && is_leap_year(year) ? 1 : 0);
    return day <= days;
}

class PackageReader {
  public:
    explicit PackageReader(const XmlSource& xml) : xml_(xml) {}

    ComponentDescription read(std::string_view component_name) {
        pugi::xml_node root = xml_.document().document_element();
        if (std::string_view(root.name()) != "Package") {
            throw xml_.error_at(
                root, fmt::format("root element is <{}>, expected <Package>", root.name()));
        }
        c_.name = component_name;
        for (pugi::xml_node e : root.children()) {
            if (e.type() == pugi::node_element) {
                read_element(e);
                if (e != version_) {  // the Version after IFW's own checks, in validate()
                    check_path_names(xml_, e, c_);
                }
            }
        }
        validate(root);
        return std::move(c_);
    }

    bool release_date_given() const { return release_date_given_; }

  private:
    void read_element(const pugi::xml_node& e) {
        const std::string_view name = e.name();
        const std::string text = element_text(e);
        for (const auto& [flag_name, flag] : kComponentFlags) {
            if (name == flag_name) {
                c_.*flag = strict_bool(e, name, text);
                return;
            }
        }
        for (const auto& [list_name, list] : kComponentLists) {
            if (name == list_name) {
                c_.*list = split_comma_list(text);
                return;
            }
        }
        if (name == "DisplayName") {
            c_.display_names.push_back({e.attribute("xml:lang").value(), text});
        } else if (name == "Description") {
            c_.descriptions.push_back({e.attribute("xml:lang").value(), text});
        } else if (name == "Version") {
            version_ = e;
            c_.version = text;
        } else if (name == "ReleaseDate") {
            release_date_ = e;
            c_.release_date = trim(text);
        } else if (name == "Default") {
            default_ = e;
            read_default(trim(text));
        } else if (name == "Checkable") {
            c_.checkable = strict_bool(e, name, text);
        } else if (name == "SortingPriority") {
            c_.sorting_priority = integer(e, name, text);
        } else if (name == "Script") {
            c_.script = trim(text);
        } else if (name == "UpdateText") {
            c_.update_text = text;
        } else if (name == "ContentSha1") {
            c_.content_sha1 = trim(text);
        } else if (name == "TreeName") {
            read_tree_name(e, text);
        } else if (name == "Licenses") {
            read_licenses(e);
        } else if (name == "UserInterfaces") {
            c_.user_interfaces = child_texts(e, "UserInterface");
        } else if (name == "Translations") {
            c_.translations = child_texts(e, "Translation");
        } else if (name == "Operations") {
            read_operations(e);
        }
        // Anything else is an element of a newer IFW (or a typo IFW ignores as well).
    }

    void read_default(std::string_view text) {
        // IFW also accepts a script expression here; only the two literals are normalized.
        if (auto value = parse_bool_text(text)) {
            c_.default_value = *value ? "true" : "false";
        } else {
            c_.default_value = text;
        }
    }

    void read_tree_name(const pugi::xml_node& e, const std::string& text) {
        TreeName tree{std::string(trim(text)), false};
        if (pugi::xml_attribute move = e.attribute("moveChildren")) {
            auto value = parse_bool_text(move.value());
            if (!value) {
                throw xml_.error_at(e, fmt::format("TreeName attribute moveChildren must be "
                                                   "\"true\" or \"false\", not \"{}\"",
                                                   move.value()));
            }
            tree.move_children = *value;
        }
        c_.tree_name = std::move(tree);
    }

    void read_licenses(const pugi::xml_node& licenses) {
        for (pugi::xml_node e : licenses.children("License")) {
            License license{e.attribute("name").value(), e.attribute("file").value(),
                            e.attribute("priority").value()};
            if (license.name.empty() || license.file.empty()) {
                throw xml_.error_at(e, "License needs both a name and a file attribute");
            }
            c_.licenses.push_back(std::move(license));
        }
    }

    void read_operations(const pugi::xml_node& operations) {
        for (pugi::xml_node e : operations.children("Operation")) {
            Operation operation{e.attribute("name").value(), {}};
            if (operation.name.empty()) {
                throw xml_.error_at(e, "Operation has no name attribute");
            }
            for (pugi::xml_node argument : e.children("Argument")) {
                operation.arguments.push_back(element_text(argument));
            }
            c_.operations.push_back(std::move(operation));
        }
    }

    std::vector<std::string> child_texts(const pugi::xml_node& parent, const char* child_name) {
        std::vector<std::string> texts;
        for (pugi::xml_node e : parent.children(child_name)) {
            const std::string raw = element_text(e);
            std::string_view text = trim(raw);
            if (text.empty()) {
                throw xml_.error_at(e, fmt::format("{} is empty", child_name));
            }
            texts.emplace_back(text);
        }
        return texts;
    }

    bool strict_bool(const pugi::xml_node& e, std::string_view name, std::string_view text) {
        auto value = parse_bool_text(text);
        if (!value) {
            throw xml_.error_at(
                e, fmt::format("{} must be \"true\" or \"false\", not \"{}\"", name, text));
        }
        return *value;
    }

    int integer(const pugi::xml_node& e, std::string_view name, std::string_view text) {
        std::string_view digits = trim(text);
        if (!digits.empty() && digits.front() == '+') {
            digits.remove_prefix(1);
        }
        int value = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
            throw xml_.error_at(e, fmt::format("{} \"{}\" is not an integer", name, text));
        }
        return value;
    }

    void validate(const pugi::xml_node& root) {
        const std::string& v = c_.version;
        if (!version_) {
            throw xml_.error_at(root, "<Package> has no Version");
        }
        if (v.empty()) {
            throw xml_.error_at(version_, "Version is empty");
        }
        if (trim(v).size() != v.size()) {
            throw xml_.error_at(version_,
                                fmt::format("Version \"{}\" has surrounding whitespace", v));
        }
        if (v.front() == '<' || v.front() == '=' || v.front() == '>') {
            throw xml_.error_at(
                version_, fmt::format("Version \"{}\" must not start with '<', '=' or '>'", v));
        }
        check_path_names(xml_, version_, c_);
        release_date_given_ = !c_.release_date.empty();
        if (c_.release_date.empty()) {
            c_.release_date = core::default_release_date();
        } else if (!is_iso_date(c_.release_date)) {
            throw xml_.error_at(release_date_,
                                fmt::format("ReleaseDate \"{}\" is not a date in the form "
                                            "YYYY-MM-DD",
                                            c_.release_date));
        }
        if (c_.default_value == "true" && c_.is_virtual) {
            throw xml_.error_at(default_,
                                "Default \"true\" cannot be combined with Virtual "
                                "\"true\" (a virtual component is never installed "
                                "by default)");
        }
        if (c_.default_value == "true" && c_.checkable == false) {
            throw xml_.error_at(default_,
                                "Default \"true\" cannot be combined with Checkable "
                                "\"false\" (a default component must be checkable)");
        }
    }

    const XmlSource& xml_;
    ComponentDescription c_;
    pugi::xml_node version_;
    pugi::xml_node release_date_;
    pugi::xml_node default_;
    bool release_date_given_ = false;
};

}  // namespace

void validate_component_name(std::string_view name, std::string_view source_name) {
    if (name.empty()) {
        throw located_error(source_name, 0, "component name is empty");
    }
    for (char forbidden : {'-', ':'}) {
        if (name.find(forbidden) != std::string_view::npos) {
            throw located_error(
                source_name, 0,
                fmt::format("component name \"{}\" contains '{}' (not allowed by IFW)", name,
                            forbidden));
        }
    }
    if (auto problem = name_problem(NameKind::component, name)) {
        throw located_error(source_name, 0,
                            fmt::format("component name \"{}\" {}", name, *problem));
    }
}

ComponentDescription parse_package_xml(std::string_view xml_text, std::string_view component_name,
                                       std::string_view source_name, bool* release_date_given) {
    validate_component_name(component_name, source_name);
    XmlSource xml(xml_text, source_name);
    PackageReader reader(xml);
    ComponentDescription description = reader.read(component_name);
    if (release_date_given != nullptr) {
        *release_date_given = reader.release_date_given();
    }
    return description;
}

ComponentDescription read_package_xml(const std::filesystem::path& package_dir,
                                      bool* release_date_given) {
    std::filesystem::path dir =
        package_dir.has_filename() ? package_dir : package_dir.parent_path();
    std::filesystem::path file = dir / "meta" / "package.xml";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
        throw Error::format("{}: package.xml not found (every package needs meta/package.xml)",
                            file.string());
    }
    return parse_package_xml(core::read_file(file), dir.filename().string(), file.string(),
                             release_date_given);
}

}  // namespace ferry::formats
