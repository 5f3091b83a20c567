#include "core/source_date.hpp"

#include <charconv>
#include <cstdlib>
#include <ctime>
#include <string>

#include "core/error.hpp"

namespace ferry::core {

std::optional<std::int64_t> source_date_epoch() {
    const char* value = std::getenv("SOURCE_DATE_EPOCH");
    if (value == nullptr || *value == '\0') {
        return std::nullopt;
    }
    std::int64_t seconds = 0;
    const std::string_view text(value);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size() || seconds < 0) {
        throw Error::format(
            "SOURCE_DATE_EPOCH \"{}\" is not a number of seconds since 1970-01-01 (unset it, or "
            "set it to e.g. $(git log -1 --format=%ct))",
            text);
    }
    return seconds;
}

std::optional<std::int64_t> epoch_of_date(std::string_view date) {
    std::tm tm{};
    const std::string text(date);
    const char* end = ::strptime(text.c_str(), "%Y-%m-%d", &tm);
    if (end == nullptr || *end != '\0') {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(::timegm(&tm));
}

}  // namespace ferry::core
