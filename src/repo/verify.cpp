#include "repo/verify.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/relative_path.hpp"
#include "net/downloader.hpp"
#include "net/url.hpp"
#include "repo/repository_dir.hpp"

namespace ferry::repo {

namespace {

class Checker {
  public:
    Checker(const fs::path& dir, VerifyReport& report) : dir_(dir), report_(report) {}

    void problem(const std::string& file, std::string message) {
        report_.problems.push_back({file, std::move(message)});
    }

    // Digest of a repository file, or nullptr (and a problem) when it is missing or unreadable.
    const core::FileDigest* digest(const std::string& file) {
        if (auto it = digests_.find(file); it != digests_.end()) {
            return &it->second;
        }
        std::error_code ec;
        if (!is_inside(file)) {
            return nullptr;
        }
        if (!fs::is_regular_file(dir_ / file, ec)) {
            problem(file, "missing");
            return nullptr;
        }
        try {
            ++report_.files_checked;
            return &digests_.emplace(file, core::digest_file(dir_ / file)).first->second;
        } catch (const Error& e) {
            problem(file, e.what());
            return nullptr;
        }
    }

    void check_record(const std::string& file, const formats::ArchiveRecord& record,
                      const core::FileDigest& actual) {
        if (record.size != actual.size) {
            problem(file,
                    fmt::format("size is {} bytes, the index says {}", actual.size, record.size));
        }
        if (!record.sha256.empty() && record.sha256 != actual.sha256) {
            problem(file,
                    fmt::format("SHA-256 is {}, the index says {}", actual.sha256, record.sha256));
        }
        if (!record.sha1.empty() && record.sha1 != actual.sha1) {
            problem(file, fmt::format("SHA-1 is {}, the index says {}", actual.sha1, record.sha1));
        }
    }

    void check_sidecar(const std::string& archive, const core::FileDigest& actual) {
        const std::string sidecar = sidecar_path(archive);
        std::error_code ec;
        if (!fs::is_regular_file(dir_ / sidecar, ec)) {
            problem(sidecar, "missing (Checksum is true)");
            return;
        }
        ++report_.files_checked;
        const std::string text = core::read_file(dir_ / sidecar, 4096);
        if (!core::is_hex_digest(text, 40)) {
            problem(sidecar, "must hold exactly 40 lowercase hex characters and no newline");
        } else if (text != actual.sha1) {
            problem(sidecar, fmt::format("says {}, the archive's SHA-1 is {}", text, actual.sha1));
        }
    }

    void check_exists(const std::string& file) {
        std::error_code ec;
        ++report_.files_checked;
        if (!is_inside(file)) {
            // reported
        } else if (!fs::is_regular_file(dir_ / file, ec)) {
            problem(file, "missing (kept for clients holding an older Updates.xml)");
        }
    }

  private:
    // Whether file is a path inside the repository; if not, says why as a problem.
    bool is_inside(const std::string& file) {
        if (auto unsafe = core::relative_path_problem(file)) {
            problem(file, fmt::format("the index names a path that {} (a repository's files are "
                                      "clean paths inside it)",
                                      *unsafe));
            return false;
        }
        return true;
    }

    fs::path dir_;
    VerifyReport& report_;
    std::map<std::string, core::FileDigest> digests_;
};

// A blob is named by its digest, which must be its content's.
void verify_blob(const formats::ImageBlobRecord& blob, Checker& check) {
    const std::string file = image_blob_path(blob.digest);
    if (const auto* actual = check.digest(file)) {
        if (actual->size != blob.size) {
            check.problem(
                file, fmt::format("size is {} bytes, the index says {}", actual->size, blob.size));
        }
        if ("sha256:" + actual->sha256 != blob.digest) {
            check.problem(
                file, fmt::format("SHA-256 is {}, not the digest it is named by", actual->sha256));
        }
    }
}

void verify_service(const formats::PackageUpdate& package, Checker& check) {
    const auto& service = *package.service;
    const std::string file = service_file_path(package);
    if (const auto* actual = check.digest(file)) {
        check.check_record(file, service.description, *actual);
    }
    verify_blob(service.manifest, check);
    for (const auto& blob : service.blobs) {
        verify_blob(blob, check);
    }
}

void verify_package(const formats::RepositoryIndex& index, const formats::PackageUpdate& package,
                    Checker& check) {
    const auto& component = package.component;
    std::uint64_t archive_bytes = 0;
    std::uint64_t sidecar_bytes = 0;
    for (const auto& name : component.downloadable_archives) {
        const std::string file = data_archive_path(package, name);
        const auto* actual = check.digest(file);
        if (actual == nullptr) {
            continue;
        }
        archive_bytes += actual->size;
        for (const auto& record : package.archives) {
            if (record.name == name) {
                check.check_record(file, record, *actual);
            }
        }
        if (index.checksum) {
            check.check_sidecar(file, *actual);
            sidecar_bytes += 40;
        }
    }
    for (const auto& record : package.archives) {
        const auto& names = component.downloadable_archives;
        if (std::find(names.begin(), names.end(), record.name) == names.end()) {
            check.problem(data_archive_path(package, record.name),
                          fmt::format("recorded for component {} but not in its "
                                      "DownloadableArchives",
                                      component.name));
        }
    }
    // IFW's repogen counts the sidecars in CompressedSize; accept both sums.
    if (package.compressed_size != archive_bytes &&
        package.compressed_size != archive_bytes + sidecar_bytes) {
        check.problem(component.name + "/",
                      fmt::format("UpdateFile CompressedSize is {}, the archives add up to {}",
                                  package.compressed_size, archive_bytes));
    }
    if (!package.meta_sha1.empty()) {
        const std::string file = meta_archive_path(package);
        if (const auto* actual = check.digest(file)) {
            if (actual->sha1 != package.meta_sha1) {
                check.problem(file, fmt::format("SHA-1 is {}, the index says {}", actual->sha1,
                                                package.meta_sha1));
            }
            if (package.meta_archive) {
                check.check_record(file, *package.meta_archive, *actual);
            }
        }
    }
    if (package.service) {
        verify_service(package, check);
    }
    for (const auto& retained : package.retained) {
        for (const auto& file : retained.files) {
            check.check_exists(file);
        }
    }
}

}  // namespace

VerifyReport verify_repository(const std::filesystem::path& dir) {
    auto repository = RepositoryDir::open(dir);
    if (!repository) {
        throw Error::format("{}: no Updates.xml: not a repository", dir.string());
    }
    const auto& index = repository->index();
    VerifyReport report;
    Checker check(dir, report);
    report.components = index.packages.size();
    for (const auto& package : index.packages) {
        verify_package(index, package, check);
    }
    if (!index.metadata_name.empty()) {
        if (const auto* actual = check.digest(index.metadata_name)) {
            if (!index.metadata_sha1.empty() && actual->sha1 != index.metadata_sha1) {
                check.problem(index.metadata_name, fmt::format("SHA-1 is {}, the index says {}",
                                                               actual->sha1, index.metadata_sha1));
            }
            if (index.metadata_archive) {
                check.check_record(index.metadata_name, *index.metadata_archive, *actual);
            }
        }
    }
    for (const auto& retained : index.retained_metadata) {
        for (const auto& file : retained.files) {
            check.check_exists(file);
        }
    }
    return report;
}

VerifyReport verify_repository_url(const std::string& url) {
    core::ScratchDir mirror;
    if (net::fetch_to_file(net::join_url(url, "Updates.xml"), mirror.path() / "Updates.xml") !=
        net::FetchStatus::ok) {
        throw Error::format("{}: no Updates.xml: not a repository", net::strip_credentials(url));
    }
    const auto repository = RepositoryDir::open(mirror.path());
    // Every referenced file is fetched into a local mirror of the repository, which is then
    // checked like a directory; a file the server does not have is reported missing there.
    for (const auto& file : referenced_files(repository->index())) {
        if (core::relative_path_problem(file)) {
            continue;  // the directory check reports it
        }
        const fs::path local = mirror.path() / file;
        fs::create_directories(local.parent_path());
        net::fetch_to_file(net::join_url(url, file), local);
    }
    return verify_repository(mirror.path());
}

}  // namespace ferry::repo
