#include "core/error.hpp"

#include <cstring>

namespace ferry {

std::string Error::describe() const {
    std::string text = what();
    for (const auto& step : context_) {
        text += "\n  while ";
        text += step;
    }
    return text;
}

std::string errno_text(int error_number) {
    return std::strerror(error_number);
}

}  // namespace ferry
