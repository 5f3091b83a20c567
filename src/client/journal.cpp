#include "client/journal.hpp"

#include <nlohmann/json.hpp>

#include "client/installation.hpp"
#include "core/error.hpp"
#include "core/json_error.hpp"

namespace ferry::client {

namespace {

using Json = nlohmann::json;

ComponentChange::Kind parse_kind(const std::string& text) {
    for (auto kind : {ComponentChange::Kind::install, ComponentChange::Kind::update,
                      ComponentChange::Kind::remove, ComponentChange::Kind::rollback}) {
        if (text == to_string(kind)) {
            return kind;
        }
    }
    throw Error::format("unknown change \"{}\"", text);
}

Json to_json(const std::vector<core::RelativePath>& paths) {
    Json array = Json::array();
    for (const auto& path : paths) {
        array.push_back(path.str());
    }
    return array;
}

std::vector<core::RelativePath> installable_paths(const Json& array) {
    std::vector<core::RelativePath> paths;
    for (const Json& item : array) {
        paths.push_back(installable_path(item.get<std::string>()));
    }
    return paths;
}

}  // namespace

core::RelativePath state_path(std::string_view relative) {
    const core::RelativePath path = core::RelativePath::parse(relative);
    if (path.first() != "staging" && path.first() != "rollback") {
        throw Error::format("\"{}\" is outside ferry's staging and rollback areas", relative);
    }
    return core::RelativePath::parse(kStateDirName) / path;
}

std::string write_journal(const Journal& journal) {
    Json changes = Json::array();
    for (const auto& change : journal.changes) {
        changes.push_back({{"kind", to_string(change.kind)},
                           {"name", change.name},
                           {"source", change.source},
                           {"backup", change.backup},
                           {"keep", change.keep},
                           {"move_out", to_json(change.move_out)},
                           {"create_dirs", to_json(change.create_dirs)},
                           {"move_in", to_json(change.move_in)},
                           {"remove_dirs", to_json(change.remove_dirs)}});
    }
    Json json = {{"id", journal.id},
                 {"state", journal.committed ? "committed" : "applying"},
                 {"changes", std::move(changes)}};
    return json.dump(1) + "\n";
}

Journal parse_journal(std::string_view text, const std::filesystem::path& path) {
    try {
        Json json = Json::parse(text);
        Journal journal;
        journal.id = json.at("id").get<std::string>();
        core::check_file_name(journal.id, "transaction id");
        const std::string state = json.at("state").get<std::string>();
        if (state != "applying" && state != "committed") {
            throw Error::format("unknown state \"{}\"", state);
        }
        journal.committed = state == "committed";
        for (const Json& item : json.at("changes")) {
            JournalChange change;
            change.kind = parse_kind(item.at("kind").get<std::string>());
            change.name = item.at("name").get<std::string>();
            check_component_name(change.name);
            change.source = item.at("source").get<std::string>();
            if (!change.source.empty()) {
                state_path(change.source);
            }
            change.backup = item.at("backup").get<std::string>();
            state_path(change.backup);
            change.keep = item.at("keep").get<bool>();
            change.move_out = installable_paths(item.at("move_out"));
            change.create_dirs = installable_paths(item.at("create_dirs"));
            change.move_in = installable_paths(item.at("move_in"));
            change.remove_dirs = installable_paths(item.at("remove_dirs"));
            journal.changes.push_back(std::move(change));
        }
        return journal;
    } catch (const Json::exception& e) {
        throw Error::format("{}: the transaction journal is damaged: {}", path.string(),
                            core::json_error_text(e));
    } catch (const Error& e) {
        throw Error::format("{}: the transaction journal is damaged: {}", path.string(), e.what());
    }
}

}  // namespace ferry::client
