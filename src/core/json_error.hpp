// JSON from outside (state files, API bodies, server answers) is read with nlohmann::json; its
// exceptions carry an internal code ("[json.exception.type_error.302]") that means nothing to a
// user. This turns one into text that says what is wrong and where.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ferry::core {

// "[json.exception.type_error.302] type must be number, but is string"
// → "type must be number, but is string".
std::string json_error_text(const nlohmann::json::exception& error);

}  // namespace ferry::core
