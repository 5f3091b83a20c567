#include "bundle/fetch.hpp"

#include <fmt/format.h>

#include <map>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "formats/updates_xml.hpp"
#include "repo/repository_dir.hpp"

namespace ferry::bundle {

namespace {

constexpr int kConcurrency = 4;

struct Expected {
    std::uint64_t size = 0;
    std::string sha256;
};

}  // namespace

void fetch_service_files(const std::string& url, const std::filesystem::path& dir,
                         const net::DownloadOptions& options) {
    std::filesystem::create_directories(dir);
    const auto index_file = dir / "Updates.xml";
    if (net::fetch_to_file(url + "Updates.xml", index_file, options) ==
        net::FetchStatus::not_found) {
        throw Error::format(ErrorKind::not_found, "{}Updates.xml: not found", url);
    }
    const auto index = formats::parse_updates_xml(
        core::read_file(index_file, formats::kMaxUpdatesXmlBytes), url + "Updates.xml");
    std::map<std::string, Expected> files;
    for (const auto& package : index.packages) {
        if (!package.service) {
            continue;
        }
        const auto& service = *package.service;
        files[repo::service_file_path(package)] = {service.description.size,
                                                   service.description.sha256};
        files[repo::image_blob_path(service.manifest.digest)] = {service.manifest.size,
                                                                 service.manifest.digest.substr(7)};
        for (const auto& blob : service.blobs) {
            files[repo::image_blob_path(blob.digest)] = {blob.size, blob.digest.substr(7)};
        }
    }
    std::vector<net::Request> requests;
    for (const auto& [path, expected] : files) {
        // The downloader writes <file>.part beside the file: its folder must be there.
        std::filesystem::create_directories((dir / path).parent_path());
        requests.push_back({url + path, dir / path, {}, expected.size});
    }
    const auto outcomes = net::download_all(requests, kConcurrency, options);
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        const std::string& path = std::next(files.begin(), static_cast<long>(i))->first;
        const Expected& expected = files.at(path);
        if (!outcomes[i].error.empty()) {
            throw Error::format(ErrorKind::upstream, "{}{}: {}", url, path, outcomes[i].error);
        }
        if (outcomes[i].result.status == net::FetchStatus::not_found) {
            throw Error::format(ErrorKind::upstream, "{}{}: not found, though Updates.xml names it",
                                url, path);
        }
        const auto digest = core::digest_file(dir / path);
        if (digest.size != expected.size || digest.sha256 != expected.sha256) {
            throw Error::format(ErrorKind::upstream,
                                "{}{}: is {} bytes with SHA-256 {}; Updates.xml says {} bytes with "
                                "SHA-256 {}",
                                url, path, digest.size, digest.sha256, expected.size,
                                expected.sha256);
        }
    }
}

}  // namespace ferry::bundle
