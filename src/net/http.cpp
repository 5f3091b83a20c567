// The simple entry points of the net module (one-off fetches, URL redaction and joining),
// kept small by delegating transfers to the Downloader.
#include "net/http.hpp"

#include <utility>

#include "net/downloader.hpp"

namespace ferry::net {

bool is_url(std::string_view text) {
    return text.find("://") != std::string_view::npos;
}

std::string redact_url(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) {
        return std::string(url);
    }
    const auto authority_start = scheme + 3;
    const auto authority_end = url.find_first_of("/?#", authority_start);
    const auto at =
        url.rfind('@', authority_end == std::string_view::npos ? url.size() : authority_end);
    if (at == std::string_view::npos || at < authority_start) {
        return std::string(url);
    }
    return std::string(url.substr(0, authority_start)) + std::string(url.substr(at + 1));
}

std::string join_url(std::string_view base, std::string_view relative) {
    std::string joined(base);
    if (!joined.empty() && joined.back() != '/') {
        joined += '/';
    }
    joined += relative;
    return joined;
}

FetchStatus fetch_to_file(const std::string& url, const std::filesystem::path& dest,
                          const FetchOptions& options) {
    DownloadOptions download;
    download.connect_timeout_seconds = options.connect_timeout_seconds;
    download.low_speed_seconds = options.low_speed_seconds;
    download.max_redirects = options.max_redirects;
    download.max_bytes = options.max_bytes;
    return Downloader(std::move(download)).download(url, dest).status;
}

}  // namespace ferry::net
