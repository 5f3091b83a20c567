#include "support/nginx_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "net/downloader.hpp"
#include "support/test_support.hpp"

extern char** environ;

namespace ferry::testing {

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::runtime_error("cannot find a free loopback port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

bool wait_for_port(int port, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool connected =
            ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        ::close(fd);
        if (connected) {
            return true;
        }
        // Retry on refusal: the server is starting; each try is bounded by the deadline.
        ::poll(nullptr, 0, 20);
    }
    return false;
}

namespace {

std::string nginx_config(const fs::path& prefix, const fs::path& root, int port,
                         const std::string& extra) {
    const auto& p = prefix;
    return "worker_processes 1;\n"
           "user root;\n"
           "pid " +
           (p / "nginx.pid").string() +
           ";\n"
           "error_log " +
           (p / "error.log").string() +
           " warn;\n"
           "events { worker_connections 64; }\n"
           "http {\n"
           "  access_log " +
           (p / "access.log").string() +
           ";\n"
           "  log_format connections '$connection $request_uri';\n"
           "  access_log " +
           (p / "connections.log").string() +
           " connections;\n"
           "  client_body_temp_path " +
           (p / "body").string() +
           ";\n"
           "  proxy_temp_path " +
           (p / "proxy").string() +
           ";\n"
           "  fastcgi_temp_path " +
           (p / "fastcgi").string() +
           ";\n"
           "  uwsgi_temp_path " +
           (p / "uwsgi").string() +
           ";\n"
           "  scgi_temp_path " +
           (p / "scgi").string() +
           ";\n"
           "  types { text/xml xml; }\n"
           "  default_type application/octet-stream;\n"
           "  server {\n"
           "    listen 127.0.0.1:" +
           std::to_string(port) +
           ";\n"
           "    root " +
           fs::absolute(root).string() + ";\n" + extra +
           "  }\n"
           "}\n";
}

}  // namespace

NginxServer::NginxServer(const std::filesystem::path& root, const std::string& extra)
    : prefix_({}, "ferry-nginx-") {
    const auto& p = prefix_.path();
    // nginx cannot report a port it chose, so the port comes from a probe, which another test
    // may take before nginx binds it: then nginx exits on the bind failure and gets another.
    for (int attempt = 1;; ++attempt) {
        port_ = free_port();
        write_text(p / "nginx.conf", nginx_config(p, root, port_, extra));
        std::vector<std::string> args = {"/usr/sbin/nginx", "-e", (p / "error.log").string(),
                                         "-p",              p.string(),
                                         "-c",              (p / "nginx.conf").string(),
                                         "-g",              "daemon off;"};
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        if (::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
            throw std::runtime_error("cannot start nginx");
        }
        // nginx writes its pid file once its socket listens, and exits when the bind fails.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        bool exited = false;
        while (!fs::exists(p / "nginx.pid") && std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                exited = true;
                break;
            }
            ::poll(nullptr, 0, 10);  // nginx is starting; look again within the deadline
        }
        const std::string log = fs::exists(p / "error.log") ? read_text(p / "error.log") : "";
        if (exited && log.find("Address already in use") != std::string::npos && attempt < 5) {
            fs::remove(p / "error.log");
            continue;
        }
        if (exited || !wait_for_port(port_, 10'000)) {
            if (!exited) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, nullptr, 0);
                pid_ = -1;
            }
            throw std::runtime_error("nginx did not open port " + std::to_string(port_) + ": " +
                                     log);
        }
        return;
    }
}

NginxServer::~NginxServer() {
    if (pid_ > 0) {
        ::kill(pid_, SIGQUIT);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

std::string NginxServer::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + path;
}

std::vector<std::string> NginxServer::requests_for(const std::string& path) const {
    core::ScratchDir scratch;
    net::fetch_to_file(url("log-barrier"), scratch.path() / "x");
    std::istringstream log(read_text(access_log()));
    std::vector<std::string> lines;
    for (std::string line; std::getline(log, line);) {
        if (line.find("\"GET /" + path + " HTTP/") != std::string::npos) {
            lines.push_back(line);
        }
    }
    return lines;
}

}  // namespace ferry::testing
