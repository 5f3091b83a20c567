// The callbacks of one transfer attempt: response headers (validators, Content-Range), the
// body (continued, restarted or dropped) and progress, all recorded in a Target.
#include "net/transfer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace ferry::net {

namespace {

constexpr std::uint64_t kMaxErrorPageBytes = 1 << 20;

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    return text;
}

// Fixes, at the first body byte, what this response's body is: a continuation (206), the
// whole file again (200 although a range was asked for), or an error page to drop.
bool decide(Target& target) {
    long status = 0;
    curl_easy_getinfo(target.curl, CURLINFO_RESPONSE_CODE, &status);
    target.decided = true;
    if (status == 206) {
        if (target.offset == 0 || target.range_start != static_cast<long long>(target.offset)) {
            target.range_mismatch = true;
            return false;
        }
        return true;
    }
    if (status != 0 && (status < 200 || status >= 300)) {
        target.discard = true;
        return true;
    }
    if (target.offset > 0) {
        if (std::fflush(target.file) != 0 || ::ftruncate(::fileno(target.file), 0) != 0) {
            target.write_failed = true;
            target.write_errno = errno;
            return false;
        }
        target.offset = 0;
    }
    // A body kept in memory gets its announced length at once (never more than the bound)
    // rather than growing by doubling through the whole transfer.
    curl_off_t length = -1;
    if (target.memory != nullptr &&
        curl_easy_getinfo(target.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK &&
        length > 0) {
        target.memory->reserve(static_cast<std::size_t>(
            std::min<std::uint64_t>(static_cast<std::uint64_t>(length), target.limit)));
    }
    return true;
}

}  // namespace

bool iequals_prefix(std::string_view line, std::string_view name) {
    if (line.size() < name.size()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) {
            return false;
        }
    }
    return true;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* target = static_cast<Target*>(user);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        target->etag.clear();
        target->last_modified.clear();
        target->date.clear();
        target->range_start = -1;
    } else if (iequals_prefix(line, "etag:")) {
        target->etag = trimmed(line.substr(5));
    } else if (iequals_prefix(line, "last-modified:")) {
        target->last_modified = trimmed(line.substr(14));
    } else if (iequals_prefix(line, "date:")) {
        target->date = trimmed(line.substr(5));
    } else if (iequals_prefix(line, "content-range:")) {
        // "bytes 100-199/200": only the first position matters for a resume.
        const auto value = trimmed(line.substr(14));
        if (value.starts_with("bytes ")) {
            target->range_start = std::strtoll(std::string(value.substr(6)).c_str(), nullptr, 10);
        }
    }
    return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* target = static_cast<Target*>(user);
    const std::size_t bytes = size * count;
    if (!target->decided && !decide(*target)) {
        return 0;
    }
    if (target->discard) {
        // An error page is read only so that the connection can be reused; an endless one is
        // cut (the HTTP status is the error either way).
        target->discarded += bytes;
        return target->discarded <= kMaxErrorPageBytes ? bytes : 0;
    }
    // Counted before anything is kept: a server that sends without end (with no length, so
    // that CURLOPT_MAXFILESIZE cannot refuse it first) is cut at the bound.
    if (target->offset + target->received + bytes > target->limit) {
        target->too_large = true;
        return 0;
    }
    target->received += bytes;
    if (target->memory != nullptr) {
        target->memory->append(data, bytes);
        return bytes;
    }
    if (std::fwrite(data, 1, bytes, target->file) != bytes) {
        target->write_failed = true;
        target->write_errno = errno;
        return 0;
    }
    return bytes;
}

void report(Target& target, std::uint64_t done, std::uint64_t total) {
    if (target.progress == nullptr || !*target.progress ||
        (done == target.last_done && total == target.last_total)) {
        return;
    }
    target.last_done = done;
    target.last_total = total;
    (*target.progress)(done, total);
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
    auto* target = static_cast<Target*>(user);
    if (target->cancelled != nullptr && *target->cancelled && (*target->cancelled)()) {
        target->cancelled_now = true;
        return 1;  // libcurl ends the transfer with CURLE_ABORTED_BY_CALLBACK
    }
    if (target->decided && !target->discard) {
        const auto offset = target->offset;
        report(*target, offset + static_cast<std::uint64_t>(now),
               total > 0 ? offset + static_cast<std::uint64_t>(total) : 0);
    }
    return 0;
}

}  // namespace ferry::net
