#include "repo/repository_dir.hpp"

#include "archive/archive.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "formats/names.hpp"

namespace ferry::repo {

namespace {
constexpr std::uint64_t kMaxMetaBytes = 256u << 20;
}  // namespace

std::string data_archive_path(const formats::PackageUpdate& package, const std::string& archive) {
    return package.component.name + "/" + package.component.version + archive;
}

std::string meta_archive_path(const formats::PackageUpdate& package) {
    return package.component.name + "/" + package.component.version + "meta.7z";
}

std::string service_file_path(const formats::PackageUpdate& package) {
    return package.component.name + "/" + package.component.version +
           package.service->description.name;
}

std::string image_blob_path(std::string_view digest) {
    constexpr std::string_view algorithm = "sha256:";
    if (!digest.starts_with(algorithm)) {
        throw Error::format("image blob digest \"{}\" is not a SHA-256", digest);
    }
    return fmt::format("{}{}", formats::kImageBlobPrefix, digest.substr(algorithm.size()));
}

std::vector<std::string> component_files(const formats::PackageUpdate& package, bool checksum) {
    std::vector<std::string> files;
    for (const auto& archive : package.component.downloadable_archives) {
        files.push_back(data_archive_path(package, archive));
        if (checksum) {
            files.push_back(sidecar_path(files.back()));
        }
    }
    if (!package.meta_sha1.empty() || package.meta_archive) {
        files.push_back(meta_archive_path(package));
    }
    if (package.service) {
        files.push_back(service_file_path(package));
        files.push_back(image_blob_path(package.service->manifest.digest));
        for (const auto& blob : package.service->blobs) {
            files.push_back(image_blob_path(blob.digest));
        }
    }
    return files;
}

std::set<std::string> referenced_files(const formats::RepositoryIndex& index) {
    std::set<std::string> files;
    for (const auto& package : index.packages) {
        for (auto& file : component_files(package, index.checksum)) {
            files.insert(std::move(file));
        }
        for (const auto& retained : package.retained) {
            files.insert(retained.files.begin(), retained.files.end());
        }
    }
    if (!index.metadata_name.empty()) {
        files.insert(index.metadata_name);
    }
    for (const auto& retained : index.retained_metadata) {
        files.insert(retained.files.begin(), retained.files.end());
    }
    return files;
}

std::optional<RepositoryDir> RepositoryDir::open(const fs::path& dir) {
    const fs::path index_path = dir / "Updates.xml";
    std::error_code ec;
    if (!fs::exists(index_path, ec)) {
        return std::nullopt;
    }
    RepositoryDir repository;
    repository.dir_ = dir;
    repository.index_ = formats::parse_updates_xml(
        core::read_file(index_path, formats::kMaxUpdatesXmlBytes), index_path.string());
    return repository;
}

fs::path RepositoryDir::extract_meta(const formats::PackageUpdate& package,
                                     const fs::path& scratch) const {
    const std::string& name = package.component.name;
    const fs::path result = scratch / name;
    std::error_code ec;
    if (fs::is_directory(result, ec)) {
        return result;
    }
    const fs::path own = dir_ / meta_archive_path(package);
    archive::ExtractLimits limits{kMaxMetaBytes, 100'000};
    if (fs::exists(own, ec)) {
        archive::extract_archive(own, scratch, limits);
    } else if (!index_.metadata_name.empty() && fs::exists(dir_ / index_.metadata_name, ec)) {
        // The united archive holds every component: extract it once, beside the per-component
        // results, and keep all of it for the next caller.
        const fs::path united = scratch / ".united";
        if (!fs::exists(united, ec)) {
            fs::create_directories(united);
            archive::extract_archive(dir_ / index_.metadata_name, united, limits);
        }
        if (fs::is_directory(united / name, ec)) {
            fs::rename(united / name, result);
        }
    }
    // A component without meta files has an empty metadata directory, as IFW ships it.
    fs::create_directories(result);
    return result;
}

}  // namespace ferry::repo
