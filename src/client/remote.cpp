// The client's network side: indexes fetched through the conditional cache with their
// RepositoryUpdate actions followed, then metadata and data archives downloaded and checked
// against what the index promises before anything reaches the installation.
#include "client/remote.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "archive/archive.hpp"
#include "client/repository_actions.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/relative_path.hpp"
#include "formats/updates_xml.hpp"
#include "net/url.hpp"
#include "repo/repository_dir.hpp"

namespace ferry::client {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxSidecarBytes = 4096;
const archive::ExtractLimits kMetaLimits{256u << 20, 100'000};

// The environment variables that set RemoteLimits in the CLI, named when a bound is hit.
constexpr std::string_view kIndexLimitSetting = "FERRY_MAX_INDEX_SIZE";
constexpr std::string_view kMetadataLimitSetting = "FERRY_MAX_METADATA_SIZE";

net::DownloadOptions bounded(net::DownloadOptions options, std::uint64_t max_bytes,
                             std::string_view setting) {
    options.max_bytes = std::min(options.max_bytes, max_bytes);
    options.max_bytes_setting = setting;
    return options;
}

// What the index promises about one file; every check that has something to go by is made.
struct Expected {
    std::string sidecar_sha1;                        // from the .sha1 sidecar
    std::string index_sha1;                          // <SHA1> of a metadata archive
    const formats::ArchiveRecord* record = nullptr;  // ferry's FerryArchive record

    bool checks_anything() const {
        return !sidecar_sha1.empty() || !index_sha1.empty() || record != nullptr;
    }
};

// Empty when the file is what the index promises, else what differs.
std::string check_file(const fs::path& path, const Expected& expected) {
    const core::FileDigest actual = core::digest_file(path);
    if (!expected.sidecar_sha1.empty() && actual.sha1 != expected.sidecar_sha1) {
        return fmt::format("SHA-1 is {}, the sidecar says {}", actual.sha1, expected.sidecar_sha1);
    }
    if (!expected.index_sha1.empty() && actual.sha1 != expected.index_sha1) {
        return fmt::format("SHA-1 is {}, the index says {}", actual.sha1, expected.index_sha1);
    }
    if (const formats::ArchiveRecord* record = expected.record) {
        if (record->size != 0 && actual.size != record->size) {
            return fmt::format("size is {} bytes, the index says {}", actual.size, record->size);
        }
        if (!record->sha256.empty() && actual.sha256 != record->sha256) {
            return fmt::format("SHA-256 is {}, the index says {}", actual.sha256, record->sha256);
        }
        if (!record->sha1.empty() && actual.sha1 != record->sha1) {
            return fmt::format("SHA-1 is {}, the index says {}", actual.sha1, record->sha1);
        }
    }
    return {};
}

// A sidecar holds the hex SHA-1, possibly followed by whitespace and the file name (sha1sum's
// format); empty when it holds no SHA-1.
std::string sidecar_sha1(const std::string& text) {
    const auto start = text.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) {
        return {};
    }
    std::string token = text.substr(start, text.find_first_of(" \t\r\n", start) - start);
    std::transform(token.begin(), token.end(), token.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return core::is_hex_digest(token, 40) ? token : std::string();
}

// The repository URL with the setting's credentials, for requests only.
std::string request_base(const Settings& settings, const std::string& url) {
    const RepositorySetting* setting = settings.find(url);
    return setting ? authenticated_url(*setting) : url;
}

bool needs_meta(const formats::ComponentDescription& component) {
    return !component.script.empty() || !component.licenses.empty() ||
           !component.user_interfaces.empty() || !component.translations.empty();
}

const RemoteRepository& repository_of(const std::vector<RemoteRepository>& repositories,
                                      const RemoteComponent& component) {
    auto it =
        std::find_if(repositories.begin(), repositories.end(),
                     [&](const RemoteRepository& r) { return r.url == component.repository_url; });
    if (it == repositories.end()) {
        throw Error::format("{}: component {}: the repository's index was not fetched",
                            net::strip_credentials(component.repository_url),
                            component.update.component.name);
    }
    return *it;
}

// Downloads url into dest and checks it; a mismatch gets one more download. what names the file
// in errors ("<repository>: component <name>: metadata <file>").
void download_checked(net::Downloader& downloader, const std::string& url, const fs::path& dest,
                      const Expected& expected, const std::string& what) {
    fs::create_directories(dest.parent_path());
    for (int attempt = 0;; ++attempt) {
        net::FetchStatus status = net::FetchStatus::ok;
        try {
            status = downloader.download(url, dest).status;
        } catch (const net::Cancelled&) {
            throw;
        } catch (const Error& e) {
            throw Error(fmt::format("{}: {}", what, e.what()), e.kind());
        }
        if (status == net::FetchStatus::not_found) {
            throw Error::format("{}: not found at {}", what, net::strip_credentials(url));
        }
        const std::string problem = check_file(dest, expected);
        if (problem.empty()) {
            return;
        }
        fs::remove(dest);
        if (attempt > 0) {
            throw Error::format("{}: {}", what, problem);
        }
    }
}

// Fetches and extracts the meta files of the components that need them into
// download_dir/meta/<Name>/, through a scratch directory beside it (same filesystem, so the
// results are renamed into place).
void fetch_metadata(const std::vector<const RemoteComponent*>& components,
                    const std::vector<RemoteRepository>& repositories, const Settings& settings,
                    const RemoteOptions& options, std::vector<DownloadedComponent>& downloaded) {
    const fs::path meta_root = options.download_dir / "meta";
    std::unique_ptr<core::ScratchDir> scratch;
    std::unique_ptr<net::Downloader> downloader;
    std::map<std::string, fs::path> united_trees;  // repository URL -> extracted united metadata
    for (std::size_t i = 0; i < components.size(); ++i) {
        const RemoteComponent& component = *components[i];
        const formats::PackageUpdate& package = component.update;
        if (!needs_meta(package.component)) {
            continue;
        }
        if (!scratch) {
            fs::create_directories(meta_root);
            scratch = std::make_unique<core::ScratchDir>(meta_root, ".fetch-");
            downloader = std::make_unique<net::Downloader>(
                bounded(options.download, options.limits.metadata_bytes, kMetadataLimitSetting));
        }
        const RemoteRepository& repository = repository_of(repositories, component);
        const std::string shown = net::strip_credentials(repository.url);
        const std::string& name = package.component.name;
        const std::string base = request_base(settings, repository.url);
        fs::path tree;
        if (!repository.index.metadata_name.empty()) {
            const std::string& file = repository.index.metadata_name;
            auto found = united_trees.find(repository.url);
            if (found == united_trees.end()) {
                const std::string what =
                    fmt::format("{}: component {}: metadata {}", shown, name, file);
                if (auto problem = core::relative_path_problem(file)) {
                    throw Error::format("{}: the name {} (it must stay inside the repository)",
                                        what, *problem);
                }
                const fs::path dir = scratch->path() / ("united-" + std::to_string(i));
                Expected expected{{},
                                  repository.index.metadata_sha1,
                                  repository.index.metadata_archive
                                      ? &*repository.index.metadata_archive
                                      : nullptr};
                const fs::path local = dir / fs::path(file).filename();
                download_checked(*downloader, net::join_url(base, file), local, expected, what);
                fs::create_directories(dir / "tree");
                with_context(what,
                             [&] { archive::extract_archive(local, dir / "tree", kMetaLimits); });
                found = united_trees.emplace(repository.url, dir / "tree").first;
            }
            tree = found->second;
        } else if (!package.meta_sha1.empty() || package.meta_archive) {
            const std::string file = repo::meta_archive_path(package);
            const std::string what = fmt::format("{}: component {}: metadata {}", shown, name,
                                                 package.component.version + "meta.7z");
            const fs::path dir = scratch->path() / ("component-" + std::to_string(i));
            Expected expected{
                {}, package.meta_sha1, package.meta_archive ? &*package.meta_archive : nullptr};
            download_checked(*downloader, net::join_url(base, file), dir / "meta.7z", expected,
                             what);
            tree = dir / "tree";
            fs::create_directories(tree);
            with_context(what,
                         [&] { archive::extract_archive(dir / "meta.7z", tree, kMetaLimits); });
        } else {
            throw Error::format(
                "{}: component {}: needs meta files (script, licences, user interfaces or "
                "translations) but the index names no metadata archive",
                shown, name);
        }
        const fs::path meta_dir = meta_root / name;
        fs::remove_all(meta_dir);
        std::error_code ec;
        if (fs::is_directory(tree / name, ec)) {
            fs::create_directories(meta_dir.parent_path());
            fs::rename(tree / name, meta_dir);
        } else {
            // A component without meta files has an empty metadata directory, as IFW ships it.
            fs::create_directories(meta_dir);
        }
        downloaded[i].meta_dir = meta_dir;
    }
}

// One data archive to download and check.
struct ArchiveJob {
    std::string what;  // "<repository>: component <name>: archive <Version><archive>"
    std::string url;   // with credentials
    fs::path dest;
    bool checksum = false;  // the index's <Checksum>: a .sha1 sidecar lies beside the archive
    Expected expected;
};

}  // namespace

FetchedIndexes fetch_indexes(Settings& settings, const RemoteOptions& options) {
    FetchedIndexes fetched;
    net::Downloader downloader(
        bounded(options.download, options.limits.index_bytes, kIndexLimitSetting));
    std::map<std::string, formats::RepositoryIndex> indexes;
    // Credentials that RepositoryUpdate actions give the repositories they add, by URL.
    std::map<std::string, RepositorySetting> from_actions;

    auto index_of = [&](const std::string& url) -> const formats::RepositoryIndex& {
        if (auto found = indexes.find(url); found != indexes.end()) {
            return found->second;
        }
        RepositorySetting access;
        if (const RepositorySetting* setting = settings.find(url)) {
            access = *setting;
        } else if (auto action = from_actions.find(url); action != from_actions.end()) {
            access = action->second;
        }
        access.url = url;
        const std::string shown = net::join_url(net::strip_credentials(url), "Updates.xml");
        net::CachedBody body = downloader.fetch_cached(
            net::join_url(authenticated_url(access), "Updates.xml"), options.cache_dir);
        fetched.bytes_transferred += body.result.bytes_transferred;
        if (body.result.status == net::FetchStatus::not_found) {
            throw Error::format("{}: not found (is the repository URL right?)", shown);
        }
        formats::RepositoryIndex index = formats::parse_updates_xml(body.body, shown);
        for (const formats::RepositoryAction& action : index.repository_updates) {
            const bool adds = action.kind == formats::RepositoryAction::Kind::add;
            if (!adds && action.kind != formats::RepositoryAction::Kind::replace) {
                continue;
            }
            RepositorySetting target;
            target.url = resolve_repository_url(url, adds ? action.url : action.new_url);
            target.username = action.username;
            target.password = action.password;
            if (!adds && action.username.empty() && action.password.empty()) {
                // A replacement keeps the credentials of the repository it replaces.
                const std::string old_url = resolve_repository_url(url, action.old_url);
                if (const RepositorySetting* old = settings.find(old_url)) {
                    target.username = old->username;
                    target.password = old->password;
                } else if (auto known = from_actions.find(old_url); known != from_actions.end()) {
                    target.username = known->second.username;
                    target.password = known->second.password;
                }
            }
            from_actions.try_emplace(target.url, std::move(target));
        }
        return indexes.emplace(url, std::move(index)).first->second;
    };

    std::vector<RepositoryEntry> entries;
    for (const RepositorySetting& setting : settings.repositories) {
        if (setting.enabled) {
            entries.push_back(
                {setting.url, setting.username, setting.password, setting.display_name});
        }
    }
    const std::vector<RepositoryEntry> followed = follow_repository_actions(
        entries, [&](const std::string& url) { return index_of(url).repository_updates; });

    const std::vector<RepositorySetting> before = settings.repositories;
    std::erase_if(settings.repositories, [&](const RepositorySetting& setting) {
        return setting.enabled &&
               std::none_of(followed.begin(), followed.end(),
                            [&](const RepositoryEntry& e) { return e.url == setting.url; });
    });
    for (const RepositoryEntry& entry : followed) {
        RepositorySetting* setting = settings.find(entry.url);
        if (!setting) {
            setting = &settings.repositories.emplace_back();
            setting->url = net::strip_credentials(entry.url);
        } else if (!setting->enabled) {
            continue;  // the user turned it off; an action does not turn it back on
        }
        setting->username = entry.username;
        setting->password = entry.password;
        setting->display_name = entry.display_name;
    }
    fetched.settings_changed = settings.repositories != before;
    for (const RepositorySetting& setting : settings.repositories) {
        if (setting.enabled) {
            index_of(setting.url);  // fetched now if an action added it
            fetched.repositories.push_back(
                {setting.url, setting.priority, std::move(indexes.at(setting.url))});
        }
    }
    return fetched;
}

std::vector<DownloadedComponent> download_components(
    const std::vector<const RemoteComponent*>& components,
    const std::vector<RemoteRepository>& repositories, const Settings& settings,
    const RemoteOptions& options,
    const std::function<void(std::uint64_t done, std::uint64_t total)>& progress) {
    std::vector<DownloadedComponent> downloaded;
    std::vector<ArchiveJob> jobs;
    std::uint64_t total = 0;
    std::deque<formats::ArchiveRecord> blob_records;  // the Expected of each blob points here
    std::set<std::string> blobs_wanted;               // components share layers
    for (const RemoteComponent* component : components) {
        const RemoteRepository& repository = repository_of(repositories, *component);
        const formats::PackageUpdate& package = component->update;
        const std::string& name = package.component.name;
        const std::string& version = package.component.version;
        const std::string shown = net::strip_credentials(repository.url);
        if (auto problem = core::relative_path_problem(name + "/" + version)) {
            throw Error::format(
                "{}: component {}: the path \"{}/{}\" {} (it must stay inside the repository)",
                shown, name, name, version, *problem);
        }
        const std::string base = request_base(settings, repository.url);
        DownloadedComponent& result = downloaded.emplace_back();
        result.name = name;
        result.version = version;
        std::uint64_t recorded_bytes = 0;
        bool all_recorded = true;
        for (const std::string& archive : package.component.downloadable_archives) {
            const std::string file = repo::data_archive_path(package, archive);
            ArchiveJob job;
            job.what = fmt::format("{}: component {}: archive {}", shown, name, version + archive);
            for (const std::string& path : {archive, file}) {
                if (auto problem = core::relative_path_problem(path)) {
                    throw Error::format(
                        "{}: the path \"{}\" {} (it must stay inside the repository)", job.what,
                        path, *problem);
                }
            }
            job.url = net::join_url(base, file);
            job.dest = options.download_dir / name / version / archive;
            job.checksum = repository.index.checksum;
            auto record = std::find_if(package.archives.begin(), package.archives.end(),
                                       [&](const formats::ArchiveRecord& r) {
                                           return r.name == archive || r.name == file;
                                       });
            if (record != package.archives.end()) {
                job.expected.record = &*record;
                recorded_bytes += record->size;
            } else {
                all_recorded = false;
            }
            result.archives.push_back(job.dest);
            jobs.push_back(std::move(job));
        }
        total += all_recorded ? recorded_bytes : package.compressed_size;
        if (package.service) {
            const auto& service = *package.service;
            ArchiveJob job;
            job.what = fmt::format("{}: component {}: service description", shown, name);
            job.url = net::join_url(base, repo::service_file_path(package));
            job.dest = options.download_dir / name / version / service.description.name;
            job.expected.record = &service.description;
            result.service_file = job.dest;
            total += service.description.size;
            jobs.push_back(std::move(job));
            std::vector<const formats::ImageBlobRecord*> blobs{&service.manifest};
            for (const auto& blob : service.blobs) {
                blobs.push_back(&blob);
            }
            for (const auto* blob : blobs) {
                if (!blobs_wanted.insert(blob->digest).second) {
                    continue;
                }
                const std::string file = repo::image_blob_path(blob->digest);
                ArchiveJob blob_job;
                blob_job.what =
                    fmt::format("{}: component {}: image blob {}", shown, name, blob->digest);
                blob_job.url = net::join_url(base, file);
                blob_job.dest = options.images_dir / file.substr(file.find('/') + 1);
                blob_job.expected.record = &blob_records.emplace_back(formats::ArchiveRecord{
                    "", blob->size, "", blob->digest.substr(blob->digest.find(':') + 1), ""});
                total += blob->size;
                jobs.push_back(std::move(blob_job));
            }
        }
    }

    fetch_metadata(components, repositories, settings, options, downloaded);

    // The sidecars first (always fetched again: a repository may be regenerated in place).
    std::vector<net::Request> sidecars;
    std::vector<std::size_t> sidecar_jobs;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (jobs[i].checksum) {
            fs::create_directories(jobs[i].dest.parent_path());
            const fs::path dest = jobs[i].dest.string() + ".sha1";
            fs::remove(dest);
            sidecars.push_back({repo::sidecar_path(jobs[i].url), dest, {}});
            sidecar_jobs.push_back(i);
        }
    }
    const auto sidecar_outcomes = net::download_all(
        sidecars, options.concurrency, bounded(options.download, kMaxSidecarBytes, {}));
    for (std::size_t s = 0; s < sidecars.size(); ++s) {
        ArchiveJob& job = jobs[sidecar_jobs[s]];
        const net::RequestOutcome& outcome = sidecar_outcomes[s];
        if (!outcome.error.empty()) {
            throw Error::format("{}: sidecar: {}", job.what, outcome.error);
        }
        if (outcome.result.status == net::FetchStatus::not_found) {
            throw Error::format(
                "{}: the .sha1 sidecar is missing (the index says Checksum is true)", job.what);
        }
        job.expected.sidecar_sha1 =
            sidecar_sha1(core::read_file(sidecars[s].dest, kMaxSidecarBytes));
        if (job.expected.sidecar_sha1.empty()) {
            throw Error::format("{}: the .sha1 sidecar holds no SHA-1", job.what);
        }
    }

    // Progress adds up the bytes of every archive, the ones downloading side by side included.
    auto done = std::make_unique<std::atomic<std::uint64_t>[]>(jobs.size());
    std::mutex progress_mutex;
    auto report = [&] {
        if (!progress) {
            return;
        }
        std::uint64_t sum = 0;
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            sum += done[i].load();
        }
        std::lock_guard lock(progress_mutex);
        progress(sum, total);
    };

    // An archive completed by an earlier run is kept when it passes the checks.
    std::vector<std::size_t> pending;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        const ArchiveJob& job = jobs[i];
        std::error_code ec;
        if (fs::is_regular_file(job.dest, ec) && job.expected.checks_anything() &&
            check_file(job.dest, job.expected).empty()) {
            done[i] = fs::file_size(job.dest);
            continue;
        }
        fs::remove(job.dest, ec);
        pending.push_back(i);
    }
    report();

    // A mismatch deletes the file and downloads it once more; a second one is an error.
    for (int round = 0; !pending.empty(); ++round) {
        std::vector<net::Request> requests;
        for (std::size_t i : pending) {
            fs::create_directories(jobs[i].dest.parent_path());
            const formats::ArchiveRecord* record = jobs[i].expected.record;
            requests.push_back(
                {jobs[i].url, jobs[i].dest,
                 [&, i](std::uint64_t bytes, std::uint64_t) {
                     done[i] = bytes;
                     report();
                 },
                 record != nullptr && record->size != 0 ? record->size : UINT64_MAX});
        }
        const auto outcomes = net::download_all(requests, options.concurrency, options.download);
        std::vector<std::size_t> again;
        for (std::size_t r = 0; r < pending.size(); ++r) {
            const ArchiveJob& job = jobs[pending[r]];
            if (!outcomes[r].error.empty()) {
                throw Error::format("{}: {}", job.what, outcomes[r].error);
            }
            if (outcomes[r].result.status == net::FetchStatus::not_found) {
                throw Error::format("{}: not found at {}", job.what,
                                    net::strip_credentials(job.url));
            }
            const std::string problem = check_file(job.dest, job.expected);
            if (problem.empty()) {
                continue;
            }
            fs::remove(job.dest);
            if (round > 0) {
                throw Error::format("{}: {}", job.what, problem);
            }
            done[pending[r]] = 0;
            again.push_back(pending[r]);
        }
        pending = std::move(again);
    }
    report();
    return downloaded;
}

}  // namespace ferry::client
