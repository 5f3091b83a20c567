// What the SQLite catalog exposes beyond catalog.hpp, for tests: opening a catalog migrated to an
// older schema version only, so that upgrades from that version can be checked.
#pragma once

#include <filesystem>
#include <memory>

#include "market/catalog.hpp"

namespace ferry::market {

// open_sqlite_catalog, but applying only the first `version` migrations (at most
// current_schema_version()). Refuses files past `version` like open_sqlite_catalog does.
std::unique_ptr<Catalog> open_sqlite_catalog_at_version(const std::filesystem::path& file,
                                                        int version);

}  // namespace ferry::market
