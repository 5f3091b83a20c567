#include "market/bundle_jobs.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "bundle/ferry_bundle.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "market/bundles.hpp"
#include "market/import_folder.hpp"

namespace ferry::market {

namespace {

using Json = nlohmann::json;

constexpr const char* kExportInterrupted =
    "interrupted: the server stopped before the export finished; start it again";
constexpr const char* kImportInterrupted =
    "interrupted: the server stopped during the import; the files are still in the import "
    "folder: import them again";

Json version_json(const ImportedVersion& version) {
    return {{"kind", to_string(version.app.kind)},
            {"key", version.app.key},
            {"name", version.app.name},
            {"major", version.major},
            {"revision", version.revision},
            {"unchanged", version.unchanged},
            {"components", version.components}};
}

}  // namespace

ExportJobs::ExportJobs(const DataDir& data, Catalog& catalog,
                       std::function<void(std::string_view)> failure_log)
    : data_(data),
      catalog_(catalog),
      runner_(catalog, "export", kExportInterrupted, std::move(failure_log)) {}

std::vector<Job> ExportJobs::start(const std::vector<std::string>& wanted,
                                   const std::set<std::string>& have) {
    if (wanted.empty()) {
        throw Error("an export names at least one app version");
    }
    // Every version is checked before any job starts.
    std::vector<bundle::BundleSource> sources = bundle_sources(data_, catalog_, wanted);
    const fs::path dir = data_.exports() / kBundleFormat;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw Error::format(ErrorKind::storage, "{}: cannot create: {}", dir.string(),
                            ec.message());
    }
    std::vector<Job> jobs;
    for (auto& source : sources) {
        std::set<std::string> omitted;
        for (const auto& file : source.app.files) {
            if (have.contains(file.sha256)) {
                omitted.insert(file.sha256);
            }
        }
        std::string name = bundle::bundle_file_name(source.app);
        if (!omitted.empty()) {
            // One differential bundle per base: named by the digest of what it leaves out.
            std::string list;
            for (const auto& sha256 : omitted) {
                list += sha256 + "\n";
            }
            name.insert(name.size() - std::string_view(".bundle.tar").size(),
                        ".diff-" + core::sha256_hex(list).substr(0, 12));
        }
        const fs::path file = dir / name;
        // The file is the work: one job per file, whole or differential.
        const std::string& target = name;
        Json detail{{"file", name},
                    {"url", fmt::format("/exports/{}/{}", kBundleFormat, name)},
                    {"format", kBundleFormat}};
        if (fs::is_regular_file(file, ec)) {
            // Written whole (renamed into place) by an earlier export of this revision.
            detail["bytes"] = fs::file_size(file, ec);
            detail["reused"] = true;
            jobs.push_back(runner_.finished(target, detail.dump()));
            continue;
        }
        detail["reused"] = false;
        auto shared = std::make_shared<bundle::BundleSource>(std::move(source));
        jobs.push_back(runner_.start(
            target,
            [shared, file, omitted, &data = data_](JobControl& control) {
                bundle::WriteBundleOptions options;
                options.have = omitted;
                options.source_market = data.root().string();
                options.progress = [&](std::uint64_t done, std::uint64_t total) {
                    if (control.cancelled()) {
                        throw Error("cancelled");
                    }
                    control.progress(done, total);
                };
                const auto result = bundle::write_bundle(file, {*shared}, options);
                Json d = Json::parse(control.job().detail);
                d["bytes"] = result.bytes;
                control.job().detail = d.dump();
            },
            detail.dump()));
    }
    return jobs;
}

ImportBatches::ImportBatches(const DataDir& data, Catalog& catalog, Publisher& publisher,
                             std::function<void(std::string_view)> failure_log)
    : data_(data),
      catalog_(catalog),
      publisher_(publisher),
      runner_(catalog, "import", kImportInterrupted, std::move(failure_log)) {}

Json import_batch_plan(const std::vector<fs::path>& files) {
    struct Planned {
        std::string name;
        int rank = 0;  // 0: not a bundle, 1: a whole bundle, 2: a differential one
        std::string key;
        int revision = 0;
    };
    std::vector<Planned> order;
    for (const fs::path& file : files) {
        Planned planned{file.string(), 0, "", 0};
        try {
            if (auto manifest = bundle::peek_manifest(file)) {
                planned.rank = manifest->differential() ? 2 : 1;
                planned.key = manifest->apps.front().app.key + "@" + manifest->apps.front().major;
                planned.revision = manifest->apps.front().revision;
            }
        } catch (const std::exception&) {
            // Told when the file is imported.
        }
        order.push_back(std::move(planned));
    }
    std::stable_sort(order.begin(), order.end(), [](const Planned& a, const Planned& b) {
        return std::tie(a.rank, a.key, a.revision) < std::tie(b.rank, b.key, b.revision);
    });
    Json entries = Json::array();
    for (const Planned& planned : order) {
        entries.push_back({{"name", planned.name}, {"state", "pending"}});
    }
    return {{"files", entries}, {"result", nullptr}};
}

void run_import_batch(const DataDir& data, Catalog& catalog, Publisher& publisher,
                      const fs::path& folder, Json& record, const ImportBatchEvents& events) {
    auto changed = [&] {
        if (events.changed) {
            events.changed(record);
        }
    };
    std::size_t succeeded = 0;
    for (Json& entry : record.at("files")) {
        if (events.cancelled && events.cancelled()) {
            throw Error("cancelled");
        }
        const fs::path file = folder / entry.at("name").get<std::string>();
        entry["state"] = "importing";
        changed();
        try {
            ImportFileEvents file_events;
            file_events.progress = events.progress;
            const ImportedFile imported =
                import_file(data, catalog, publisher, file, data.uploads(), file_events);
            Json versions = Json::array();
            for (const auto& version : imported.versions) {
                versions.push_back(version_json(version));
            }
            entry["state"] = "success";
            entry["kind"] = imported.kind;
            if (!imported.layout.empty()) {
                entry["layout"] = imported.layout;
            }
            entry["apps"] = versions;
            ++succeeded;
        } catch (const std::exception& e) {
            entry["state"] = "failed";
            std::string error = e.what();
            if (!folder.empty() && !is_settled(file)) {
                error += " (the file was written to moments ago: is it still being copied?)";
            }
            entry["error"] = error;
        }
        changed();
    }
    const std::size_t total = record.at("files").size();
    record["result"] = succeeded == total ? "success"
                       : succeeded == 0   ? "failed"
                                          : "partial_success";
    changed();
}

Job ImportBatches::start(const std::vector<std::string>& names) {
    if (names.empty()) {
        throw Error("a batch names at least one file of the import folder");
    }
    std::vector<fs::path> files;
    for (const std::string& name : names) {
        check_import_name(name);
        if (std::find(files.begin(), files.end(), fs::path(name)) != files.end()) {
            throw Error::format("\"{}\" is named twice", name);
        }
        files.emplace_back(name);
    }
    std::error_code ec;
    for (const fs::path& name : files) {
        if (!fs::is_regular_file(data_.import_folder() / name, ec)) {
            throw Error::format(ErrorKind::not_found, "no file \"{}\" in the import folder {}",
                                name.string(), data_.import_folder().string());
        }
    }
    // Files named by the batch in the folder: peeked there, shown by name.
    std::vector<fs::path> paths;
    for (const fs::path& name : files) {
        paths.push_back(data_.import_folder() / name);
    }
    Json record = import_batch_plan(paths);
    for (Json& entry : record.at("files")) {
        entry["name"] = fs::path(entry.at("name").get<std::string>()).filename().string();
    }
    // The same files are the same batch while it runs.
    std::vector<std::string> sorted = names;
    std::sort(sorted.begin(), sorted.end());
    const std::string target = fmt::format("{}", fmt::join(sorted, ", "));
    return runner_.start(
        target,
        [this](JobControl& control) {
            Json detail = Json::parse(control.job().detail);
            ImportBatchEvents events;
            events.changed = [&](const Json& now) {
                control.job().detail = now.dump();
                control.save();
            };
            events.progress = [&](std::uint64_t done, std::uint64_t total) {
                control.progress(done, total);
            };
            events.cancelled = [&] { return control.cancelled(); };
            run_import_batch(data_, catalog_, publisher_, data_.import_folder(), detail, events);
            if (detail.at("result") == "failed") {
                throw Error("no file of the batch was imported; each file says why");
            }
        },
        record.dump());
}

}  // namespace ferry::market
