// The client's network side: repository indexes fetched (conditionally, cached per URL) and
// their RepositoryUpdate actions followed; metadata and data archives downloaded and checked
// (SHA-1 sidecars, ferry's SHA-256 and sizes) before anything is installed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "client/settings.hpp"
#include "client/update_decision.hpp"
#include "net/downloader.hpp"

namespace ferry::client {

// What a repository may send for its index and its metadata, so that a server that sends
// without end cannot grow the client (in memory or on disk) without bound. Data archives are
// bounded by the size the index records for them, when it records one.
struct RemoteLimits {
    std::uint64_t index_bytes = std::uint64_t{64} << 20;      // Updates.xml, 64 MiB
    std::uint64_t metadata_bytes = std::uint64_t{256} << 20;  // a meta.7z or united metadata
};

struct RemoteOptions {
    std::filesystem::path cache_dir;     // conditional-fetch cache of Updates.xml files
    std::filesystem::path download_dir;  // archives (and their .part files while downloading)
    std::filesystem::path images_dir;    // service images' blobs: <images_dir>/sha256/<hex>
    net::DownloadOptions download;
    RemoteLimits limits;
    int concurrency = 4;
};

struct FetchedIndexes {
    std::vector<RemoteRepository> repositories;  // enabled repositories, in settings order
    bool settings_changed = false;        // RepositoryUpdate actions changed settings.repositories
    std::uint64_t bytes_transferred = 0;  // body bytes of all the index fetches
};

// Fetches <url>/Updates.xml of every enabled repository (net::Downloader::fetch_cached into
// options.cache_dir, so an unchanged index costs a 304), parses it, then follows the
// RepositoryUpdate actions of the indexes (client::follow_repository_actions) and applies the
// result to settings.repositories (new ones enabled, priority 0, credentials from the action),
// fetching the indexes of repositories that were added. A repository that cannot be fetched or
// parsed, or whose index is larger than options.limits.index_bytes, is an error naming its URL
// (never its credentials) and the cause.
FetchedIndexes fetch_indexes(Settings& settings, const RemoteOptions& options);

// What download_components produced for one component: its data archives on disk, checked, in
// DownloadableArchives order, and the directory its meta files were extracted into when the
// component needs them (Script, Licenses, UserInterfaces or Translations), else empty.
struct DownloadedComponent {
    std::string name;
    std::string version;
    std::vector<std::filesystem::path> archives;
    std::filesystem::path meta_dir;
    // A service component's description (its image's blobs are in RemoteOptions::images_dir).
    std::filesystem::path service_file;
};

// Downloads the data archives of the components into options.download_dir/<Name>/<Version>/
// (resuming .part files left by an interrupted run), at most options.concurrency at a time,
// and checks every one: when the index's <Checksum> is true, against its .sha1 sidecar; when
// ferry's FerryArchive record is there, against its SHA-256 and size too. A mismatch deletes
// the file and downloads it once more; a second mismatch throws ferry::Error naming the
// repository URL (without credentials), the component and the archive, e.g.
//   "http://h/repo: component com.acme.editor: archive 1.2.0content.7z: SHA-1 is 3f.., the
//    sidecar says 9a.."
// Metadata is fetched only for components that need it (at most options.limits.metadata_bytes
// each): the united archive (<MetadataName>, checked against the root <SHA1>) when the index
// names one, else <Name>/<Version>meta.7z (checked against the package's <SHA1>), and
// extracted (archive::extract_archive) into
// options.download_dir/meta/<Name>/. progress(done, total) reports the bytes of all data
// archives together (total from UpdateFile CompressedSize or FerryArchive sizes). A service
// component's description (checked against its FerryService record) goes beside its archives,
// and every blob of its image (checked against its digest, each blob once) into
// options.images_dir, where a blob present already is not downloaded again.
std::vector<DownloadedComponent> download_components(
    const std::vector<const RemoteComponent*>& components,
    const std::vector<RemoteRepository>& repositories, const Settings& settings,
    const RemoteOptions& options,
    const std::function<void(std::uint64_t done, std::uint64_t total)>& progress = {});

}  // namespace ferry::client
