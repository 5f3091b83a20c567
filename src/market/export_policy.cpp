#include "market/export_policy.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ferry::market {

std::optional<std::string> export_refusal(const App& app, std::string_view format) {
    const auto& allowed = app.export_formats;
    if (std::find(allowed.begin(), allowed.end(), format) != allowed.end()) {
        return std::nullopt;
    }
    if (!allowed.empty()) {
        return fmt::format("the publisher of {} does not allow {} export (it allows {})", app.key,
                           format, fmt::join(allowed, ", "));
    }
    if (app.source == App::Source::upstream) {
        return fmt::format(
            "{} was synced from {} and its publisher did not allow {} export; apps from an "
            "upstream market leave it only in the formats their publisher allows",
            app.key, app.upstream_url.empty() ? "an upstream market" : app.upstream_url, format);
    }
    return std::nullopt;
}

}  // namespace ferry::market
