// Fetching files over HTTP(S) and file:// (libcurl), with bounded redirects and timeouts, and
// URLs stripped of credentials wherever they reach a message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ferry::net {

struct FetchOptions {
    long connect_timeout_seconds = 15;
    long low_speed_seconds = 30;  // abort when under 1 byte/s for this long
    long max_redirects = 5;
    std::uint64_t max_bytes = UINT64_MAX;
};

enum class FetchStatus { ok, not_found };

// Downloads url into dest (written to "<dest>.part", renamed on success; see Downloader). A
// 404 (or a missing file:// path) returns not_found and writes nothing; any other failure
// (after retries of transient ones) throws ferry::Error naming the URL without credentials
// and the cause.
FetchStatus fetch_to_file(const std::string& url, const std::filesystem::path& dest,
                          const FetchOptions& options = {});

// "https://user:secret@host/x" → "https://host/x".
std::string redact_url(std::string_view url);

// Joins a base directory URL and a relative path: "http://h/repo" + "a/b" → "http://h/repo/a/b".
std::string join_url(std::string_view base, std::string_view relative);

bool is_url(std::string_view text);

}  // namespace ferry::net
