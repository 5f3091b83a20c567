#include "core/error.hpp"
#include "core/file_error.hpp"

#include <cerrno>
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

ErrorKind errno_kind(int error_number) {
    return error_number == ENOENT || error_number == ENOTDIR ? ErrorKind::not_found
                                                             : ErrorKind::storage;
}

Error file_error(std::string_view path, std::string_view doing, int error_number) {
    return Error(fmt::format("{}: {}: {}", path, doing, errno_text(error_number)),
                 errno_kind(error_number));
}

}  // namespace ferry
