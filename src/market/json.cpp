#include "market/json.hpp"

namespace ferry::market {

using Json = nlohmann::json;

Json app_json(const App& app) {
    return {{"key", app.key},
            {"kind", to_string(app.kind)},
            {"name", app.name},
            {"description", app.description},
            {"publisher", app.publisher},
            {"icon", app.icon},
            {"official", app.official},
            {"source", to_string(app.source)},
            {"upstream_url", app.upstream_url},
            {"export_formats", app.export_formats},
            {"created_at", app.created_at},
            {"updated_at", app.updated_at}};
}

Json major_json(const Major& major) {
    return {{"major", major.major},
            {"latest_revision", major.latest_revision},
            {"repository", "/repo/" + major.app_key + "/" + major.major + "/"},
            {"created_at", major.created_at},
            {"updated_at", major.updated_at}};
}

Json components_json(const std::vector<RevisionComponent>& components) {
    Json list = Json::array();
    for (const auto& c : components) {
        list.push_back(
            {{"name", c.name}, {"version", c.version}, {"content_sha256", c.content_sha256}});
    }
    return list;
}

std::vector<RevisionComponent> components_from_json(const Json& components) {
    std::vector<RevisionComponent> result;
    for (const Json& c : components) {
        result.push_back({c.at("name").get<std::string>(), c.at("version").get<std::string>(),
                          c.at("content_sha256").get<std::string>()});
    }
    return result;
}

Json files_json(const std::vector<RepositoryFile>& files) {
    Json list = Json::array();
    for (const auto& f : files) {
        list.push_back({{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}});
    }
    return list;
}

Json revision_json(const Revision& revision) {
    const Json components = components_json(revision.components);
    const Json files = files_json(revision.files);
    return {{"app_key", revision.app_key},
            {"major", revision.major},
            {"revision", revision.number},
            {"notes", revision.notes},
            {"created_at", revision.created_at},
            {"repository", "/repo/" + revision.app_key + "/" + revision.major + "/"},
            {"components", components},
            {"files", files}};
}

Json token_json(const Token& token) {
    return {{"id", token.id},
            {"role", to_string(token.role)},
            {"description", token.description},
            {"created_at", token.created_at},
            {"last_used_at", token.last_used_at.empty() ? Json() : Json(token.last_used_at)}};
}

App app_from_json(const Json& json, App app) {
    if (json.contains("kind")) {
        app.kind = parse_app_kind(json.at("kind").get<std::string>());
    }
    app.name = json.value("name", app.name.empty() ? app.key : app.name);
    app.description = json.value("description", app.description);
    app.publisher = json.value("publisher", app.publisher);
    app.icon = json.value("icon", app.icon);
    app.official = json.value("official", app.official);
    app.export_formats = json.value("export_formats", app.export_formats);
    return app;
}

std::vector<RepositoryFile> files_from_json(const Json& files) {
    std::vector<RepositoryFile> result;
    for (const Json& file : files) {
        result.push_back({file.at("path").get<std::string>(), file.at("sha256").get<std::string>(),
                          file.at("size").get<std::uint64_t>()});
    }
    return result;
}

}  // namespace ferry::market
