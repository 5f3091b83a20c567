#include "core/error.hpp"

#include <cstring>

#include "core/json_error.hpp"

namespace ferry {

std::string Error::describe() const {
    std::string text = what();
    for (const auto& step : context_) {
        text += "\n  while ";
        text += step;
    }
    return text;
}

Error as_error(const std::exception& e) {
    if (const auto* json = dynamic_cast<const nlohmann::json::exception*>(&e)) {
        return Error(core::json_error_text(*json), ErrorKind::invalid_input);
    }
    return Error(e.what(), ErrorKind::internal);
}

std::string errno_text(int error_number) {
    return std::strerror(error_number);
}

}  // namespace ferry
