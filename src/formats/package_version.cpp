#include "formats/package_version.hpp"

#include <pugixml.hpp>

#include "core/files.hpp"
#include "formats/xml_text.hpp"

namespace ferry::formats {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

std::string raised_version(std::string_view version) {
    std::size_t end = version.size();
    while (end > 0 && !is_digit(version[end - 1])) {
        --end;
    }
    if (end == 0) {
        return std::string(version) + ".1";
    }
    std::size_t start = end - 1;
    while (start > 0 && is_digit(version[start - 1])) {
        --start;
    }
    // Decimal addition on the text: a run of digits may be longer than any integer type.
    std::string digits(version.substr(start, end - start));
    std::size_t i = digits.size();
    while (i > 0 && digits[i - 1] == '9') {
        digits[--i] = '0';
    }
    if (i == 0) {
        digits.insert(digits.begin(), '1');
    } else {
        ++digits[i - 1];
    }
    return std::string(version.substr(0, start)) + digits + std::string(version.substr(end));
}

std::string with_package_version(std::string_view xml_text, std::string_view version,
                                 std::string_view source_name) {
    // Parsed without decoding entities or line ends, so that a text node's value is its bytes
    // in the file and its offset says where they are: the file is edited there and nowhere else.
    pugi::xml_document document;
    const unsigned options =
        (pugi::parse_default | pugi::parse_comments) & ~pugi::parse_escapes & ~pugi::parse_eol;
    const pugi::xml_parse_result parsed =
        document.load_buffer(xml_text.data(), xml_text.size(), options, pugi::encoding_utf8);
    if (!parsed) {
        throw located_error(source_name, 0, fmt::format("malformed XML: {}", parsed.description()));
    }
    const pugi::xml_node element = document.child("Package").child("Version");
    if (!element) {
        throw located_error(source_name, 0, "no <Version> in <Package> to raise");
    }
    const pugi::xml_node text = element.first_child();
    if (text.type() != pugi::node_pcdata || text.next_sibling()) {
        throw located_error(source_name, 0,
                            "<Version> holds more than plain text; raise it by hand");
    }
    const std::ptrdiff_t found = text.offset_debug();
    const std::size_t length = std::char_traits<char>::length(text.value());
    if (found < 0 || static_cast<std::size_t>(found) + length > xml_text.size()) {
        throw located_error(source_name, 0, "cannot locate the text of <Version>");
    }
    const auto offset = static_cast<std::size_t>(found);
    std::string result(xml_text.substr(0, offset));
    append_xml_escaped(result, version, false, source_name);
    result += xml_text.substr(offset + length);
    return result;
}

void set_package_version(const std::filesystem::path& package_xml, std::string_view version) {
    const std::string text = core::read_file(package_xml);
    core::write_file_atomic(package_xml, with_package_version(text, version, package_xml.string()));
}

}  // namespace ferry::formats
