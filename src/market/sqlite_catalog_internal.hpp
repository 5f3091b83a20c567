// The SQLite catalog's insides shared by its files and its tests: the migrations, and opening a
// catalog migrated to an older schema version only, so that upgrades from it can be checked.
#pragma once

#include <filesystem>
#include <memory>
#include <span>

#include "market/catalog.hpp"

namespace ferry::market {

// The schema's migrations in order; applying the first n gives schema version n.
std::span<const char* const> sqlite_migrations();

// open_sqlite_catalog, but applying only the first `version` migrations (at most
// current_schema_version()). Refuses files past `version` like open_sqlite_catalog does.
std::unique_ptr<Catalog> open_sqlite_catalog_at_version(const std::filesystem::path& file,
                                                        int version);

}  // namespace ferry::market
