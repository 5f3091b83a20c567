// The times reproducible output is stamped with: SOURCE_DATE_EPOCH when the user sets it
// (https://reproducible-builds.org/specs/source-date-epoch/), else fixed times that do not
// depend on when or where a build runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::core {

// 1980-01-01T00:00:00Z: the earliest time every archive format, zip included, can hold.
inline constexpr std::int64_t kEarliestArchiveTime = 315532800;

// SOURCE_DATE_EPOCH: nullopt when unset or empty; a value that is not a whole, non-negative
// number of seconds is an error naming the variable and its value.
std::optional<std::int64_t> source_date_epoch();

// Midnight UTC of a YYYY-MM-DD date, in seconds since the epoch; nullopt when it is not one.
std::optional<std::int64_t> epoch_of_date(std::string_view date);

}  // namespace ferry::core
