// Backoff delays and the retryable/permanent classification of download failures.
// Pure functions: every case is a row of a table.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include "net/backoff.hpp"

namespace ferry::net {
namespace {

using std::chrono::milliseconds;

struct DelayCase {
    int attempt;
    double random_unit;
    long long expected_ms;
};

TEST(BackoffDelay, FullJitterUnderTheCappedExponential) {
    const RetryPolicy policy{4, milliseconds(200), milliseconds(5000)};
    const DelayCase cases[] = {
        {0, 0.0, 0},       {0, 0.5, 100},  {0, 0.999, 199}, {1, 0.5, 200},    {2, 0.5, 400},
        {3, 0.25, 400},    {4, 0.5, 1600}, {5, 0.5, 2500},  {5, 0.999, 4995}, {30, 0.5, 2500},
        {5000, 0.5, 2500}, {-3, 0.5, 100}, {2, -1.0, 0},    {2, 1.0, 799},    {2, 7.5, 799},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(retry_delay(c.attempt, policy, c.random_unit).count(), c.expected_ms)
            << "attempt " << c.attempt << ", random " << c.random_unit;
    }
}

TEST(BackoffDelay, NeverReachesTheCeilingAndNeverNegative) {
    const RetryPolicy policy{4, milliseconds(3), milliseconds(10)};
    for (int attempt = 0; attempt < 70; ++attempt) {
        for (double unit : {0.0, 0.1, 0.5, 0.9, 0.99999}) {
            const auto delay = retry_delay(attempt, policy, unit).count();
            EXPECT_GE(delay, 0);
            EXPECT_LT(delay, 10);
        }
    }
}

TEST(BackoffDelay, ZeroBaseMeansNoPause) {
    const RetryPolicy policy{4, milliseconds(0), milliseconds(5000)};
    EXPECT_EQ(retry_delay(3, policy, 0.9).count(), 0);
}

struct RetryCase {
    int curl_code;
    long http_status;
    bool retryable;
};

TEST(BackoffRetryable, TransientFailuresOnly) {
    const RetryCase cases[] = {
        {CURLE_OPERATION_TIMEDOUT, 0, true},
        {CURLE_COULDNT_CONNECT, 0, true},
        {CURLE_RECV_ERROR, 0, true},
        {CURLE_SEND_ERROR, 0, true},
        {CURLE_GOT_NOTHING, 0, true},
        {CURLE_PARTIAL_FILE, 200, true},
        {CURLE_OK, 408, true},
        {CURLE_OK, 429, true},
        {CURLE_OK, 500, true},
        {CURLE_OK, 502, true},
        {CURLE_OK, 503, true},
        {CURLE_OK, 504, true},
        {CURLE_OK, 404, false},
        {CURLE_OK, 401, false},
        {CURLE_OK, 403, false},
        {CURLE_OK, 410, false},
        {CURLE_OK, 501, false},
        {CURLE_OK, 200, false},
        {CURLE_PEER_FAILED_VERIFICATION, 0, false},
        {CURLE_SSL_CONNECT_ERROR, 0, false},
        {CURLE_SSL_CACERT_BADFILE, 0, false},
        {CURLE_URL_MALFORMAT, 0, false},
        {CURLE_TOO_MANY_REDIRECTS, 302, false},
        {CURLE_COULDNT_RESOLVE_HOST, 0, false},
        {CURLE_FILESIZE_EXCEEDED, 200, false},
        {CURLE_WRITE_ERROR, 200, false},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(is_retryable(Failure{c.curl_code, c.http_status}), c.retryable)
            << "curl code " << c.curl_code << ", HTTP " << c.http_status;
    }
}

}  // namespace
}  // namespace ferry::net
