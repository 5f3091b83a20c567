// XML plumbing shared by the package.xml and Updates.xml code: parsing with line-numbered
// errors, text and boolean helpers, and a small writer with IFW's one-space layout.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pugixml.hpp>

#include "core/error.hpp"

namespace ferry::formats {

// A parsed document that can say on which line of its source text a node starts. pugixml only
// records byte offsets, so lines are counted in the source text (which must outlive the
// XmlSource) when an error needs one.
class XmlSource {
  public:
    // Parses text; malformed XML throws "<source_name>:<line>: malformed XML: <cause>". Every
    // text and attribute value is made printable (core::printable_text): a control character
    // other than tab and newline, however the file writes it, is read as U+FFFD.
    XmlSource(std::string_view text, std::string_view source_name);

    const pugi::xml_document& document() const { return document_; }
    std::string_view source_name() const { return source_name_; }

    // 1-based line of the node's start tag; 0 when unknown (e.g. for a null node).
    int line_of(const pugi::xml_node& node) const;

    // "<source>:<line>: <message>" (or "<source>: <message>" when the line is unknown).
    Error error_at(const pugi::xml_node& node, std::string_view message) const;
    Error error(std::string_view message) const { return error_at(pugi::xml_node(), message); }

  private:
    int line_of_offset(std::ptrdiff_t offset) const;

    std::string source_name_;
    std::string_view text_;
    pugi::xml_document document_;
};

// "<source>:<line>: <message>", or "<source>: <message>" when line is 0.
Error located_error(std::string_view source_name, int line, std::string_view message);

// The element's character data: all text and CDATA children concatenated, untrimmed.
std::string element_text(const pugi::xml_node& element);

std::string_view trim(std::string_view text);

// Splits IFW's comma-separated lists, trimming blanks and dropping empty entries.
std::vector<std::string> split_comma_list(std::string_view text);

std::string join_comma_list(const std::vector<std::string>& items);

// "true"/"false" in any case, surrounding blanks ignored; nullopt for anything else.
std::optional<bool> parse_bool_text(std::string_view text);

bool equals_ignoring_case(std::string_view a, std::string_view b);

// Whether the element has at least one child element (as opposed to only text).
bool has_child_elements(const pugi::xml_node& element);

// Appends value to out as XML text or attribute content: markup characters and (in attributes)
// CR, LF and tab as references; other control characters, which XML 1.0 cannot carry, throw
// naming where.
void append_xml_escaped(std::string& out, std::string_view value, bool in_attribute,
                        std::string_view where);

// Writes XML the way IFW's files look: one space of indentation per level, attributes in the
// order given, "<Empty/>" for elements without content, "\n" line ends. Text and attribute
// values are escaped; characters XML 1.0 cannot carry are rejected.
class XmlWriter {
  public:
    using Attributes = std::vector<std::pair<std::string_view, std::string_view>>;

    XmlWriter();

    void open(std::string_view name, const Attributes& attributes = {});
    void close(std::string_view name);
    // <name attrs>text</name>, or <name attrs/> when text is empty.
    void element(std::string_view name, std::string_view text, const Attributes& attributes = {});

    // The document so far, ending with a newline.
    const std::string& text() const { return out_; }

  private:
    void start_tag(std::string_view name, const Attributes& attributes);
    void escape(std::string_view value, bool in_attribute, std::string_view where);

    std::string out_;
    int depth_ = 0;
};

}  // namespace ferry::formats
