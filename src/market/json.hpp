// The JSON forms of the catalog's records, as the API sends them and as another market (a
// pull) reads them back.
#pragma once

#include <nlohmann/json.hpp>

#include "market/catalog.hpp"

namespace ferry::market {

nlohmann::json app_json(const App& app);
nlohmann::json major_json(const Major& major);
nlohmann::json revision_json(const Revision& revision);
// id, role, description, created_at, last_used_at (null when never used); never the secret's hash.
nlohmann::json token_json(const Token& token);

// The app fields a publisher may set (the rest is the market's): those json gives replace the
// ones of app, the others stay.
App app_from_json(const nlohmann::json& json, App app);

// A revision's components and files as revision_json lists them, and back.
nlohmann::json components_json(const std::vector<RevisionComponent>& components);
std::vector<RevisionComponent> components_from_json(const nlohmann::json& components);
nlohmann::json files_json(const std::vector<RepositoryFile>& files);
std::vector<RepositoryFile> files_from_json(const nlohmann::json& files);

}  // namespace ferry::market
