// The libcurl callbacks of one transfer attempt and the state they share; internal to the net
// module (the Downloader drives them), kept apart so each file stays readable.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <new>
#include <string>
#include <string_view>

namespace ferry::net {

// Where one attempt's body goes, and what the attempt learned on the way.
struct Target {
    CURL* curl = nullptr;
    std::FILE* file = nullptr;
    std::string* memory = nullptr;
    std::uint64_t offset = 0;  // bytes already present, asked to be continued with a Range
    std::uint64_t limit = UINT64_MAX;
    const std::function<void(std::uint64_t, std::uint64_t)>* progress = nullptr;
    const std::function<bool()>* cancelled = nullptr;
    bool decided = false;  // the first body byte fixed how this response is handled
    bool discard = false;  // an error page, not content
    bool range_mismatch = false;
    bool too_large = false;
    bool cancelled_now = false;  // the transfer was cut because the user asked to stop
    bool write_failed = false;
    int write_errno = 0;          // why, when the system said
    std::uint64_t received = 0;   // body bytes kept
    std::uint64_t discarded = 0;  // bytes of an error page
    std::uint64_t last_done = UINT64_MAX;
    std::uint64_t last_total = UINT64_MAX;
    // Headers of the latest response (reset at each status line: redirects come first).
    std::string etag;
    std::string last_modified;
    std::string date;  // the response's Date header
    long long range_start = -1;
};

// Case-insensitive "line starts with name"; name is given in lower case.
bool iequals_prefix(std::string_view line, std::string_view name);

// CURLOPT_HEADERFUNCTION, CURLOPT_WRITEFUNCTION and CURLOPT_XFERINFOFUNCTION, each with a
// Target as its user pointer.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user);
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user);
int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t);

// Passes progress to the user's callback, skipping repeats of the last report.
void report(Target& target, std::uint64_t done, std::uint64_t total);

class HeaderList {
  public:
    HeaderList() = default;
    ~HeaderList() { curl_slist_free_all(list_); }
    HeaderList(const HeaderList&) = delete;
    HeaderList& operator=(const HeaderList&) = delete;

    void add(const std::string& line) {
        curl_slist* grown = curl_slist_append(list_, line.c_str());
        if (grown == nullptr) {
            throw std::bad_alloc();
        }
        list_ = grown;
    }
    curl_slist* get() const { return list_; }

  private:
    curl_slist* list_ = nullptr;
};

}  // namespace ferry::net
