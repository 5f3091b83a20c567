// Downloader on one reused libcurl easy handle: each attempt resets the options but keeps the
// connection cache, so a sequence of downloads from one host shares its connections.
#include "net/downloader.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string_view>
#include <thread>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "net/transfer.hpp"
#include "net/url.hpp"

namespace ferry::net {

namespace fs = std::filesystem;

namespace {

// Whether the Last-Modified time is less than a second before the response's Date (the local
// clock when there is none, as for file://).
bool validators_are_weak(const Target& target) {
    if (target.last_modified.empty()) {
        return false;
    }
    const std::time_t modified = curl_getdate(target.last_modified.c_str(), nullptr);
    if (modified < 0) {
        return false;
    }
    std::time_t served = target.date.empty() ? -1 : curl_getdate(target.date.c_str(), nullptr);
    if (served < 0) {
        served = std::time(nullptr);
    }
    return served - modified < 1;
}

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using FilePtr = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

struct Attempt {
    CURLcode code = CURLE_OK;
    long status = 0;
    std::string error_text;
    std::string effective_url;
    std::string redirect_url;
};

bool is_file_url(std::string_view url) {
    return iequals_prefix(url, "file:");
}

bool succeeded(const Attempt& attempt, bool accept_not_modified) {
    if (attempt.code != CURLE_OK) {
        return false;
    }
    return attempt.status == 0 || (attempt.status >= 200 && attempt.status < 300) ||
           (accept_not_modified && attempt.status == 304);
}

bool missing(const Attempt& attempt) {
    return attempt.code == CURLE_FILE_COULDNT_READ_FILE ||
           (attempt.code == CURLE_OK && attempt.status == 404);
}

std::string describe(const std::string& shown, const Attempt& attempt, const Target& target,
                     const DownloadOptions& options) {
    if (target.too_large || attempt.code == CURLE_FILESIZE_EXCEEDED) {
        std::string message =
            fmt::format("{}: larger than the {} bytes allowed", shown, target.limit);
        if (!options.max_bytes_setting.empty()) {
            message += fmt::format(" ({} raises the bound)", options.max_bytes_setting);
        }
        return message;
    }
    // An error page cut short still means what its status says.
    const CURLcode code = target.discard ? CURLE_OK : attempt.code;
    switch (code) {
        case CURLE_OK:
            if (attempt.status == 401) {
                return fmt::format(
                    "{}: the server answered HTTP 401 (credentials missing or "
                    "refused)",
                    shown);
            }
            return fmt::format("{}: the server answered HTTP {}", shown, attempt.status);
        case CURLE_TOO_MANY_REDIRECTS: {
            const auto at = strip_credentials(attempt.effective_url);
            if (!attempt.redirect_url.empty() && attempt.redirect_url == attempt.effective_url) {
                return fmt::format("{}: redirect loop ({} redirects to itself)", shown, at);
            }
            return fmt::format("{}: too many redirects (more than {}, last at {})", shown,
                               options.max_redirects, at);
        }
        case CURLE_OPERATION_TIMEDOUT:
            return fmt::format(
                "{}: timed out ({})", shown,
                attempt.error_text.empty() ? curl_easy_strerror(attempt.code) : attempt.error_text);
        default:
            return fmt::format(
                "{}: {}", shown,
                attempt.error_text.empty() ? curl_easy_strerror(attempt.code) : attempt.error_text);
    }
}

}  // namespace

struct Downloader::Impl {
    DownloadOptions options;
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{nullptr, &curl_easy_cleanup};
    std::mt19937_64 random{std::random_device{}()};

    Attempt perform(const SplitUrl& url, Target& target, curl_slist* headers);
    // Pauses before the next attempt, or throws when the failure is permanent or the attempts
    // are used up.
    void retry_or_throw(const std::string& shown, const Attempt& attempt, const Target& target,
                        int attempts);
    void throw_if_cancelled(const std::string& shown) const;
};

Attempt Downloader::Impl::perform(const SplitUrl& url, Target& target, curl_slist* headers) {
    CURL* c = curl.get();
    // Reset rather than a fresh handle: the connection cache survives a reset.
    curl_easy_reset(c);
    char error_text[CURL_ERROR_SIZE] = {};
    target.curl = c;
    curl_easy_setopt(c, CURLOPT_URL, url.url.c_str());
    if (!url.username.empty() || !url.password.empty()) {
        curl_easy_setopt(c, CURLOPT_USERNAME, url.username.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, url.password.c_str());
    }
    // No CURLOPT_PROXY/NOPROXY on purpose: libcurl then honours http_proxy, https_proxy and
    // no_proxy from the environment, as users of a proxy expect.
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, options.max_redirects);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_bytes);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.low_speed_seconds);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, options.timeout_seconds);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
    if (!options.ca_file.empty()) {
        curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());
    }
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &target);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &target);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &target);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    target.cancelled = &options.cancelled;
    if (headers != nullptr) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    }
    const std::string range = std::to_string(target.offset) + "-";
    if (target.offset > 0) {
        curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    } else if (target.limit != UINT64_MAX) {
        // Refuses early when Content-Length already says too much; the body callback checks
        // the bytes themselves either way.
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                         static_cast<curl_off_t>(std::min<std::uint64_t>(
                             target.limit, static_cast<std::uint64_t>(INT64_MAX))));
    }
    Attempt attempt;
    attempt.code = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &attempt.status);
    attempt.error_text = error_text;
    char* info = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &info) == CURLE_OK && info != nullptr) {
        attempt.effective_url = info;
    }
    info = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &info) == CURLE_OK && info != nullptr) {
        attempt.redirect_url = info;
    }
    // The options pointed at locals; nothing may use them after this call.
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
    return attempt;
}

void Downloader::Impl::throw_if_cancelled(const std::string& shown) const {
    if (options.cancelled && options.cancelled()) {
        throw Cancelled(fmt::format("{}: download cancelled", shown));
    }
}

void Downloader::Impl::retry_or_throw(const std::string& shown, const Attempt& attempt,
                                      const Target& target, int attempts) {
    if (target.cancelled_now) {
        throw Cancelled(fmt::format("{}: download cancelled", shown));
    }
    const Failure failure{static_cast<int>(attempt.code), attempt.status};
    if (target.too_large || !is_retryable(failure) || attempts >= options.retry.max_attempts) {
        auto message = describe(shown, attempt, target, options);
        if (attempts > 1) {
            message += fmt::format(" (gave up after {} attempts)", attempts);
        }
        throw Error(message, ErrorKind::upstream);
    }
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    // The pause is cut short by a cancellation, in steps small enough to feel immediate.
    const auto until =
        std::chrono::steady_clock::now() + retry_delay(attempts - 1, options.retry, unit(random));
    while (std::chrono::steady_clock::now() < until) {
        throw_if_cancelled(shown);
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
    }
    throw_if_cancelled(shown);
}

Downloader::Downloader(DownloadOptions options) : impl_(std::make_unique<Impl>()) {
    global_init();
    impl_->options = std::move(options);
    impl_->curl.reset(curl_easy_init());
    if (!impl_->curl) {
        throw Error("cannot start a libcurl transfer handle", ErrorKind::internal);
    }
}

Downloader::~Downloader() = default;

DownloadResult Downloader::download(const std::string& url, const fs::path& dest,
                                    std::uint64_t max_bytes) {
    const auto split = split_credentials(url);
    impl_->throw_if_cancelled(split.url);
    fs::path part = dest;
    part += ".part";
    // The ETag of the response that wrote the .part: sent as If-Range, so that a file changed
    // on the server since is fetched whole instead of being spliced onto old bytes.
    fs::path validator_path = dest;
    validator_path += ".part.etag";
    std::error_code ec;
    auto discard_part = [&] {
        fs::remove(part, ec);
        fs::remove(validator_path, ec);
    };
    DownloadResult result;
    bool started_over = false;
    for (int attempts = 0;;) {
        std::uint64_t existing = fs::file_size(part, ec);
        if (ec || is_file_url(split.url)) {
            existing = 0;
        }
        HeaderList headers;
        std::string validator;
        if (existing > 0 && fs::is_regular_file(validator_path, ec)) {
            try {
                validator = core::read_file(validator_path, 4096);
                headers.add("If-Range: " + validator);
            } catch (const Error&) {
                // Unreadable: resuming without If-Range is what a .part without one does.
            }
        }
        FilePtr file(std::fopen(part.c_str(), existing > 0 ? "ab" : "wb"), &std::fclose);
        if (!file) {
            throw Error::format(ErrorKind::storage, "{}: cannot create {}: {}", split.url,
                                part.string(), errno_text(errno));
        }
        Target target;
        target.file = file.get();
        target.offset = existing;
        target.limit = std::min(impl_->options.max_bytes, max_bytes);
        target.progress = &impl_->options.progress;
        const Attempt attempt = impl_->perform(split, target, headers.get());
        result.bytes_transferred += target.received;
        result.http_status = attempt.status;
        result.attempts = ++attempts;
        if (std::fflush(file.get()) != 0 && !target.write_failed) {
            target.write_failed = true;
            target.write_errno = errno;
        }
        file.reset();
        if (target.write_failed) {
            // The cause ("No space left on device", "File too large") is what the user acts on.
            throw Error::format(
                ErrorKind::storage, "{}: cannot write {}: {}", split.url, part.string(),
                target.write_errno != 0 ? std::strerror(target.write_errno) : "write error");
        }
        if (target.decided && !target.discard && target.etag != validator) {
            // Weak validators may not be used with If-Range (RFC 9110 13.1.5).
            if (!target.etag.empty() && !target.etag.starts_with("W/")) {
                core::write_file_atomic(validator_path, target.etag);
            } else {
                fs::remove(validator_path, ec);
            }
        }
        if (succeeded(attempt, false)) {
            result.resumed = attempt.status == 206;
            fs::rename(part, dest, ec);
            if (ec) {
                throw Error::format(ErrorKind::storage, "{}: cannot rename {} to {}: {}", split.url,
                                    part.string(), dest.string(), ec.message());
            }
            fs::remove(validator_path, ec);
            result.size = fs::file_size(dest, ec);
            report(target, result.size, result.size);
            return result;
        }
        if (missing(attempt)) {
            discard_part();
            result.status = FetchStatus::not_found;
            return result;
        }
        const bool bad_range = target.range_mismatch ||
                               (attempt.code == CURLE_OK && attempt.status == 416 && existing > 0);
        if (target.too_large || bad_range) {
            // A .part that cannot be continued is of no use to the next call either.
            discard_part();
            if (bad_range && !started_over) {
                started_over = true;
                --attempts;
                continue;
            }
        }
        impl_->retry_or_throw(split.url, attempt, target, attempts);
    }
}

CachedBody Downloader::fetch_cached(const std::string& url, const fs::path& cache_dir) {
    const auto split = split_credentials(url);
    const auto key = core::sha256_hex(split.url);
    const auto body_path = cache_dir / (key + ".body");
    const auto meta_path = cache_dir / (key + ".json");
    std::string etag;
    std::string last_modified;
    std::error_code ec;
    const bool cached = fs::is_regular_file(body_path, ec) && fs::is_regular_file(meta_path, ec);
    if (cached) {
        try {
            const auto meta = nlohmann::json::parse(core::read_file(meta_path, 1 << 20));
            etag = meta.value("etag", "");
            last_modified = meta.value("last_modified", "");
        } catch (const std::exception&) {
            // A damaged entry only costs a full transfer; it is rewritten below.
        }
    }
    HeaderList headers;
    if (!etag.empty()) {
        headers.add("If-None-Match: " + etag);
    }
    if (!last_modified.empty()) {
        headers.add("If-Modified-Since: " + last_modified);
    }
    CachedBody out;
    impl_->throw_if_cancelled(split.url);
    for (int attempts = 0;;) {
        std::string body;
        Target target;
        target.memory = &body;
        target.limit = impl_->options.max_bytes;
        target.progress = &impl_->options.progress;
        const Attempt attempt = impl_->perform(split, target, headers.get());
        out.result.bytes_transferred += target.received;
        out.result.http_status = attempt.status;
        out.result.attempts = ++attempts;
        if (succeeded(attempt, cached)) {
            if (attempt.status == 304) {
                out.body = core::read_file(body_path, impl_->options.max_bytes);
                out.result.not_modified = true;
            } else {
                out.body = std::move(body);
                // Validators of a file changed in the second it was served are weak (RFC 9110
                // 8.8.2.2): Last-Modified, and nginx's ETag made of it, would match a rewrite of
                // the same size within that second, and the stale body would be kept for good.
                // file:// has no conditional requests: reading it again costs what the cache
                // would.
                const bool weak = validators_are_weak(target);
                const bool cacheable = !weak && !split.url.starts_with("file:") &&
                                       (!target.etag.empty() || !target.last_modified.empty());
                if (!cacheable) {
                    fs::remove(meta_path, ec);
                    fs::remove(body_path, ec);
                } else {
                    if (fs::create_directories(cache_dir, ec); ec) {
                        throw Error::format(ErrorKind::storage,
                                            "{}: cannot create the cache directory {}: {}",
                                            split.url, cache_dir.string(), ec.message());
                    }
                    core::write_file_atomic(body_path, out.body);
                    const nlohmann::json meta = {{"url", split.url},
                                                 {"etag", target.etag},
                                                 {"last_modified", target.last_modified}};
                    core::write_file_atomic(meta_path, meta.dump());
                }
            }
            out.result.size = out.body.size();
            return out;
        }
        if (missing(attempt)) {
            out.result.status = FetchStatus::not_found;
            return out;
        }
        impl_->retry_or_throw(split.url, attempt, target, attempts);
    }
}

std::vector<RequestOutcome> download_all(const std::vector<Request>& requests, int concurrency,
                                         const DownloadOptions& options) {
    std::vector<RequestOutcome> outcomes(requests.size());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> cancelled{false};
    std::mutex cancel_mutex;
    std::string cancel_message;
    auto worker = [&] {
        // One handle per worker (connection reuse); its progress goes to the current request.
        const Request* current = nullptr;
        DownloadOptions worker_options = options;
        worker_options.progress = [&](std::uint64_t done, std::uint64_t total) {
            if (current && current->progress) {
                current->progress(done, total);
            } else if (options.progress) {
                options.progress(done, total);
            }
        };
        std::unique_ptr<Downloader> downloader;
        for (std::size_t i = next++; i < requests.size() && !cancelled; i = next++) {
            current = &requests[i];
            try {
                if (!downloader) {
                    downloader = std::make_unique<Downloader>(worker_options);
                }
                outcomes[i].result =
                    downloader->download(requests[i].url, requests[i].dest, requests[i].max_bytes);
            } catch (const Cancelled& e) {
                cancelled = true;
                std::lock_guard lock(cancel_mutex);
                cancel_message = e.what();
            } catch (const std::exception& e) {
                outcomes[i].error = e.what();
            }
        }
    };
    const auto workers = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(concurrency, 1)),
                                                 1, std::max<std::size_t>(requests.size(), 1));
    std::vector<std::jthread> threads;
    for (std::size_t i = 1; i < workers; ++i) {
        threads.emplace_back(worker);
    }
    worker();
    // Joined before outcomes is returned: the workers write into it.
    threads.clear();
    if (cancelled) {
        throw Cancelled(cancel_message);
    }
    return outcomes;
}

FetchStatus fetch_to_file(const std::string& url, const std::filesystem::path& dest,
                          const DownloadOptions& options) {
    return Downloader(options).download(url, dest).status;
}

}  // namespace ferry::net
