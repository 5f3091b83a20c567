// A real nginx (Debian's) serving a directory on a free loopback port for the duration of a
// test: Range, ETag and conditional requests as a production web server answers them.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/files.hpp"

namespace ferry::testing {

class NginxServer {
  public:
    // Serves root at http://127.0.0.1:<port>/. Extra nginx directives for the server block
    // (e.g. a location with auth) may be given. Returns once the port accepts connections.
    explicit NginxServer(const std::filesystem::path& root, const std::string& extra = "");
    ~NginxServer();
    NginxServer(const NginxServer&) = delete;
    NginxServer& operator=(const NginxServer&) = delete;

    int port() const { return port_; }
    std::string url(const std::string& path = "") const;
    // The access log in nginx's default format: one line per finished request.
    std::filesystem::path access_log() const { return prefix_.path() / "access.log"; }
    // The access-log lines of GET requests for path ("dir/file", no leading '/'), once nginx
    // has logged every earlier request: a request of another path goes first, and nginx's one
    // worker finishes (and logs) each request before it reads the next.
    std::vector<std::string> requests_for(const std::string& path) const;
    // One line per request: nginx's connection serial number and the URI, which shows whether a
    // client reused its connection.
    std::filesystem::path connection_log() const { return prefix_.path() / "connections.log"; }

  private:
    core::ScratchDir prefix_;
    int port_ = 0;
    pid_t pid_ = -1;
};

// Waits (bounded) until something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(int port, int timeout_ms);

// A port that was free a moment ago (bound to 0, then released).
int free_port();

}  // namespace ferry::testing
