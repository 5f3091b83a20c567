// The server core of `ferry serve` on loopback: concurrency, graceful stop, bind errors, HTTPS
// and the request log, checked with httplib's client and raw sockets. Static files are in
// server_static_files_test.cpp.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/files.hpp"
#include "net/downloader.hpp"
#include "server/http_server.hpp"
#include "server/static_files.hpp"
#include "support/test_support.hpp"
#include "unit/server_http_support.hpp"

namespace ferry::server {
namespace {

namespace fs = std::filesystem;
using http_testing::connect_to;
using http_testing::quick_options;
using http_testing::raw_request;
using http_testing::ServerHttp;
using testing::error_of;
using testing::random_bytes;
using testing::read_text;
using testing::write_text;

TEST_F(ServerHttp, SixtyFourConcurrentClientsAllSucceed) {
    constexpr int clients = 64;
    for (int i = 0; i < 4; ++i) {
        write_text(root_.path() / ("f" + std::to_string(i) + ".7z"),
                   random_bytes(200'000, static_cast<unsigned>(10 + i)));
    }
    start();
    std::vector<std::string> errors(clients);
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            try {
                // One Downloader each: its connection stays open between the files.
                net::Downloader downloader(quick_options());
                fs::create_directories(out_.path() / std::to_string(c));
                for (int i = 0; i < 4; ++i) {
                    const std::string name = "f" + std::to_string(i) + ".7z";
                    const fs::path dest = out_.path() / std::to_string(c) / name;
                    downloader.download(url(name), dest);
                    if (read_text(dest) != read_text(root_.path() / name)) {
                        errors[c] = name + " differs";
                    }
                }
            } catch (const std::exception& e) {
                errors[c] = e.what();
            }
        });
    }
    for (auto& t : threads)
        t.join();
    for (int c = 0; c < clients; ++c)
        EXPECT_EQ(errors[c], "") << "client " << c;
}

TEST_F(ServerHttp, StopLetsADownloadInFlightFinishAndEndsRun) {
    constexpr std::size_t size = 16u << 20;
    const auto content = random_bytes(size, 8);
    write_text(root_.path() / "big.7z", content);
    start();
    std::promise<void> first_bytes;
    std::atomic<std::size_t> received{0};
    std::string body;
    int status = 0;
    std::thread reader([&] {
        httplib::Client client("127.0.0.1", port());
        client.set_read_timeout(30, 0);
        std::size_t since_pause = 0;
        const auto res = client.Get("/repo/big.7z", [&](const char* data, std::size_t n) {
            if (body.empty())
                first_bytes.set_value();
            body.append(data, n);
            received += n;
            // A slow reader: the transfer outlasts the socket buffers by seconds.
            if ((since_pause += n) >= (256u << 10)) {
                since_pause = 0;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            return true;
        });
        status = res ? res->status : -1;
    });
    first_bytes.get_future().wait();
    EXPECT_LT(received.load(), size) << "the download is in flight when stop() is called";
    server_->stop();
    runner_.join();
    reader.join();
    EXPECT_EQ(status, 200);
    EXPECT_TRUE(body == content) << "received " << body.size() << " of " << size;
    // The listening socket is closed.
    httplib::Client after("127.0.0.1", port());
    EXPECT_FALSE(after.Get("/repo/big.7z"));
}

TEST_F(ServerHttp, StoppingRefusesNewConnectionsAndAnswersRequestsOnOpenOnesWith503) {
    const auto content = random_bytes(8u << 20, 12);
    write_text(root_.path() / "big.7z", content);
    start();
    const auto open_before = connect_to(port());
    ASSERT_GE(open_before.get(), 0);
    std::promise<void> first_bytes;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::string body;
    std::thread reader([&] {
        httplib::Client client("127.0.0.1", port());
        client.Get("/repo/big.7z", [&](const char* data, std::size_t n) {
            if (body.empty()) {
                first_bytes.set_value();
                released.wait();  // the server's writes block on the full socket meanwhile
            }
            body.append(data, n);
            return true;
        });
    });
    first_bytes.get_future().wait();
    auto stopped = std::async(std::launch::async, [this] { server_->stop(); });
    while (!server_->stopping())
        std::this_thread::yield();
    const auto late = raw_request(open_before, "/repo/big.7z");
    EXPECT_EQ(late.status, 503);
    EXPECT_NE(late.head.find("Connection: close"), std::string::npos) << late.head;
    EXPECT_EQ(nlohmann::json::parse(late.body)["error"]["status"], 503);
    // The listening socket is closed at once (a load balancer moves on to another server).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (connect_to(port()).get() >= 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    EXPECT_LT(connect_to(port()).get(), 0) << "a new connection is refused while stopping";
    EXPECT_EQ(stopped.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
        << "stop() waits for the download in flight";
    release.set_value();
    reader.join();
    stopped.get();
    runner_.join();
    EXPECT_TRUE(body == content) << "received " << body.size();
}

TEST_F(ServerHttp, BindingAnOccupiedPortNamesItAndTheCause) {
    start();
    ServerOptions options;
    options.port = port();
    const std::string error = error_of([&] { HttpServer second(options); });
    EXPECT_NE(error.find("127.0.0.1:" + std::to_string(port())), std::string::npos) << error;
    EXPECT_NE(error.find("in use"), std::string::npos) << error;
}

TEST_F(ServerHttp, HttpsWithASelfSignedCertificate) {
    const fs::path cert = out_.path() / "cert.pem";
    const fs::path key = out_.path() / "key.pem";
    const auto made =
        testing::run({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                      "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                      "-keyout", key.string(), "-out", cert.string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const auto content = random_bytes(300'000, 9);
    write_text(root_.path() / "pkg.7z", content);
    ServerOptions options;
    options.tls_cert = cert;
    options.tls_key = key;
    start(options);
    ASSERT_TRUE(server_->url().starts_with("https://127.0.0.1:")) << server_->url();
    auto trusting = quick_options();
    trusting.ca_file = cert.string();
    const auto result = net::Downloader(trusting).download(url("pkg.7z"), out_.path() / "pkg.7z");
    EXPECT_EQ(result.http_status, 200);
    EXPECT_TRUE(read_text(out_.path() / "pkg.7z") == content);
}

TEST_F(ServerHttp, TlsNeedsBothCertificateAndKey) {
    ServerOptions options;
    options.tls_cert = out_.path() / "cert.pem";
    const std::string error = error_of([&] { HttpServer server(options); });
    EXPECT_NE(error.find("key"), std::string::npos) << error;
    EXPECT_NE(error.find("cert.pem"), std::string::npos) << error;
}

TEST_F(ServerHttp, TheRequestLogHasMethodPathStatusAndBytesButNoSecrets) {
    write_text(root_.path() / "pkg.7z", random_bytes(1234, 11));
    std::mutex mutex;
    std::vector<std::string> lines;
    server_ = std::make_unique<HttpServer>(ServerOptions{});
    serve_static(server_->routes(), "/repo", root_.path());
    server_->set_request_log([&](std::string_view line) {
        std::lock_guard lock(mutex);
        lines.emplace_back(line);
    });
    runner_ = std::thread([this] { server_->run(); });
    httplib::Client client("127.0.0.1", port());
    ASSERT_TRUE(
        client.Get("/repo/pkg.7z?token=query-secret", {{"Authorization", "Bearer header-secret"}}));
    ASSERT_TRUE(client.Get("/repo/missing"));
    stop();  // every request is logged before stop() returns
    ASSERT_EQ(lines.size(), 2u);
    // Each connection's line is written once its answer is sent: in either order.
    if (lines[0].find("missing") != std::string::npos)
        std::swap(lines[0], lines[1]);
    EXPECT_NE(lines[0].find("GET /repo/pkg.7z 200 1234 "), std::string::npos) << lines[0];
    EXPECT_NE(lines[1].find("GET /repo/missing 404 "), std::string::npos) << lines[1];
    for (const auto& line : lines) {
        EXPECT_EQ(line.find("secret"), std::string::npos) << line;
        EXPECT_TRUE(line.ends_with("ms")) << line;
    }
}

TEST_F(ServerHttp, ASignalStopsTheServer) {
    start();
    server_->stop_on_signals({SIGUSR2});
    ASSERT_EQ(::raise(SIGUSR2), 0);
    runner_.join();  // run() returns
    ::signal(SIGUSR2, SIG_DFL);
    httplib::Client client("127.0.0.1", port());
    EXPECT_FALSE(client.Get("/repo/x"));
}

TEST_F(ServerHttp, StopBeforeRunMakesRunReturn) {
    server_ = std::make_unique<HttpServer>(ServerOptions{});
    server_->stop();
    server_->run();
    httplib::Client client("127.0.0.1", port());
    EXPECT_FALSE(client.Get("/"));
}

}  // namespace
}  // namespace ferry::server
