#include "core/json_error.hpp"

#include <string_view>

namespace ferry::core {

std::string json_error_text(const nlohmann::json::exception& error) {
    std::string_view text = error.what();
    if (text.starts_with("[json.exception.")) {
        const auto end = text.find("] ");
        if (end != std::string_view::npos) {
            text.remove_prefix(end + 2);
        }
    }
    return std::string(text);
}

}  // namespace ferry::core
