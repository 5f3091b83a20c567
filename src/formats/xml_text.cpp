// XML plumbing shared by the package.xml and Updates.xml code: parsing with line-numbered
// errors, text and boolean helpers, and a small writer with IFW's one-space layout.
#include "formats/xml_text.hpp"

#include <algorithm>
#include <cctype>

#include "core/text.hpp"

namespace ferry::formats {

namespace {

// Every text and attribute value of the document through core::printable_text: pugixml takes
// raw control characters and references such as "&#27;" alike, and no value read from a file
// may carry one (they would reach a terminal, and XML 1.0 cannot write them back). A loop,
// not a recursion: the nesting depth is the file's to choose.
void make_printable(pugi::xml_document& document) {
    pugi::xml_node node = document.first_child();
    while (node) {
        if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
            if (!core::is_printable_text(node.value())) {
                node.set_value(core::printable_text(node.value()).c_str());
            }
        }
        for (pugi::xml_attribute attribute : node.attributes()) {
            if (!core::is_printable_text(attribute.value())) {
                attribute.set_value(core::printable_text(attribute.value()).c_str());
            }
        }
        if (node.first_child()) {
            node = node.first_child();
            continue;
        }
        while (node && !node.next_sibling()) {
            node = node.parent();
        }
        if (node) {
            node = node.next_sibling();
        }
    }
}

}  // namespace

XmlSource::XmlSource(std::string_view text, std::string_view source_name)
    : source_name_(source_name), text_(text) {
    // parse_ws_pcdata_single keeps an element whose whole text is blanks (" ") as written,
    // so such values survive a write/read round trip.
    const unsigned options = pugi::parse_default | pugi::parse_ws_pcdata_single;
    pugi::xml_parse_result result =
        document_.load_buffer(text.data(), text.size(), options, pugi::encoding_utf8);
    if (!result) {
        throw located_error(source_name_, line_of_offset(result.offset),
                            std::string("malformed XML: ") + result.description());
    }
    make_printable(document_);
}

int XmlSource::line_of_offset(std::ptrdiff_t offset) const {
    if (offset < 0) {
        return 0;
    }
    // A final newline starts no line: an error at the end of the text (pugixml reports a missing
    // element there) belongs to the last line the user sees.
    std::string_view before = text_.substr(0, static_cast<std::size_t>(offset));
    if (static_cast<std::size_t>(offset) >= text_.size() && before.ends_with('\n')) {
        before.remove_suffix(1);
    }
    return 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
}

int XmlSource::line_of(const pugi::xml_node& node) const {
    if (!node || node.type() == pugi::node_document) {
        return 0;
    }
    return line_of_offset(node.offset_debug());
}

Error XmlSource::error_at(const pugi::xml_node& node, std::string_view message) const {
    return located_error(source_name_, line_of(node), message);
}

Error located_error(std::string_view source_name, int line, std::string_view message) {
    if (line > 0) {
        return Error::format("{}:{}: {}", source_name, line, message);
    }
    return Error::format("{}: {}", source_name, message);
}

std::string element_text(const pugi::xml_node& element) {
    std::string text;
    for (pugi::xml_node child : element.children()) {
        if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
            text += child.value();
        }
    }
    return text;
}

std::string_view trim(std::string_view text) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!text.empty() && blank(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && blank(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

std::vector<std::string> split_comma_list(std::string_view text) {
    std::vector<std::string> items;
    while (true) {
        std::size_t comma = text.find(',');
        std::string_view item = trim(text.substr(0, comma));
        if (!item.empty()) {
            items.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            return items;
        }
        text.remove_prefix(comma + 1);
    }
}

std::string join_comma_list(const std::vector<std::string>& items) {
    std::string joined;
    for (const std::string& item : items) {
        if (!joined.empty()) {
            joined += ',';
        }
        joined += item;
    }
    return joined;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

std::optional<bool> parse_bool_text(std::string_view text) {
    text = trim(text);
    if (equals_ignoring_case(text, "true")) {
        return true;
    }
    if (equals_ignoring_case(text, "false")) {
        return false;
    }
    return std::nullopt;
}

bool has_child_elements(const pugi::xml_node& element) {
    return static_cast<bool>(element.find_child(
        [](const pugi::xml_node& child) { return child.type() == pugi::node_element; }));
}

XmlWriter::XmlWriter() : out_("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") {}

void XmlWriter::start_tag(std::string_view name, const Attributes& attributes) {
    out_.append(static_cast<std::size_t>(depth_), ' ');
    out_ += '<';
    out_ += name;
    for (const auto& [key, value] : attributes) {
        out_ += ' ';
        out_ += key;
        out_ += "=\"";
        escape(value, true, key);
        out_ += '"';
    }
}

void XmlWriter::open(std::string_view name, const Attributes& attributes) {
    start_tag(name, attributes);
    out_ += ">\n";
    ++depth_;
}

void XmlWriter::close(std::string_view name) {
    --depth_;
    out_.append(static_cast<std::size_t>(depth_), ' ');
    out_ += "</";
    out_ += name;
    out_ += ">\n";
}

void XmlWriter::element(std::string_view name, std::string_view text,
                        const Attributes& attributes) {
    start_tag(name, attributes);
    if (text.empty()) {
        out_ += "/>\n";
        return;
    }
    out_ += '>';
    escape(text, false, name);
    out_ += "</";
    out_ += name;
    out_ += ">\n";
}

void append_xml_escaped(std::string& out, std::string_view value, bool in_attribute,
                        std::string_view where) {
    for (char c : value) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            // A raw CR would be turned into LF by any reader, and raw blanks inside an
            // attribute into spaces; character references keep them.
            case '\r':
                out += "&#13;";
                break;
            case '"':
                out += in_attribute ? "&quot;" : "\"";
                break;
            case '\n':
                out += in_attribute ? "&#10;" : "\n";
                break;
            case '\t':
                out += in_attribute ? "&#9;" : "\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    throw Error::format("{}: control character 0x{:02x} cannot be written to XML",
                                        where,
                                        static_cast<unsigned>(static_cast<unsigned char>(c)));
                }
                out += c;
        }
    }
}

void XmlWriter::escape(std::string_view value, bool in_attribute, std::string_view where) {
    append_xml_escaped(out_, value, in_attribute, where);
}

}  // namespace ferry::formats
