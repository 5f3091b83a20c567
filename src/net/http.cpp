#include "net/http.hpp"

#include <curl/curl.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "core/error.hpp"
#include "core/files.hpp"

namespace ferry::net {

namespace {

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
    std::FILE* file = nullptr;
    std::uint64_t written = 0;
    std::uint64_t limit = 0;
    bool too_large = false;
};

std::size_t write_to_sink(char* data, std::size_t size, std::size_t count, void* user) {
    auto* sink = static_cast<Sink*>(user);
    const std::size_t bytes = size * count;
    if (sink->written + bytes > sink->limit) {
        sink->too_large = true;
        return 0;
    }
    sink->written += bytes;
    return std::fwrite(data, 1, bytes, sink->file);
}

}  // namespace

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
    global_init();
    const std::string shown = redact_url(url);
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) {
        throw Error::format("{}: cannot start a transfer", shown);
    }
    const auto temporary = core::temporary_sibling(dest);
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(temporary.c_str(), "wb"),
                                                         &std::fclose);
    if (!file) {
        throw Error::format("{}: cannot create {}", shown, temporary.string());
    }
    Sink sink{file.get(), 0, options.max_bytes, false};
    char error_text[CURL_ERROR_SIZE] = {};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, options.max_redirects);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.low_speed_seconds);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &write_to_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
    const CURLcode code = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    const bool flushed = std::fflush(file.get()) == 0;
    file.reset();
    auto discard = [&] {
        std::error_code ec;
        std::filesystem::remove(temporary, ec);
    };
    if (code == CURLE_FILE_COULDNT_READ_FILE || (code == CURLE_OK && status == 404)) {
        discard();
        return FetchStatus::not_found;
    }
    if (sink.too_large) {
        discard();
        throw Error::format("{}: larger than the {} bytes allowed", shown, options.max_bytes);
    }
    if (code != CURLE_OK) {
        discard();
        throw Error::format("{}: {}", shown, error_text[0] ? error_text : curl_easy_strerror(code));
    }
    if (status >= 400) {
        discard();
        throw Error::format("{}: the server answered HTTP {}", shown, status);
    }
    if (!flushed) {
        discard();
        throw Error::format("{}: cannot write {}", shown, temporary.string());
    }
    std::filesystem::rename(temporary, dest);
    return FetchStatus::ok;
}

}  // namespace ferry::net
