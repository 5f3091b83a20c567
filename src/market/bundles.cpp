#include "market/bundles.hpp"

#include <sys/statvfs.h>

#include <map>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/json_error.hpp"
#include "core/relative_path.hpp"
#include "core/text.hpp"
#include "formats/updates_xml.hpp"
#include "market/export_policy.hpp"
#include "market/json.hpp"
#include "market/market_client.hpp"
#include "market/names.hpp"
#include "net/downloader.hpp"
#include "net/url.hpp"

namespace ferry::market {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kInventoryFormat = "ferry-inventory";

void refuse_unless_exportable(const App& app) {
    if (auto refusal = export_refusal(app, kBundleFormat)) {
        throw Error(*refusal, ErrorKind::conflict);
    }
}

std::pair<std::string, std::string> split_wanted(const std::string& wanted) {
    const auto at = wanted.find('@');
    return {wanted.substr(0, at), at == std::string::npos ? "" : wanted.substr(at + 1)};
}

bundle::BundleApp bundle_app(const App& app, const Revision& revision) {
    bundle::BundleApp entry;
    entry.app = app;
    entry.major = revision.major;
    entry.revision = revision.number;
    entry.notes = revision.notes;
    entry.components = revision.components;
    entry.files = revision.files;
    return entry;
}

// Where the bytes of a blob go while a bundle is imported.
class StoreSink final : public bundle::BlobSink {
  public:
    StoreSink(const DataDir& data, const bundle::BundleBlob& blob,
              const std::function<void(std::uint64_t)>& stored)
        : writer_(data, blob.sha256, blob.size), stored_(stored) {}
    void write(const char* data, std::size_t size) override {
        writer_.write(data, size);
        stored_(size);
    }
    void finish() override { writer_.finish(); }
    bool checks_digest() const override { return true; }

  private:
    BlobWriter writer_;
    const std::function<void(std::uint64_t)>& stored_;
};

class TextSink final : public bundle::BlobSink {
  public:
    explicit TextSink(std::string& text) : text_(text) {}
    void write(const char* data, std::size_t size) override { text_.append(data, size); }
    void finish() override {}

  private:
    std::string& text_;
};

class ImportVisitor final : public bundle::BundleVisitor {
  public:
    ImportVisitor(const DataDir& data, Catalog& catalog, const fs::path& file,
                  const std::function<void(std::uint64_t, std::uint64_t)>& progress)
        : data_(data), catalog_(catalog), file_(file), progress_(progress) {
        stored_ = [this](std::uint64_t size) {
            done_ += size;
            if (progress_) {
                progress_(done_, total_);
            }
        };
    }

    void manifest(const bundle::BundleManifest& manifest) override {
        manifest_ = manifest;
        check_base();
        check_revisions();
        std::set<std::string> indexes;
        for (const auto& app : manifest.apps) {
            indexes.insert(app.updates_xml.sha256);
        }
        for (const auto& blob : manifest.blobs) {
            if (indexes.contains(blob.sha256)) {
                continue;
            }
            if (!data_.has_blob(blob.sha256, blob.size)) {
                total_ += blob.size;
            }
        }
        check_space();
    }

    std::unique_ptr<bundle::BlobSink> blob(const bundle::BundleBlob& blob) override {
        for (const auto& app : manifest_.apps) {
            if (app.updates_xml.sha256 == blob.sha256) {
                return std::make_unique<TextSink>(indexes_[blob.sha256]);
            }
        }
        if (data_.has_blob(blob.sha256, blob.size)) {
            return nullptr;
        }
        return std::make_unique<StoreSink>(data_, blob, stored_);
    }

    const bundle::BundleManifest& read() const { return manifest_; }
    const std::string& index(const std::string& sha256) const { return indexes_.at(sha256); }

  private:
    // A differential bundle's omitted blobs must be here already.
    void check_base() const {
        std::vector<std::string> missing;
        for (const auto& blob : manifest_.omitted) {
            if (data_.has_blob(blob.sha256, blob.size)) {
                continue;
            }
            for (const auto& app : manifest_.apps) {
                for (const auto& f : app.files) {
                    if (f.sha256 == blob.sha256) {
                        missing.push_back(fmt::format("{}@{}: {}", app.app.key, app.major, f.path));
                        break;
                    }
                }
            }
        }
        if (!missing.empty()) {
            throw Error::format(
                ErrorKind::conflict,
                "{}: a differential bundle whose base this market lacks ({} of its files "
                "are left out of it and not here: {}); import the bundle it was made against "
                "first, or export a whole one",
                file_.string(), missing.size(), fmt::join(missing, ", "));
        }
    }

    // No revision is replaced or gone back to (decided again, on the content, when publishing).
    void check_revisions() const {
        for (const auto& app : manifest_.apps) {
            const auto major = catalog_.find_major(app.app.key, app.major);
            if (!major || app.revision > major->latest_revision) {
                continue;
            }
            const auto same = catalog_.find_revision(app.app.key, app.major, app.revision);
            const auto latest =
                catalog_.find_revision(app.app.key, app.major, major->latest_revision);
            if ((same && same->components == app.components) ||
                (latest && latest->components == app.components)) {
                continue;  // this content is here already: nothing to do
            }
            throw Error::format(
                ErrorKind::conflict,
                "{}: holds {}@{} revision {}, but this market is at revision {}{}; "
                "an import never replaces a revision or goes back to an older one",
                file_.string(), app.app.key, app.major, app.revision, major->latest_revision,
                same ? fmt::format(" and its revision {} has other content", app.revision) : "");
        }
    }

    void check_space() const {
        struct statvfs fs {};
        if (::statvfs(data_.uploads().c_str(), &fs) != 0) {
            return;  // the writes will tell
        }
        const std::uint64_t free = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
        if (total_ > free) {
            throw Error::format(ErrorKind::storage,
                                "{}: its files need {} bytes in {}, which has {} free",
                                file_.string(), total_, data_.root().string(), free);
        }
    }

    const DataDir& data_;
    Catalog& catalog_;
    fs::path file_;
    const std::function<void(std::uint64_t, std::uint64_t)>& progress_;
    std::function<void(std::uint64_t)> stored_;
    bundle::BundleManifest manifest_;
    std::map<std::string, std::string> indexes_;  // Updates.xml texts by SHA-256
    std::uint64_t done_ = 0;
    std::uint64_t total_ = 0;
};

}  // namespace

std::vector<bundle::BundleSource> bundle_sources(const DataDir& data, Catalog& catalog,
                                                 const std::vector<std::string>& wanted) {
    std::vector<bundle::BundleSource> sources;
    for (const std::string& one : wanted) {
        auto [key, major] = split_wanted(one);
        const std::optional<App> app = catalog.find_app(key);
        if (!app) {
            throw Error::format(ErrorKind::not_found, "no app \"{}\" in the market at {}", key,
                                data.root().string());
        }
        const std::vector<Major> majors = catalog.list_majors(key);
        if (majors.empty()) {
            throw Error::format(ErrorKind::not_found, "{} has no published version", key);
        }
        if (major.empty()) {
            major = majors.back().major;
        }
        const auto found = catalog.find_major(key, major);
        if (!found) {
            std::vector<std::string> names;
            for (const auto& m : majors) {
                names.push_back(m.major);
            }
            throw Error::format(ErrorKind::not_found, "{} has no major version \"{}\" (it has {})",
                                key, major, fmt::join(names, ", "));
        }
        refuse_unless_exportable(*app);
        const Revision revision = *catalog.find_revision(key, major, found->latest_revision);
        bundle::BundleSource source;
        source.app = bundle_app(*app, revision);
        source.updates_xml = core::read_file(data.repository(key, major) / "Updates.xml");
        const auto stamp =
            formats::parse_updates_xml(source.updates_xml, key + "@" + major + ": Updates.xml")
                .revision;
        if (!stamp || stamp->number != revision.number) {
            throw Error::format(ErrorKind::conflict,
                                "{}@{}: the repository's Updates.xml is not of revision {} (a "
                                "publish in progress?); try again",
                                key, major, revision.number);
        }
        source.file = [&data](const RepositoryFile& file) { return data.blob(file.sha256); };
        sources.push_back(std::move(source));
    }
    return sources;
}

std::vector<bundle::BundleSource> download_bundle_sources(net::ApiClient& api,
                                                          const std::string& token,
                                                          const std::vector<std::string>& wanted,
                                                          const std::set<std::string>& have,
                                                          const fs::path& scratch,
                                                          const net::DownloadOptions& options) {
    std::vector<bundle::BundleSource> sources;
    net::Downloader downloader(options);
    for (const std::string& one : wanted) {
        const AppVersion version = resolve_app_version(api, one);
        App known;
        known.key = version.key;
        known.source = parse_app_source(version.app.value("source", "published"));
        known.upstream_url = version.app.value("upstream_url", "");
        const App app = app_from_json(version.app, known);
        refuse_unless_exportable(app);
        const std::string base = repository_url(api.base_url(), version, token);
        const fs::path dir = scratch / version.key / version.major;
        fs::create_directories(dir);
        bundle::BundleSource source;
        // The index and the file list must be of one revision: a publish between the two
        // requests is retried.
        for (int attempt = 0;; ++attempt) {
            const Json answer =
                api.get("/api/v1/apps/" + version.key + "/versions/" + version.major);
            Revision revision;
            try {
                revision.app_key = version.key;
                revision.major = version.major;
                revision.number = answer.at("revision").get<int>();
                revision.notes = answer.value("notes", "");
                revision.components = components_from_json(answer.at("components"));
                revision.files = files_from_json(answer.at("files"));
            } catch (const Json::exception& e) {
                throw Error::format("{}: its answer for {}@{} is not a revision: {}",
                                    api.base_url(), version.key, version.major,
                                    core::json_error_text(e));
            }
            net::fetch_to_file(net::join_url(base, "Updates.xml"), dir / "Updates.xml", options);
            source.updates_xml = core::read_file(dir / "Updates.xml");
            const auto stamp =
                formats::parse_updates_xml(
                    source.updates_xml, net::strip_credentials(net::join_url(base, "Updates.xml")))
                    .revision;
            source.app = bundle_app(app, revision);
            if (stamp && stamp->number == revision.number) {
                break;
            }
            if (attempt == 2) {
                throw Error::format("{}: the index and revision {} do not match",
                                    net::strip_credentials(base), revision.number);
            }
        }
        for (const RepositoryFile& file : source.app.files) {
            if (!is_blob_name(file.sha256)) {
                throw Error::format("{}: {}: \"{}\" is not a SHA-256", api.base_url(), file.path,
                                    file.sha256);
            }
            const fs::path dest = scratch / file.sha256;
            std::error_code ec;
            if (have.contains(file.sha256) || fs::exists(dest, ec)) {
                continue;
            }
            with_context(
                fmt::format("downloading {}@{}: {}", version.key, version.major, file.path), [&] {
                    const auto result =
                        downloader.download(net::join_url(base, file.path), dest, file.size);
                    if (result.status == net::FetchStatus::not_found) {
                        throw Error::format(ErrorKind::not_found, "{} is not there", file.path);
                    }
                });
        }
        source.file = [scratch](const RepositoryFile& file) { return scratch / file.sha256; };
        sources.push_back(std::move(source));
    }
    return sources;
}

std::pair<std::string, std::string> download_app_repository(
    net::ApiClient& api, const std::string& token, const std::string& wanted, const fs::path& dir,
    const fs::path& scratch, const net::DownloadOptions& options) {
    const auto sources = download_bundle_sources(api, token, {wanted}, {}, scratch, options);
    const bundle::BundleSource& source = sources.front();
    fs::create_directory(dir);
    core::write_file_atomic(dir / "Updates.xml", source.updates_xml);
    for (const RepositoryFile& file : source.app.files) {
        if (const auto problem = core::relative_path_problem(file.path)) {
            throw Error::format("{}: {}: the file name \"{}\" {}", api.base_url(), wanted,
                                core::printable_text(file.path), *problem);
        }
        const fs::path to = dir / file.path;
        fs::create_directories(to.parent_path());
        std::error_code error;
        fs::create_hard_link(source.file(file), to, error);
        if (error) {
            fs::copy_file(source.file(file), to);
        }
    }
    return {source.app.app.key, source.app.major};
}

bundle::BundleSource repository_bundle_source(const fs::path& dir, const std::string& wanted) {
    const RepositoryFiles files = read_repository_files(dir);
    const formats::RepositoryIndex index =
        formats::parse_updates_xml(files.updates_xml, (dir / "Updates.xml").string());
    auto [key, major] = split_wanted(wanted);
    int number = 1;
    if (index.revision) {
        if (!wanted.empty() && (key != index.revision->app || major != index.revision->major)) {
            throw Error::format("{}: the repository is {}@{} (its Updates.xml says so), not {}",
                                dir.string(), index.revision->app, index.revision->major, wanted);
        }
        key = index.revision->app;
        major = index.revision->major;
        number = index.revision->number;
    } else if (key.empty() || major.empty()) {
        throw Error::format(
            "{}: the repository does not say which app version it is (no market wrote it): "
            "name it, ferry export KEY@MAJOR --repository {} --format bundle",
            dir.string(), dir.string());
    }
    check_key(key, "app key");
    check_key(major, "major version");
    bundle::BundleSource source;
    source.app.app.key = key;
    source.app.app.name = key;
    source.app.major = major;
    source.app.revision = number;
    source.app.components = revision_components(index, files.files);
    source.app.files = files.files;
    source.updates_xml = files.updates_xml;
    source.file = [dir](const RepositoryFile& file) { return dir / file.path; };
    source.digests_fresh = true;  // read_repository_files hashed them
    return source;
}

std::vector<ImportedVersion> import_bundle(
    const DataDir& data, Catalog& catalog, Publisher& publisher, const fs::path& file,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
    ImportVisitor visitor(data, catalog, file, progress);
    bundle::read_bundle(file, visitor);
    const bundle::BundleManifest& manifest = visitor.read();
    std::vector<ImportedVersion> imported;
    for (const bundle::BundleApp& app : manifest.apps) {
        PublishRequest request;
        request.app = app.app;
        request.major = app.major;
        request.updates_xml = visitor.index(app.updates_xml.sha256);
        request.files = app.files;
        request.number = app.revision;
        request.notes =
            fmt::format("imported from {} (revision {}{})", file.filename().string(), app.revision,
                        manifest.source_market.empty() ? "" : " of " + manifest.source_market);
        const PublishResult result =
            with_context(fmt::format("{}: {}@{}", file.string(), app.app.key, app.major),
                         [&] { return publisher.publish(request); });
        ImportedVersion version{app.app, app.major, result.revision.number, result.unchanged, {}};
        for (const auto& component : result.revision.components) {
            version.components.push_back(component.name);
        }
        imported.push_back(std::move(version));
    }
    return imported;
}

Json inventory_json(const DataDir& data, Catalog& catalog) {
    Json apps = Json::array();
    AppQuery query;
    query.limit = SIZE_MAX;
    for (const App& app : catalog.list_apps(query)) {
        Json majors = Json::array();
        for (const Major& major : catalog.list_majors(app.key)) {
            majors.push_back({{"major", major.major}, {"revision", major.latest_revision}});
        }
        apps.push_back({{"key", app.key}, {"majors", majors}});
    }
    std::vector<std::string> blobs;
    std::error_code ec;
    for (const auto& dir : fs::directory_iterator(data.root() / "blobs" / "sha256", ec)) {
        for (const auto& entry : fs::directory_iterator(dir.path(), ec)) {
            std::string name = entry.path().filename().string();
            if (is_blob_name(name) && entry.is_regular_file(ec)) {
                blobs.push_back(std::move(name));
            }
        }
    }
    std::sort(blobs.begin(), blobs.end());
    return {{"format", kInventoryFormat},
            {"format_version", 1},
            {"created_at", to_rfc3339(std::chrono::system_clock::now())},
            {"apps", apps},
            {"blobs", blobs}};
}

std::set<std::string> inventory_blobs(std::string_view text, std::string_view source) {
    try {
        const Json json = Json::parse(text);
        if (!json.is_object() || json.value("format", "") != kInventoryFormat) {
            throw Error(
                "not a ferry inventory (\"format\" is not \"ferry-inventory\"); write "
                "one with ferry inventory");
        }
        if (json.at("format_version").get<int>() != 1) {
            throw Error::format("format version {} is not one this ferry reads (1)",
                                json.at("format_version").get<int>());
        }
        std::set<std::string> blobs;
        for (const Json& blob : json.at("blobs")) {
            std::string sha256 = blob.get<std::string>();
            if (!is_blob_name(sha256)) {
                throw Error::format("\"{}\" is not a SHA-256", sha256);
            }
            blobs.insert(std::move(sha256));
        }
        return blobs;
    } catch (const Json::exception& e) {
        throw Error::format("{}: {}", source, core::json_error_text(e));
    } catch (const Error& e) {
        throw Error::format("{}: {}", source, e.what());
    }
}

}  // namespace ferry::market
