// Which export formats an app may leave a market in (the seed's rule): its publisher lists the
// formats it allows; an app of this market's own with no list may be exported in any format,
// but an app synced from an upstream market only in the formats its publisher allowed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "market/catalog.hpp"

namespace ferry::market {

inline constexpr std::string_view kComposeFormat = "docker-compose";

// Why app may not be exported as format (a sentence naming the app and what to do), or nullopt.
std::optional<std::string> export_refusal(const App& app, std::string_view format);

}  // namespace ferry::market
