// What the tests of the server core share: an HttpServer serving a scratch directory as static
// files under /repo/, and raw requests on sockets (targets sent byte for byte).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "core/file_descriptor.hpp"
#include "core/files.hpp"
#include "net/downloader.hpp"
#include "server/http_server.hpp"
#include "server/static_files.hpp"

namespace ferry::server::http_testing {

inline net::DownloadOptions quick_options() {
    net::DownloadOptions options;
    options.retry = net::RetryPolicy{1, std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
    return options;
}

// Peak resident memory of this process (server and client alike), in bytes.
inline std::uint64_t peak_rss() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmHWM:"))
            return std::stoull(line.substr(6)) * 1024;
    }
    ADD_FAILURE() << "no VmHWM in /proc/self/status";
    return 0;
}

struct RawResponse {
    int status = 0;
    std::string head;
    std::string body;
};

inline core::FileDescriptor connect_to(int port) {
    core::FileDescriptor sock(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return core::FileDescriptor();
    return sock;
}

// The request target sent byte for byte (which HTTP clients would normalise or re-encode) on
// an open connection, with "Connection: close"; the answer is read to the end.
inline RawResponse raw_request(const core::FileDescriptor& sock, const std::string& target) {
    const std::string request =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    EXPECT_EQ(::write(sock.get(), request.data(), request.size()),
              static_cast<ssize_t>(request.size()));
    std::string all;
    char buffer[4096];
    for (ssize_t got; (got = ::read(sock.get(), buffer, sizeof buffer)) > 0;) {
        all.append(buffer, static_cast<std::size_t>(got));
    }
    RawResponse response;
    const auto end = all.find("\r\n\r\n");
    if (all.size() > 12 && end != std::string::npos) {
        response.status = std::stoi(all.substr(9, 3));
        response.head = all.substr(0, end);
        response.body = all.substr(end + 4);
    }
    return response;
}

inline RawResponse raw_get(int port, const std::string& target) {
    const auto sock = connect_to(port);
    if (sock.get() < 0) {
        ADD_FAILURE() << "cannot connect to port " << port;
        return {};
    }
    return raw_request(sock, target);
}

class ServerHttp : public ::testing::Test {
  protected:
    void start(ServerOptions options = {}) {
        server_ = std::make_unique<HttpServer>(std::move(options));
        serve_static(server_->routes(), "/repo", root_.path());
        runner_ = std::thread([this] { server_->run(); });
    }
    void stop() {
        if (server_)
            server_->stop();
        if (runner_.joinable())
            runner_.join();
    }
    void TearDown() override { stop(); }

    std::string url(const std::string& path) const { return server_->url() + "/repo/" + path; }
    int port() const { return server_->port(); }

    core::ScratchDir root_;
    core::ScratchDir out_;
    std::unique_ptr<HttpServer> server_;
    std::thread runner_;
};

}  // namespace ferry::server::http_testing
