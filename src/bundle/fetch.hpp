// A market's (or any web server's) repository brought onto this machine for an export: its
// Updates.xml and the files of its service components (descriptions, manifests, image blobs),
// each checked against the index before it is kept.
#pragma once

#include <filesystem>
#include <string>

#include "net/downloader.hpp"

namespace ferry::bundle {

// Downloads into dir (laid out as the repository) from url (ending in '/'). Throws ferry::Error
// naming the file and the cause when a download fails or a file is not what the index says.
void fetch_service_files(const std::string& url, const std::filesystem::path& dir,
                         const net::DownloadOptions& options);

}  // namespace ferry::bundle
