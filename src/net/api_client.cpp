#include "net/api_client.hpp"

#include <curl/curl.h>

#include <cstdio>

#include "net/url.hpp"

namespace ferry::net {

namespace {

struct Upload {
    std::FILE* file = nullptr;
    std::uint64_t size = 0;
    std::uint64_t sent = 0;
    const std::function<void(std::uint64_t, std::uint64_t)>* progress = nullptr;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
    auto* upload = static_cast<Upload*>(user);
    const size_t n = std::fread(buffer, 1, size * count, upload->file);
    upload->sent += n;
    if (upload->progress != nullptr && *upload->progress) {
        (*upload->progress)(upload->sent, upload->size);
    }
    return n;
}

}  // namespace

struct ApiClient::Impl {
    std::string token;
    DownloadOptions options;
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(), &curl_easy_cleanup};

    nlohmann::json perform(const std::string& method, const std::string& url,
                           const std::string* body, Upload* upload,
                           const std::string& extra_header = {}) {
        CURL* c = curl.get();
        curl_easy_reset(c);  // keeps the connection cache
        char error_text[CURL_ERROR_SIZE] = {};
        std::string response;
        curl_slist* headers = nullptr;
        headers = curl_slist_append(headers, "Accept: application/json");
        const std::string authorization = "Authorization: Bearer " + token;
        if (!token.empty()) {
            headers = curl_slist_append(headers, authorization.c_str());
        }
        if (body != nullptr) {
            headers = curl_slist_append(headers, "Content-Type: application/json");
        }
        // No "Expect: 100-continue" round trip before each body: the market answers errors
        // after reading a body anyway, and the wait costs tens of milliseconds per upload.
        headers = curl_slist_append(headers, "Expect:");
        if (!extra_header.empty()) {
            headers = curl_slist_append(headers, extra_header.c_str());
        }
        std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(
            headers, &curl_slist_free_all);
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_bytes);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.low_speed_seconds);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
        if (!options.ca_file.empty()) {
            curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());
        }
        if (method == "POST") {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
        } else if (method == "PUT") {
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, &on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, upload);
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload->size));
        }
        const std::string shown = method + " " + strip_credentials(url);
        const CURLcode code = curl_easy_perform(c);
        if (code != CURLE_OK) {
            throw Error::format("{}: {}", shown,
                                error_text[0] != '\0' ? error_text : curl_easy_strerror(code));
        }
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        nlohmann::json json = nlohmann::json::parse(response, nullptr, false);
        if (status < 200 || status > 299) {
            std::string message = "HTTP " + std::to_string(status);
            if (json.is_object() && json.contains("error") && json["error"].is_object()) {
                message += ": " + json["error"].value("message", "");
            }
            throw ApiError(status, fmt::format("{}: {}", shown, message));
        }
        if (json.is_discarded()) {
            throw Error::format("{}: the answer is not JSON", shown);
        }
        return json;
    }
};

ApiClient::ApiClient(std::string base_url, std::string token, DownloadOptions options)
    : base_url_(std::move(base_url)), impl_(std::make_unique<Impl>()) {
    while (!base_url_.empty() && base_url_.back() == '/') {
        base_url_.pop_back();
    }
    impl_->token = std::move(token);
    impl_->options = std::move(options);
    if (!impl_->curl) {
        throw Error("cannot start libcurl");
    }
}

ApiClient::~ApiClient() = default;

nlohmann::json ApiClient::get(const std::string& path) {
    return impl_->perform("GET", base_url_ + path, nullptr, nullptr);
}

nlohmann::json ApiClient::post(const std::string& path, const nlohmann::json& body) {
    const std::string text = body.dump();
    return impl_->perform("POST", base_url_ + path, &text, nullptr);
}

nlohmann::json ApiClient::put_file(
    const std::string& path, const std::filesystem::path& file,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress,
    std::optional<std::uint64_t> from) {
    std::unique_ptr<std::FILE, decltype(&std::fclose)> handle(std::fopen(file.c_str(), "rb"),
                                                              &std::fclose);
    if (!handle) {
        throw Error::format("{}: cannot open: {}", file.string(), errno_text(errno));
    }
    const std::uint64_t size = std::filesystem::file_size(file);
    Upload upload{handle.get(), size, 0, &progress};
    std::string range;
    if (from) {
        if (*from >= size || ::fseeko(handle.get(), static_cast<off_t>(*from), SEEK_SET) != 0) {
            throw Error::format("{}: cannot continue an upload at byte {} of {}", file.string(),
                                *from, size);
        }
        upload.size = size - *from;
        range = fmt::format("Content-Range: bytes {}-{}/{}", *from, size - 1, size);
    }
    return impl_->perform("PUT", base_url_ + path, nullptr, &upload, range);
}

}  // namespace ferry::net
