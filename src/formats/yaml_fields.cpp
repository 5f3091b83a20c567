#include "formats/yaml_fields.hpp"

#include <algorithm>
#include <sstream>

#include <yaml-cpp/eventhandler.h>

#include "core/text.hpp"
#include "formats/service_values.hpp"

namespace ferry::formats {

namespace {

std::string mark_text(std::string_view source, const YAML::Mark& mark, bool column) {
    if (mark.is_null()) {
        return std::string(source);
    }
    return column ? fmt::format("{}:{}:{}", source, mark.line + 1, mark.column + 1)
                  : fmt::format("{}:{}", source, mark.line + 1);
}

struct DocumentCount {
    int count = 0;
    YAML::Mark second_start = YAML::Mark::null_mark();
};

// The documents of a YAML text, up to two, from the parser's events. YAML::LoadAll is not used:
// on some text after a flow collection ("{a: 1}, 2]") yaml-cpp's parser starts a new empty
// document at every call without moving on, and LoadAll collects them until memory runs out.
DocumentCount count_documents(const std::string& text) {
    class Counter : public YAML::EventHandler {
      public:
        DocumentCount result;
        void OnDocumentStart(const YAML::Mark& mark) override {
            if (++result.count == 2) {
                result.second_start = mark;
            }
        }
        void OnDocumentEnd() override {}
        void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
        void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
        void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                      const std::string&) override {}
        void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                             YAML::EmitterStyle::value) override {}
        void OnSequenceEnd() override {}
        void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                        YAML::EmitterStyle::value) override {}
        void OnMapEnd() override {}
    };
    std::istringstream in(text);
    YAML::Parser parser(in);
    Counter counter;
    while (counter.result.count < 2 && parser.HandleNextDocument(counter)) {
    }
    return counter.result;
}

}  // namespace

std::string listed(FieldNames fields) {
    std::string text;
    for (std::string_view field : fields) {
        if (!text.empty()) {
            text += ", ";
        }
        text += field;
    }
    return text;
}

bool contains(FieldNames fields, std::string_view field) {
    return std::find(fields.begin(), fields.end(), field) != fields.end();
}

std::string shown(std::string_view text) {
    const bool number = !text.empty() && text.find_first_not_of("0123456789") == text.npos;
    std::string printable = core::printable_text(text.substr(0, 80));
    if (text.size() > 80) {
        printable += "...";
    }
    return number ? printable : "\"" + printable + "\"";
}

std::string field_path(std::string_view parent, std::string_view field) {
    return parent.empty() ? std::string(field) : fmt::format("{}.{}", parent, field);
}

std::string item_path(std::string_view parent, std::size_t index) {
    return fmt::format("{}[{}]", parent, index);
}

YAML::Node YamlFields::load(std::string_view text) const {
    const std::string input(text);
    const DocumentCount documents = count_documents(input);
    if (documents.count == 0) {
        throw Error::format("{}: the description is empty, expected a mapping of fields", source_);
    }
    if (documents.count > 1) {
        throw Error::format(
            "{}: a second YAML document, or text after the description (a description is one "
            "document)",
            mark_text(source_, documents.second_start, true));
    }
    return YAML::Load(input);
}

// yaml-cpp's what() repeats the position in its own words ("yaml-cpp: error at line 3, column
// 1: ..."); msg is the cause alone.
Error YamlFields::yaml_error(const YAML::Exception& e) const {
    return Error(fmt::format("{}: {}", mark_text(source_, e.mark, true), e.msg));
}

void YamlFields::fail(const YAML::Node& at, std::string_view path, std::string_view cause) const {
    const std::string where = mark_text(
        source_, at.IsNull() && path.empty() ? YAML::Mark::null_mark() : at.Mark(), false);
    if (path.empty()) {
        throw Error(fmt::format("{}: {}", where, cause));
    }
    throw Error(fmt::format("{}: {}: {}", where, core::printable_text(path), cause));
}

std::string YamlFields::kind_of(const YAML::Node& node) {
    if (node.IsMap()) {
        return "a mapping";
    }
    if (node.IsSequence()) {
        return "a list";
    }
    if (node.IsNull()) {
        return "empty (null)";
    }
    return shown(node.Scalar());
}

void YamlFields::expect_map(const YAML::Node& node, std::string_view path) const {
    if (!node.IsMap()) {
        fail(node, path, fmt::format("is {}, expected a mapping", kind_of(node)));
    }
}

void YamlFields::expect_list(const YAML::Node& node, std::string_view path) const {
    if (!node.IsSequence()) {
        fail(node, path, fmt::format("is {}, expected a list", kind_of(node)));
    }
}

std::string YamlFields::text(const YAML::Node& node, std::string_view path) const {
    if (!node.IsScalar()) {
        fail(node, path, fmt::format("is {}, expected a string", kind_of(node)));
    }
    if (auto problem = service_values::text_problem(node.Scalar())) {
        fail(node, path, *problem);
    }
    return node.Scalar();
}

bool YamlFields::boolean(const YAML::Node& node, std::string_view path) const {
    const std::string value = text(node, path);
    auto result = service_values::parse_bool(value);
    if (!result) {
        fail(node, path, fmt::format("{} is not true or false", shown(value)));
    }
    return *result;
}

std::vector<std::string> YamlFields::strings(const YAML::Node& node, std::string_view path) const {
    expect_list(node, path);
    std::vector<std::string> result;
    for (std::size_t i = 0; i < node.size(); ++i) {
        result.push_back(text(node[i], item_path(path, i)));
    }
    return result;
}

}  // namespace ferry::formats
