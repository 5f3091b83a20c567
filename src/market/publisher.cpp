#include "market/publisher.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "client/resolver.hpp"
#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/file_error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/relative_path.hpp"
#include "core/version.hpp"
#include "market/names.hpp"
#include "repo/repository_dir.hpp"

namespace ferry::market {

namespace {

// The files of the index that the market serves: every component's files and the united
// metadata. Files of earlier versions are the market's own business (it keeps the previous
// revision's), so the publisher's retained lists are not taken over.
std::set<std::string> served_files(const formats::RepositoryIndex& index) {
    std::set<std::string> files;
    for (const auto& package : index.packages) {
        for (auto& file : repo::component_files(package, index.checksum)) {
            files.insert(std::move(file));
        }
    }
    if (!index.metadata_name.empty()) {
        files.insert(index.metadata_name);
    }
    return files;
}

// What the index says a file is: its size and SHA-256 (empty when it records none).
struct Recorded {
    std::uint64_t size = 0;
    std::string sha256;
};

// The files for which the index records a size and SHA-256 (ferry's FerryArchive elements, a
// service's description, image blobs, named by their digest), by repository path. Records of
// archives the component does not list are left to `repo verify`: no client reads them.
std::map<std::string, Recorded> recorded_files(const formats::RepositoryIndex& index) {
    std::map<std::string, Recorded> records;
    auto record = [&](const std::string& path, const formats::ArchiveRecord& archive) {
        records[path] = {archive.size, archive.sha256};
    };
    auto blob = [&](const formats::ImageBlobRecord& b) {
        records[repo::image_blob_path(b.digest)] = {b.size,
                                                    b.digest.substr(b.digest.find(':') + 1)};
    };
    for (const auto& package : index.packages) {
        const auto& listed = package.component.downloadable_archives;
        for (const auto& archive : package.archives) {
            if (std::find(listed.begin(), listed.end(), archive.name) != listed.end()) {
                record(repo::data_archive_path(package, archive.name), archive);
            }
        }
        if (package.meta_archive) {
            record(repo::meta_archive_path(package), *package.meta_archive);
        }
        if (package.service) {
            record(repo::service_file_path(package), package.service->description);
            blob(package.service->manifest);
            for (const auto& b : package.service->blobs) {
                blob(b);
            }
        }
    }
    if (index.metadata_archive && !index.metadata_name.empty()) {
        record(index.metadata_name, *index.metadata_archive);
    }
    return records;
}

// The files whose announced blob is not what the index records for them: a client checks each
// download against the index, so such a revision would be served but never installed.
std::vector<std::string> mismatched_records(
    const formats::RepositoryIndex& index,
    const std::map<std::string, const RepositoryFile*>& announced) {
    std::vector<std::string> mismatched;
    for (const auto& [path, record] : recorded_files(index)) {
        const auto file = announced.find(path);
        if (file == announced.end()) {
            continue;  // reported as not announced
        }
        const RepositoryFile& blob = *file->second;
        if (record.size != blob.size || (!record.sha256.empty() && record.sha256 != blob.sha256)) {
            mismatched.push_back(fmt::format(
                "{} (the index records {} bytes with SHA-256 {}, the file is {} bytes with "
                "SHA-256 {})",
                path, record.size, record.sha256.empty() ? "-" : record.sha256, blob.size,
                blob.sha256));
        }
    }
    return mismatched;
}

std::optional<formats::RepositoryIndex> read_index(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        return std::nullopt;
    }
    return formats::parse_updates_xml(core::read_file(file), file.string());
}

bool same_file(const fs::path& a, const fs::path& b) {
    struct stat sa {};
    struct stat sb {};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_ino == sb.st_ino &&
           sa.st_dev == sb.st_dev;
}

// Puts a hard link to the blob at target, replacing what is there atomically.
void link_blob(const fs::path& blob, const fs::path& target) {
    if (same_file(blob, target)) {
        return;
    }
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    const fs::path temporary = core::temporary_sibling(target);
    if (::link(blob.c_str(), temporary.c_str()) != 0 ||
        ::rename(temporary.c_str(), target.c_str()) != 0) {
        const int cause = errno;
        ::unlink(temporary.c_str());
        throw file_error(target.string(), "cannot place it in the repository", cause);
    }
}

// Removes files of dir that neither index needs, and the directories this empties.
void remove_unreferenced(const fs::path& dir, const std::set<std::string>& keep) {
    std::vector<fs::path> files;
    std::vector<fs::path> dirs;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string relative = it->path().lexically_relative(dir).generic_string();
        if (it->is_directory(ec) && !it->is_symlink(ec)) {
            dirs.push_back(it->path());
        } else if (relative != "Updates.xml" && keep.count(relative) == 0) {
            files.push_back(it->path());
        }
    }
    for (const auto& file : files) {
        fs::remove(file, ec);
    }
    std::sort(dirs.rbegin(), dirs.rend());
    for (const auto& sub : dirs) {
        ::rmdir(sub.c_str());  // only when empty
    }
}

std::vector<RevisionComponent> components_of(const formats::RepositoryIndex& index,
                                             const std::map<std::string, std::string>& files) {
    std::vector<RevisionComponent> components;
    for (const auto& package : index.packages) {
        components.push_back({package.component.name, package.component.version,
                              component_digest(package, index.checksum, files)});
    }
    std::sort(components.begin(), components.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return components;
}

}  // namespace

std::string component_digest(const formats::PackageUpdate& package, bool checksum,
                             const std::map<std::string, std::string>& files) {
    // The description without what changes on every build or belongs to the files.
    formats::RepositoryIndex one;
    formats::PackageUpdate& p = one.packages.emplace_back(package);
    p.component.version = "-";
    p.component.release_date = "-";
    p.archives.clear();
    p.meta_archive.reset();
    p.service.reset();  // its files are hashed below
    p.retained.clear();
    p.meta_sha1.clear();
    p.compressed_size = 0;
    p.uncompressed_size = 0;
    core::Hasher hasher(core::HashKind::sha256);
    hasher.update(formats::write_updates_xml(one));
    const std::string prefix = package.component.name + "/" + package.component.version;
    for (const std::string& path : repo::component_files(package, checksum)) {
        auto found = files.find(path);
        const std::string name = path.starts_with(prefix) ? path.substr(prefix.size()) : path;
        hasher.update(name + " " + (found != files.end() ? found->second : "?") + "\n");
    }
    return hasher.hex_digest();
}

std::vector<RevisionComponent> revision_components(const formats::RepositoryIndex& index,
                                                   const std::vector<RepositoryFile>& files) {
    std::map<std::string, std::string> shas;
    for (const auto& file : files) {
        shas[file.path] = file.sha256;
    }
    return components_of(index, shas);
}

RepositoryFiles read_repository_files(const fs::path& dir) {
    RepositoryFiles result;
    const fs::path index_file = dir / "Updates.xml";
    result.updates_xml = core::read_file(index_file);
    const auto index = formats::parse_updates_xml(result.updates_xml, index_file.string());
    for (const std::string& path : served_files(index)) {
        if (auto problem = core::relative_path_problem(path)) {
            throw Error::format("{}: the file name \"{}\" {} (it must stay inside the repository)",
                                index_file.string(), path, *problem);
        }
        const core::FileDigest digest =
            with_context(fmt::format("reading the repository {}", dir.string()),
                         [&] { return core::digest_file(dir / path); });
        result.files.push_back({path, digest.sha256, digest.size});
    }
    return result;
}

void store_blob(const DataDir& data, const fs::path& file, const RepositoryFile& announced) {
    BlobWriter writer(data, announced.sha256, announced.size);
    core::FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        throw file_error(file.string(), "cannot open", errno);
    }
    char buffer[1 << 16];
    for (ssize_t n; (n = ::read(fd.get(), buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw file_error(file.string(), "read error", errno);
        }
        writer.write(buffer, static_cast<std::size_t>(n));
    }
    writer.finish();
}

std::size_t store_missing_blobs(const DataDir& data, const fs::path& dir,
                                const std::vector<RepositoryFile>& files) {
    std::size_t stored = 0;
    std::set<std::string> seen;
    for (const auto& file : files) {
        if (seen.insert(file.sha256).second && !data.has_blob(file.sha256, file.size)) {
            store_blob(data, dir / file.path, file);
            ++stored;
        }
    }
    return stored;
}

std::vector<std::string> missing_blobs(const DataDir& data,
                                       const std::vector<RepositoryFile>& files) {
    std::vector<std::string> missing;
    std::set<std::string> seen;
    for (const auto& file : files) {
        if (seen.insert(file.sha256).second && !data.has_blob(file.sha256, file.size)) {
            missing.push_back(file.sha256);
        }
    }
    return missing;
}

std::mutex& Publisher::lock_for(const std::string& app_key) {
    std::lock_guard lock(locks_mutex_);
    return locks_[app_key];
}

PublishResult Publisher::publish(const PublishRequest& request) {
    const std::string& key = request.app.key;
    const std::string& major = request.major;
    check_key(key, "app key");
    check_key(major, "major version");
    const std::string what = key + "@" + major;
    formats::RepositoryIndex index =
        formats::parse_updates_xml(request.updates_xml, what + ": Updates.xml");
    std::map<std::string, std::string> shas;  // path -> SHA-256
    std::map<std::string, const RepositoryFile*> announced;
    for (const RepositoryFile& file : request.files) {
        if (auto problem = core::relative_path_problem(file.path)) {
            throw Error::format("{}: the file name \"{}\" {} (files stay inside the repository)",
                                what, file.path, *problem);
        }
        if (file.path == "Updates.xml") {
            throw Error::format(
                "{}: the file name \"Updates.xml\" is not allowed (the market writes the index)",
                what);
        }
        if (!is_blob_name(file.sha256)) {
            throw Error::format("{}: {}: \"{}\" is not a SHA-256", what, file.path, file.sha256);
        }
        if (!announced.emplace(file.path, &file).second) {
            throw Error::format("{}: {} is announced twice", what, file.path);
        }
        shas[file.path] = file.sha256;
    }
    const std::set<std::string> needed = served_files(index);
    std::vector<std::string> absent;
    std::vector<std::string> not_uploaded;
    for (const std::string& path : needed) {
        auto file = announced.find(path);
        if (file == announced.end()) {
            absent.push_back(path);
        } else if (!data_.has_blob(file->second->sha256, file->second->size)) {
            not_uploaded.push_back(fmt::format("{} ({})", path, file->second->sha256));
        }
    }
    if (!absent.empty()) {
        throw Error::format("{}: the index needs files that were not announced: {}", what,
                            fmt::join(absent, ", "));
    }
    if (!not_uploaded.empty()) {
        // Valid, but the store lacks what it names: upload them, then commit again.
        throw Error::format(ErrorKind::conflict,
                            "{}: these files were not uploaded (or not with the announced size): "
                            "{}",
                            what, fmt::join(not_uploaded, ", "));
    }
    if (const auto mismatched = mismatched_records(index, announced); !mismatched.empty()) {
        throw Error::format("{}: the index does not describe these files: {}", what,
                            fmt::join(mismatched, "; "));
    }
    try {
        client::check_resolvable(index);
    } catch (const Error& e) {
        throw Error::format("{}: a client could not install this revision: {}", what, e.what());
    }
    std::vector<RevisionComponent> components = components_of(index, shas);

    std::lock_guard serialised(lock_for(key));
    const std::optional<Major> current = catalog_.find_major(key, major);
    const int latest = current ? current->latest_revision : 0;
    const std::optional<Revision> previous =
        latest > 0 ? catalog_.find_revision(key, major, latest) : std::nullopt;
    const int number = request.number > 0 ? request.number : latest + 1;
    if (number <= latest && !(previous && previous->components == components)) {
        // An import of a revision this market has: the same content is nothing to do.
        const std::optional<Revision> same = catalog_.find_revision(key, major, number);
        if (same && same->components == components) {
            PublishResult result;
            result.unchanged = true;
            result.revision = *same;
            for (const auto& component : components) {
                result.unchanged_components.push_back(component.name);
            }
            return result;
        }
        throw Error::format(
            ErrorKind::conflict,
            "{}: revision {} is not above this market's latest revision {}{}; a "
            "revision is never replaced or gone back to",
            what, number, latest,
            same ? fmt::format(" (its revision {} has other content)", number) : "");
    }

    PublishResult result;
    std::vector<std::string> not_raised;
    for (const RevisionComponent& component : components) {
        const RevisionComponent* before = nullptr;
        if (previous) {
            auto found = std::find_if(previous->components.begin(), previous->components.end(),
                                      [&](const auto& c) { return c.name == component.name; });
            before = found != previous->components.end() ? &*found : nullptr;
        }
        if (before == nullptr || before->content_sha256 != component.content_sha256 ||
            before->version != component.version) {
            result.changed.push_back(component.name);
        } else {
            result.unchanged_components.push_back(component.name);
        }
        if (before != nullptr && before->content_sha256 != component.content_sha256 &&
            core::compare_versions(component.version, before->version) <= 0) {
            not_raised.push_back(fmt::format("{} (published {}, now {})", component.name,
                                             before->version, component.version));
        }
    }
    if (!not_raised.empty()) {
        throw Error::format(ErrorKind::conflict,
                            "{}: these components changed but their versions did not grow: {}; "
                            "raise their Version in package.xml or publish with --bump",
                            what, fmt::join(not_raised, ", "));
    }
    App app = request.app;
    if (const auto existing = catalog_.find_app(key)) {
        app.created_at = existing->created_at;
        app.source = existing->source;
        app.upstream_url = existing->upstream_url;
    }
    catalog_.save_app(app);
    if (previous && previous->components == components) {
        result.unchanged = true;
        result.revision = *previous;
        result.unchanged_components.clear();
        for (const auto& component : components) {
            result.unchanged_components.push_back(component.name);
        }
        result.changed.clear();
        return result;
    }

    // The files first, Updates.xml last: a reader sees the old revision or the new one.
    const fs::path dir = data_.repository(key, major);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw file_error(dir.string(), "cannot create", ec.value());
    }
    const std::optional<formats::RepositoryIndex> old_index = read_index(dir / "Updates.xml");
    for (const std::string& path : needed) {
        link_blob(data_.blob(shas.at(path)), dir / path);
    }
    std::vector<RepositoryFile> revision_files;
    for (const std::string& path : needed) {
        revision_files.push_back(*announced.at(path));
    }
    Revision revision{key, major, number, request.notes, "", components, revision_files};
    index.revision = formats::RevisionStamp{key, major, revision.number};
    for (auto& package : index.packages) {
        package.retained.clear();
    }
    index.retained_metadata.clear();
    core::write_file_atomic(dir / "Updates.xml", formats::write_updates_xml(index));
    catalog_.commit_revision(revision, latest);
    // The previous revision's files stay, for clients that still hold its Updates.xml.
    std::set<std::string> keep = needed;
    if (old_index) {
        const std::set<std::string> old_files = served_files(*old_index);
        keep.insert(old_files.begin(), old_files.end());
    }
    remove_unreferenced(dir, keep);
    result.revision = *catalog_.find_revision(key, major, revision.number);
    return result;
}

int Publisher::reconcile() {
    int recorded = 0;
    std::error_code ec;
    for (const auto& app_dir : fs::directory_iterator(data_.repositories(), ec)) {
        for (const auto& major_dir : fs::directory_iterator(app_dir.path(), ec)) {
            const auto index = read_index(major_dir.path() / "Updates.xml");
            if (!index || !index->revision) {
                continue;
            }
            const formats::RevisionStamp& stamp = *index->revision;
            const auto major = catalog_.find_major(stamp.app, stamp.major);
            const int latest = major ? major->latest_revision : 0;
            if (stamp.number <= latest || !catalog_.find_app(stamp.app)) {
                continue;
            }
            std::map<std::string, std::string> shas;
            std::vector<RepositoryFile> files;
            for (const std::string& path : served_files(*index)) {
                const core::FileDigest digest = core::digest_file(major_dir.path() / path);
                shas[path] = digest.sha256;
                files.push_back({path, digest.sha256, digest.size});
            }
            catalog_.commit_revision(
                {stamp.app, stamp.major, stamp.number, "recorded after an interrupted publish", "",
                 components_of(*index, shas), files},
                latest);
            ++recorded;
        }
    }
    return recorded;
}

}  // namespace ferry::market
