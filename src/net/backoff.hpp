// Retry policy of the downloader: exponential backoff with full jitter, and which failures are
// worth another attempt (transient network trouble) and which are not (missing, forbidden).
#pragma once

#include <chrono>

namespace ferry::net {

struct RetryPolicy {
    int max_attempts = 4;  // attempts in total, the first one included
    std::chrono::milliseconds base{200};
    std::chrono::milliseconds cap{5000};
};

// The pause before retry number attempt + 1 (attempt counts from 0): min(cap, base * 2^attempt)
// scaled by random_unit, which is clamped to [0, 1). Full jitter keeps many clients that failed
// together from retrying together.
std::chrono::milliseconds retry_delay(int attempt, const RetryPolicy& policy, double random_unit);

// One failed attempt: a libcurl result code (0 when the transfer itself worked) and the HTTP
// status the server answered (0 when there was none).
struct Failure {
    int curl_code = 0;
    long http_status = 0;
};

// Timeouts, refused or reset connections, empty replies and HTTP 408/429/500/502/503/504 are
// transient; everything else (404, 401, 403, certificate errors, bad URLs, ...) is not.
bool is_retryable(const Failure& failure);

}  // namespace ferry::net
