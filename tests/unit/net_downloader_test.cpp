// The downloader against Debian's real nginx on loopback: resume, conditional fetches,
// retries, redirects, timeouts, Basic auth, size bounds and parallel downloads. Servers that
// misbehave on purpose are in net_hostile_server_test.cpp.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"
#include "net/downloader.hpp"
#include "support/nginx_server.hpp"
#include "support/test_support.hpp"

namespace ferry::net {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::NginxServer;
using testing::random_bytes;
using testing::read_text;
using testing::write_text;

DownloadOptions quick_options() {
    DownloadOptions options;
    options.retry = RetryPolicy{3, std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
    return options;
}

class HttpDownload : public ::testing::Test {
  protected:
    core::ScratchDir root_;
    core::ScratchDir out_;
};

TEST_F(HttpDownload, WholeFileWithProgressAndNoPartLeft) {
    const auto content = random_bytes(100'000, 1);
    write_text(root_.path() / "a.bin", content);
    NginxServer server(root_.path());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
    auto options = quick_options();
    options.progress = [&](std::uint64_t done, std::uint64_t total) {
        calls.emplace_back(done, total);
    };
    const auto result = Downloader(options).download(server.url("a.bin"), out_.path() / "a.bin");
    EXPECT_EQ(result.status, FetchStatus::ok);
    EXPECT_EQ(read_text(out_.path() / "a.bin"), content);
    EXPECT_EQ(result.bytes_transferred, content.size());
    EXPECT_FALSE(fs::exists(out_.path() / "a.bin.part"));
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.back(), std::make_pair(std::uint64_t{100'000}, std::uint64_t{100'000}));
    EXPECT_TRUE(std::is_sorted(calls.begin(), calls.end()));
}

TEST_F(HttpDownload, ContinuesAPartWithARangeRequest) {
    const auto content = random_bytes(300'000, 2);
    write_text(root_.path() / "big.bin", content);
    write_text(out_.path() / "big.bin.part", content.substr(0, 120'000));
    NginxServer server(root_.path());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
    auto options = quick_options();
    options.progress = [&](std::uint64_t done, std::uint64_t total) {
        calls.emplace_back(done, total);
    };
    const auto result =
        Downloader(options).download(server.url("big.bin"), out_.path() / "big.bin");
    EXPECT_EQ(read_text(out_.path() / "big.bin"), content);
    EXPECT_TRUE(result.resumed);
    ASSERT_FALSE(calls.empty());
    EXPECT_GE(calls.front().first, 120'000u) << "progress counts the part already there";
    EXPECT_EQ(calls.back(), std::make_pair(std::uint64_t{300'000}, std::uint64_t{300'000}));
    EXPECT_EQ(result.http_status, 206);
    EXPECT_EQ(result.bytes_transferred, 180'000u);
    const auto lines = server.requests_for("big.bin");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("\" 206 180000 "), std::string::npos) << lines[0];
}

TEST_F(HttpDownload, ResumesAfterAnInterruptedTransfer) {
    const auto content = random_bytes(400'000, 6);
    write_text(root_.path() / "r.bin", content);
    NginxServer server(root_.path(), "location /slow/ { alias " + root_.path().string() +
                                         "/; limit_rate 100k; }\n");
    auto interrupted = quick_options();
    interrupted.timeout_seconds = 1;
    interrupted.retry.max_attempts = 1;
    const auto message = error_of(
        [&] { Downloader(interrupted).download(server.url("slow/r.bin"), out_.path() / "r.bin"); });
    EXPECT_NE(message.find("timed out"), std::string::npos) << message;
    const auto kept = fs::file_size(out_.path() / "r.bin.part");
    ASSERT_GT(kept, 0u);
    ASSERT_LT(kept, content.size());
    EXPECT_FALSE(fs::exists(out_.path() / "r.bin"));

    const auto result =
        Downloader(quick_options()).download(server.url("r.bin"), out_.path() / "r.bin");
    EXPECT_EQ(read_text(out_.path() / "r.bin"), content);
    EXPECT_TRUE(result.resumed);
    EXPECT_EQ(result.bytes_transferred, content.size() - kept);
    EXPECT_FALSE(fs::exists(out_.path() / "r.bin.part"));
    EXPECT_FALSE(fs::exists(out_.path() / "r.bin.part.etag"));
}

TEST_F(HttpDownload, APartOfAnOlderVersionIsNotContinued) {
    const auto content = random_bytes(50'000, 7);
    write_text(root_.path() / "v.bin", content);
    write_text(out_.path() / "v.bin.part", std::string(20'000, 'o'));
    write_text(out_.path() / "v.bin.part.etag", "\"5f000000-c350\"");
    NginxServer server(root_.path());
    const auto result =
        Downloader(quick_options()).download(server.url("v.bin"), out_.path() / "v.bin");
    EXPECT_EQ(read_text(out_.path() / "v.bin"), content);
    EXPECT_FALSE(result.resumed);
    EXPECT_EQ(result.http_status, 200);
}

TEST_F(HttpDownload, StartsOverWhenTheServerIgnoresTheRange) {
    const auto content = random_bytes(50'000, 3);
    write_text(root_.path() / "norange/f.bin", content);
    write_text(out_.path() / "f.bin.part", std::string(20'000, 'x'));
    NginxServer server(root_.path(), "location /norange/ { max_ranges 0; }\n");
    const auto result =
        Downloader(quick_options()).download(server.url("norange/f.bin"), out_.path() / "f.bin");
    EXPECT_EQ(read_text(out_.path() / "f.bin"), content);
    EXPECT_FALSE(result.resumed);
    EXPECT_EQ(result.http_status, 200);
    EXPECT_EQ(result.bytes_transferred, content.size());
}

TEST_F(HttpDownload, AnAlreadyCompletePartIsFetchedAgain) {
    const auto content = random_bytes(10'000, 4);
    write_text(root_.path() / "c.bin", content);
    write_text(out_.path() / "c.bin.part", content);
    NginxServer server(root_.path());
    const auto result =
        Downloader(quick_options()).download(server.url("c.bin"), out_.path() / "c.bin");
    EXPECT_EQ(read_text(out_.path() / "c.bin"), content);
    EXPECT_EQ(result.http_status, 200);
}

TEST_F(HttpDownload, SizeBoundRefusesLargerFiles) {
    write_text(root_.path() / "big.bin", random_bytes(100'000, 5));
    NginxServer server(root_.path());
    auto options = quick_options();
    options.max_bytes = 1000;
    const auto message = error_of(
        [&] { Downloader(options).download(server.url("big.bin"), out_.path() / "big.bin"); });
    EXPECT_NE(message.find("larger than the 1000 bytes allowed"), std::string::npos) << message;
    EXPECT_NE(message.find(server.url("big.bin")), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(out_.path() / "big.bin"));
}

TEST_F(HttpDownload, FileUrlsWork) {
    write_text(root_.path() / "local.txt", "from disk");
    Downloader downloader(quick_options());
    const auto url = "file://" + (root_.path() / "local.txt").string();
    EXPECT_EQ(downloader.download(url, out_.path() / "local.txt").status, FetchStatus::ok);
    EXPECT_EQ(read_text(out_.path() / "local.txt"), "from disk");
    EXPECT_EQ(downloader.download(url + ".missing", out_.path() / "m").status,
              FetchStatus::not_found);
}

TEST_F(HttpDownload, NotFoundIsReportedAndNotRetried) {
    NginxServer server(root_.path());
    const auto result =
        Downloader(quick_options()).download(server.url("absent.bin"), out_.path() / "a");
    EXPECT_EQ(result.status, FetchStatus::not_found);
    EXPECT_EQ(result.attempts, 1);
    EXPECT_FALSE(fs::exists(out_.path() / "a"));
    EXPECT_FALSE(fs::exists(out_.path() / "a.part"));
    EXPECT_EQ(server.requests_for("absent.bin").size(), 1u);
}

TEST_F(HttpDownload, ServiceUnavailableIsRetriedUpToMaxAttempts) {
    NginxServer server(root_.path(), "location /busy { return 503; }\n");
    const auto message = error_of(
        [&] { Downloader(quick_options()).download(server.url("busy"), out_.path() / "busy"); });
    EXPECT_NE(message.find("HTTP 503"), std::string::npos) << message;
    EXPECT_NE(message.find("after 3 attempts"), std::string::npos) << message;
    EXPECT_EQ(server.requests_for("busy").size(), 3u);
}

TEST_F(HttpDownload, RedirectLoopIsNamed) {
    NginxServer server(root_.path(), "location /loop { return 302 /loop; }\n");
    const auto message = error_of(
        [&] { Downloader(quick_options()).download(server.url("loop"), out_.path() / "loop"); });
    EXPECT_NE(message.find("redirect loop"), std::string::npos) << message;
    EXPECT_NE(message.find(server.url("loop")), std::string::npos) << message;
    EXPECT_EQ(server.requests_for("loop").size(), 6u);  // the first request and 5 redirects
}

TEST_F(HttpDownload, TooManyRedirectsAreBounded) {
    std::string hops;
    for (int i = 0; i < 7; ++i) {
        hops += "location = /hop" + std::to_string(i) + " { return 302 /hop" +
                std::to_string(i + 1) + "; }\n";
    }
    NginxServer server(root_.path(), hops);
    const auto message = error_of(
        [&] { Downloader(quick_options()).download(server.url("hop0"), out_.path() / "hop"); });
    EXPECT_NE(message.find("too many redirects (more than 5"), std::string::npos) << message;
    EXPECT_NE(message.find(server.url("hop0")), std::string::npos) << message;
    EXPECT_EQ(server.requests_for("hop6").size(), 0u);
}

TEST_F(HttpDownload, RedirectsAreFollowed) {
    write_text(root_.path() / "real.txt", "moved here");
    NginxServer server(root_.path(), "location /old { return 301 /real.txt; }\n");
    Downloader(quick_options()).download(server.url("old"), out_.path() / "f");
    EXPECT_EQ(read_text(out_.path() / "f"), "moved here");
}

// Sets or unsets environment variables for one scope and restores them after.
class ScopedEnv {
  public:
    void set(const char* name, const char* value) {
        const char* old = std::getenv(name);
        saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
        if (value != nullptr) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second) {
                ::setenv(it->first.c_str(), it->second->c_str(), 1);
            } else {
                ::unsetenv(it->first.c_str());
            }
        }
    }

  private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(HttpDownload, HonoursHttpProxyFromTheEnvironment) {
    write_text(root_.path() / "via-proxy.txt", "proxied");
    NginxServer proxy(root_.path());
    {
        ScopedEnv env;
        env.set("http_proxy", proxy.url().c_str());
        env.set("no_proxy", nullptr);
        env.set("NO_PROXY", nullptr);
        // A reserved name that never resolves: only the proxy can answer for it.
        Downloader(quick_options())
            .download("http://repository.invalid/via-proxy.txt", out_.path() / "p.txt");
    }
    EXPECT_EQ(read_text(out_.path() / "p.txt"), "proxied");
    proxy.requests_for("");
    EXPECT_NE(read_text(proxy.access_log())
                  .find("\"GET http://repository.invalid/via-proxy.txt HTTP/1.1\" 200"),
              std::string::npos)
        << read_text(proxy.access_log());
}

TEST_F(HttpDownload, SilentServerTimesOut) {
    testing::SilentListener listener;
    auto options = quick_options();
    options.low_speed_seconds = 1;
    options.timeout_seconds = 1;
    options.retry.max_attempts = 1;
    const auto url = "http://127.0.0.1:" + std::to_string(listener.port()) + "/Updates.xml";
    const auto message =
        error_of([&] { Downloader(options).download(url, out_.path() / "Updates.xml"); });
    EXPECT_NE(message.find("timed out"), std::string::npos) << message;
    EXPECT_NE(message.find(url), std::string::npos) << message;
}

TEST_F(HttpDownload, RefusedConnectionsAreRetriedThenReportedWithoutCredentials) {
    const auto port = std::to_string(testing::free_port());
    const auto message = error_of([&] {
        Downloader(quick_options())
            .download("http://user:hunter2@127.0.0.1:" + port + "/Updates.xml",
                      out_.path() / "Updates.xml");
    });
    EXPECT_NE(message.find("http://127.0.0.1:" + port + "/Updates.xml"), std::string::npos)
        << message;
    EXPECT_NE(message.find("after 3 attempts"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST_F(HttpDownload, BasicAuthFromTheUrl) {
    const std::string password = "p@ss:w0rd";
    const auto hash = testing::run({"/usr/bin/openssl", "passwd", "-apr1", password});
    ASSERT_EQ(hash.exit_code, 0) << hash.err;
    write_text(out_.path() / "htpasswd", "ferry:" + hash.out);
    write_text(root_.path() / "private/a.txt", "secret content");
    NginxServer server(root_.path(),
                       "location /private/ { auth_basic \"repo\"; "
                       "auth_basic_user_file " +
                           (out_.path() / "htpasswd").string() + "; }\n");
    const auto plain = server.url("private/a.txt");
    auto with = [&](const std::string& userinfo) {
        return "http://" + userinfo + "@" + plain.substr(7);
    };
    Downloader downloader(quick_options());
    downloader.download(with("ferry:p%40ss%3Aw0rd"), out_.path() / "a.txt");
    EXPECT_EQ(read_text(out_.path() / "a.txt"), "secret content");

    const auto anonymous = error_of([&] { downloader.download(plain, out_.path() / "b.txt"); });
    EXPECT_NE(anonymous.find("HTTP 401"), std::string::npos) << anonymous;
    const auto wrong =
        error_of([&] { downloader.download(with("ferry:wrong-s3cret"), out_.path() / "c.txt"); });
    EXPECT_NE(wrong.find("HTTP 401"), std::string::npos) << wrong;
    EXPECT_NE(wrong.find(plain), std::string::npos) << wrong;
    EXPECT_EQ(wrong.find("wrong-s3cret"), std::string::npos) << wrong;
    EXPECT_EQ(wrong.find("after"), std::string::npos) << "a 401 is not retried: " << wrong;
}

TEST_F(HttpDownload, CachedFetchRevalidatesWith304) {
    write_text(root_.path() / "Updates.xml", "<Updates>one</Updates>");
    // Changed well before it is served: its validators are strong enough to revalidate.
    fs::last_write_time(root_.path() / "Updates.xml",
                        fs::last_write_time(root_.path() / "Updates.xml") - std::chrono::hours(1));
    NginxServer server(root_.path());
    Downloader downloader(quick_options());
    const auto cache = out_.path() / "cache";
    const auto first = downloader.fetch_cached(server.url("Updates.xml"), cache);
    EXPECT_EQ(first.body, "<Updates>one</Updates>");
    EXPECT_FALSE(first.result.not_modified);
    EXPECT_EQ(first.result.bytes_transferred, first.body.size());

    const auto second = downloader.fetch_cached(server.url("Updates.xml"), cache);
    EXPECT_EQ(second.body, "<Updates>one</Updates>");
    EXPECT_TRUE(second.result.not_modified);
    EXPECT_EQ(second.result.http_status, 304);
    EXPECT_EQ(second.result.bytes_transferred, 0u);
    const auto lines = server.requests_for("Updates.xml");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[1].find("\" 304 0 "), std::string::npos) << lines[1];

    write_text(root_.path() / "Updates.xml", "<Updates>two!</Updates>");
    fs::last_write_time(root_.path() / "Updates.xml",
                        fs::last_write_time(root_.path() / "Updates.xml") + std::chrono::hours(1));
    const auto third = downloader.fetch_cached(server.url("Updates.xml"), cache);
    EXPECT_EQ(third.body, "<Updates>two!</Updates>");
    EXPECT_FALSE(third.result.not_modified);
}

TEST_F(HttpDownload, CachedFetchOfAFileChangedInTheSecondItWasServedIsNotRevalidated) {
    // Last-Modified and nginx's ETag have one-second precision: a rewrite of the same size in
    // that second would match them, so they are not kept. (A time a little ahead of the clock
    // makes "the same second" certain; it counts as weak as well.)
    const fs::path file = root_.path() / "Updates.xml";
    write_text(file, "<Updates>one</Updates>");
    const auto now = fs::file_time_type::clock::now() + std::chrono::seconds(30);
    fs::last_write_time(file, now);
    NginxServer server(root_.path());
    Downloader downloader(quick_options());
    const auto cache = out_.path() / "cache";
    EXPECT_EQ(downloader.fetch_cached(server.url("Updates.xml"), cache).body,
              "<Updates>one</Updates>");
    write_text(file, "<Updates>two</Updates>");
    fs::last_write_time(file, now);
    const auto second = downloader.fetch_cached(server.url("Updates.xml"), cache);
    EXPECT_EQ(second.body, "<Updates>two</Updates>");
    EXPECT_FALSE(second.result.not_modified);
}

TEST_F(HttpDownload, DownloadAllReportsEachRequest) {
    NginxServer server(root_.path());
    std::vector<Request> requests;
    for (int i = 0; i < 6; ++i) {
        const auto name = "f" + std::to_string(i) + ".bin";
        write_text(root_.path() / name, random_bytes(20'000 + i, static_cast<unsigned>(i)));
        requests.push_back({server.url(name), out_.path() / name, {}});
    }
    requests.push_back({server.url("missing.bin"), out_.path() / "missing.bin", {}});
    requests.push_back({"http://127.0.0.1:" + std::to_string(server.port()) +
                            "/\x01"
                            "bad",
                        out_.path() / "bad",
                        {}});
    const auto outcomes = download_all(requests, 3, quick_options());
    ASSERT_EQ(outcomes.size(), requests.size());
    for (int i = 0; i < 6; ++i) {
        const auto name = "f" + std::to_string(i) + ".bin";
        EXPECT_EQ(outcomes[i].error, "");
        EXPECT_EQ(read_text(out_.path() / name), read_text(root_.path() / name)) << name;
    }
    EXPECT_EQ(outcomes[6].result.status, FetchStatus::not_found);
    EXPECT_NE(outcomes[7].error, "");
}

TEST(Downloader, ReusesOneConnectionForSuccessiveDownloads) {
    core::ScratchDir dir;
    for (const char* name : {"a.bin", "b.bin", "c.bin"}) {
        write_text(dir.path() / "www" / name, random_bytes(20000, 3));
    }
    NginxServer server(dir.path() / "www");
    Downloader downloader(quick_options());
    for (const char* name : {"a.bin", "b.bin", "c.bin"}) {
        downloader.download(server.url(name), dir.path() / name);
    }
    // A barrier request on a new connection makes nginx finish logging the three.
    server.requests_for("a.bin");
    std::istringstream log(read_text(server.connection_log()));
    std::vector<std::string> connections;
    for (std::string connection, uri; log >> connection >> uri;) {
        if (uri != "/log-barrier") {
            connections.push_back(connection);
        }
    }
    ASSERT_EQ(connections.size(), 3u);
    EXPECT_EQ(connections[0], connections[1]);
    EXPECT_EQ(connections[1], connections[2]);
}

TEST(Downloader, VerifiesHttpsAgainstTheGivenCertificateAuthority) {
    core::ScratchDir dir;
    write_text(dir.path() / "www/file.bin", random_bytes(5000, 4));
    const fs::path cert = dir.path() / "cert.pem";
    const fs::path key = dir.path() / "key.pem";
    auto made =
        testing::run({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                      "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                      "-keyout", key.string(), "-out", cert.string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const int tls_port = testing::free_port();
    NginxServer server(dir.path() / "www", "    listen 127.0.0.1:" + std::to_string(tls_port) +
                                               " ssl;\n    ssl_certificate " + cert.string() +
                                               ";\n    ssl_certificate_key " + key.string() +
                                               ";\n");
    ASSERT_TRUE(testing::wait_for_port(tls_port, 5000));
    const std::string url = "https://127.0.0.1:" + std::to_string(tls_port) + "/file.bin";

    DownloadOptions trusting = quick_options();
    trusting.ca_file = cert.string();
    Downloader(trusting).download(url, dir.path() / "ok.bin");
    EXPECT_EQ(read_text(dir.path() / "ok.bin"), read_text(dir.path() / "www/file.bin"));

    const std::string error =
        error_of([&] { Downloader(quick_options()).download(url, dir.path() / "no.bin"); });
    EXPECT_NE(error.find(url), std::string::npos) << error;
    EXPECT_NE(error.find("certificate"), std::string::npos) << error;
    EXPECT_FALSE(fs::exists(dir.path() / "no.bin"));
}

}  // namespace
}  // namespace ferry::net
