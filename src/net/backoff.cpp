// Backoff delays and the retryable/permanent split of download failures; pure functions so
// the policy can be checked without a network.
#include "net/backoff.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>

namespace ferry::net {

std::chrono::milliseconds retry_delay(int attempt, const RetryPolicy& policy, double random_unit) {
    const double base = static_cast<double>(std::max<long long>(policy.base.count(), 0));
    const double cap = static_cast<double>(std::max<long long>(policy.cap.count(), 0));
    // Computed in floating point: 2^attempt overflows any integer long before it exceeds a cap.
    const double grown = base * std::exp2(static_cast<double>(std::clamp(attempt, 0, 1000)));
    const double ceiling = std::min(cap, grown);
    const double unit = std::isnan(random_unit) ? 0.0 : std::clamp(random_unit, 0.0, 1.0);
    const double scaled = std::min(ceiling * unit, std::nextafter(ceiling, 0.0));
    return std::chrono::milliseconds(static_cast<long long>(std::max(scaled, 0.0)));
}

bool is_retryable(const Failure& failure) {
    switch (static_cast<CURLcode>(failure.curl_code)) {
        case CURLE_OK:
            break;
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
    switch (failure.http_status) {
        case 408:
        case 429:
        case 500:
        case 502:
        case 503:
        case 504:
            return true;
        default:
            return false;
    }
}

}  // namespace ferry::net
