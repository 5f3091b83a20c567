#include "market/import_folder.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "archive/archive.hpp"
#include "bundle/ferry_bundle.hpp"
#include "bundle/rainbond.hpp"
#include "bundle/rainbond_metadata.hpp"
#include "core/error.hpp"
#include "core/files.hpp"

namespace ferry::market {

namespace {

using Json = nlohmann::json;

// metadata.json at the top or in the one top folder (Rainbond); <folder>/docker-compose.yaml
// (ferry's compose package).
bool top_or_one_down(std::string_view path, std::string_view name) {
    if (path == name) {
        return true;
    }
    const auto slash = path.find('/');
    return slash != std::string_view::npos && path.substr(slash + 1) == name;
}

App app_of(const bundle::ImportedItem& item) {
    App app;
    app.key = item.key;
    app.kind = item.plugin ? App::Kind::plugin : App::Kind::app;
    app.name = item.name;
    app.description = item.description;
    app.source = App::Source::imported;
    return app;
}

}  // namespace

void check_import_name(std::string_view name) {
    if (name.empty() || name.front() == '.' || name.size() > 255 ||
        name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
        throw Error::format(
            "\"{}\" is not a file name of the import folder (a plain name, not "
            "starting with '.', at most 255 bytes)",
            name);
    }
}

bool is_settled(const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        return true;
    }
    const auto modified = std::chrono::system_clock::time_point(
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec));
    return std::chrono::system_clock::now() - modified >= kImportSettleTime;
}

ImportFileInfo describe_import_file(const fs::path& file) {
    ImportFileInfo info;
    info.name = file.filename().string();
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0) {
        info.size = static_cast<std::uint64_t>(st.st_size);
        info.modified = to_rfc3339(std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec));
    }
    info.settled = is_settled(file);
    info.kind = "unknown";
    try {
        if (auto manifest = bundle::peek_manifest(file)) {
            info.kind = "ferry-bundle";
            info.differential = manifest->differential();
            for (const auto& app : manifest->apps) {
                info.apps.push_back({{"key", app.app.key},
                                     {"kind", to_string(app.app.kind)},
                                     {"name", app.app.name},
                                     {"major", app.major},
                                     {"revision", app.revision}});
            }
            return info;
        }
        if (!archive::is_archive(file)) {
            info.problem = "not an archive of a kind ferry imports";
            return info;
        }
        const auto found = archive::read_entry(
            file,
            [](std::string_view path) {
                return top_or_one_down(path, "metadata.json") ||
                       (path.find('/') != std::string_view::npos &&
                        top_or_one_down(path, "docker-compose.yaml"));
            },
            bundle::kMaxRainbondMetadataBytes);
        if (!found) {
            info.problem = "neither a ferry bundle nor a Rainbond package";
        } else if (found->first.ends_with("docker-compose.yaml")) {
            info.kind = "compose-package";
            info.problem =
                "a compose package runs without a market (./run.sh up); import the "
                "app's bundle instead";
        } else {
            info.kind = "rainbond-app";
            info.layout = found->first.find('/') == std::string::npos ? "zip" : "ram.tar.gz";
            const auto metadata =
                bundle::parse_rainbond_metadata(found->second, info.name + ": metadata.json");
            for (const auto& item : bundle::map_rainbond_metadata(metadata, info.name)) {
                info.apps.push_back({{"key", item.key},
                                     {"kind", item.plugin ? "plugin" : "app"},
                                     {"name", item.name},
                                     {"major", item.major}});
            }
        }
    } catch (const std::exception& e) {
        info.problem = e.what();
    }
    return info;
}

std::vector<ImportFileInfo> list_import_folder(const DataDir& data) {
    std::vector<ImportFileInfo> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(data.import_folder(), ec)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with('.') && entry.is_regular_file(ec)) {
            files.push_back(describe_import_file(entry.path()));
        }
    }
    std::sort(files.begin(), files.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return files;
}

Json import_file_json(const ImportFileInfo& info) {
    Json json{{"name", info.name},      {"size", info.size}, {"modified", info.modified},
              {"kind", info.kind},      {"apps", info.apps}, {"differential", info.differential},
              {"settled", info.settled}};
    if (!info.layout.empty()) {
        json["layout"] = info.layout;
    }
    if (!info.problem.empty()) {
        json["problem"] = info.problem;
    }
    return json;
}

ImportedFile import_file(const DataDir& data, Catalog& catalog, Publisher& publisher,
                         const fs::path& file, const fs::path& scratch,
                         const ImportFileEvents& events) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        throw Error::format(ErrorKind::not_found, "{}: no such file", file.string());
    }
    if (bundle::peek_manifest(file)) {
        return {"ferry-bundle", "", import_bundle(data, catalog, publisher, file, events.progress)};
    }
    core::ScratchDir work(scratch, "ferry-import-");
    bundle::ImportEvents convert_events;
    convert_events.say = events.say;
    auto rainbond =
        bundle::convert_rainbond_package(file, work.path() / "rainbond", convert_events);
    if (!rainbond) {
        throw Error::format(
            "{}: neither a ferry bundle nor a Rainbond package (a <name>-<version>-ram.tar.gz "
            "with <folder>/metadata.json, or a zip with metadata.json)",
            file.string());
    }
    ImportedFile imported{"rainbond-app", rainbond->layout, {}};
    const std::string notes =
        fmt::format("imported from {} (rainbond-app)", file.filename().string());
    for (const auto& converted : rainbond->items) {
        const RepositoryFiles files = read_repository_files(converted.repository);
        store_missing_blobs(data, converted.repository, files.files);
        const App app = app_of(converted.item);
        const PublishResult result =
            publisher.publish({app, converted.item.major, files.updates_xml, files.files, notes});
        ImportedVersion version{
            app, converted.item.major, result.revision.number, result.unchanged, {}};
        for (const auto& component : converted.item.components) {
            version.components.push_back(component.name);
        }
        imported.versions.push_back(std::move(version));
    }
    return imported;
}

}  // namespace ferry::market
