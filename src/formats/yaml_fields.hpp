// Strict reading of ferry's own YAML files (meta/service.yaml) over yaml-cpp: one document, every
// node's kind checked where it is used, every error naming the file, the line and the field path
// ("service.yaml:7: ports[1].container: 70000 is not a port (1..65535)"). Nodes are walked by
// iteration and index only, never with a key's operator[], which would add the keys it looks up.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/error.hpp"

namespace ferry::formats {

using FieldNames = std::initializer_list<std::string_view>;

// "a, b, c".
std::string listed(FieldNames names);
bool contains(FieldNames names, std::string_view name);
// Text of the file as a message shows it: quoted (numbers bare), without control characters,
// cut when long.
std::string shown(std::string_view text);
// "ports[1].container" is field_path(item_path("ports", 1), "container").
std::string field_path(std::string_view parent, std::string_view field);
std::string item_path(std::string_view parent, std::size_t index);

class YamlFields {
  public:
    explicit YamlFields(std::string_view source) : source_(source) {}

    // The one document of text (YAML, or JSON); a null node when it is empty ("---"). A syntax
    // error, no document or more than one is an Error naming the source and the position.
    YAML::Node load(std::string_view text) const;
    // yaml-cpp's complaint with its position, without yaml-cpp's own words for the position.
    Error yaml_error(const YAML::Exception& e) const;

    // An Error "<source>:<line>: <path>: <cause>" at the node's line.
    [[noreturn]] void fail(const YAML::Node& at, std::string_view path,
                           std::string_view cause) const;
    // "a mapping", "a list", "empty (null)" or the scalar, shown.
    static std::string kind_of(const YAML::Node& node);

    void expect_map(const YAML::Node& node, std::string_view path) const;
    void expect_list(const YAML::Node& node, std::string_view path) const;
    // A scalar's text as written (numbers and booleans too), valid UTF-8 without NUL.
    std::string text(const YAML::Node& node, std::string_view path) const;
    std::vector<std::string> strings(const YAML::Node& node, std::string_view path) const;
    // true or false (True/TRUE, False/FALSE), not yes/no/on/off.
    bool boolean(const YAML::Node& node, std::string_view path) const;

    // The text, checked by rule (text → nullopt or why not).
    template <typename Rule>
    std::string checked(const YAML::Node& node, std::string_view path, Rule rule) const {
        std::string value = text(node, path);
        if (auto problem = rule(value)) {
            fail(node, path, fmt::format("{} {}", shown(value), *problem));
        }
        return value;
    }

    // The value parse (text, why → optional) makes of the text; what completes the message when
    // parse says no more than no.
    template <typename Parse>
    auto parsed(const YAML::Node& node, std::string_view path, Parse parse,
                std::string_view what) const ->
        typename std::invoke_result_t<Parse, std::string_view, std::string&>::value_type {
        const std::string value = text(node, path);
        std::string why;
        auto result = parse(value, why);
        if (!result) {
            fail(node, path, fmt::format("{} {}", shown(value), why.empty() ? what : why));
        }
        return *result;
    }

    // fn(name, value, path) for each field of a mapping, in the file's order. Unknown and
    // repeated fields are errors, and so are empty values, except of the fields in may_be_null.
    template <typename Fn>
    void fields(const YAML::Node& node, std::string_view path, FieldNames known, Fn&& fn,
                FieldNames may_be_null = {}) const {
        for_each_entry(node, path,
                       [&](const YAML::Node& key, const std::string& name, const YAML::Node& value,
                           const std::string& child) {
                           if (!contains(known, name)) {
                               fail(key, child,
                                    fmt::format("unknown field (known: {})", listed(known)));
                           }
                           if (value.IsNull() && !contains(may_be_null, name)) {
                               fail(key, child, "has no value (give one, or leave the field out)");
                           }
                           fn(name, value, child);
                       });
    }

    // fn(name, value, path) for each entry of a mapping whose keys are names of a kind, checked
    // by rule; repeated names and empty values are errors.
    template <typename Rule, typename Fn>
    void entries(const YAML::Node& node, std::string_view path, Rule rule, Fn&& fn) const {
        for_each_entry(node, path,
                       [&](const YAML::Node& key, const std::string& name, const YAML::Node& value,
                           const std::string& child) {
                           if (auto problem = rule(name)) {
                               fail(key, child, fmt::format("{} {}", shown(name), *problem));
                           }
                           if (value.IsNull()) {
                               fail(key, child, "has no value (write \"\" for an empty one)");
                           }
                           fn(name, value, child);
                       });
    }

  private:
    // yaml-cpp marks an empty value where the next token starts, so errors about a value that
    // may be empty name the key's line; fn(key, name, value, path).
    template <typename Fn>
    void for_each_entry(const YAML::Node& node, std::string_view path, Fn&& fn) const {
        expect_map(node, path);
        std::set<std::string> seen;
        for (const auto& entry : node) {
            const YAML::Node& key = entry.first;
            if (!key.IsScalar()) {
                fail(key, path, fmt::format("has a key that is {}", kind_of(key)));
            }
            const std::string& name = key.Scalar();
            const std::string child = field_path(path, name);
            if (!seen.insert(name).second) {
                fail(key, child, "is given twice");
            }
            fn(key, name, entry.second, child);
        }
    }

    std::string_view source_;
};

}  // namespace ferry::formats
