// A cpp-httplib server on a loopback port the kernel picks, for tests that need a server that
// misbehaves in ways nginx will not (endless bodies, trickles); handlers are set before start.
#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace ferry::testing {

class StandInServer {
  public:
    // setup adds the handlers; the port accepts connections when the constructor returns
    // (bind_to_any_port listens; the accept loop only takes them from the backlog).
    explicit StandInServer(const std::function<void(httplib::Server&)>& setup) {
        setup(server_);
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
    }
    ~StandInServer() {
        // A stop before the accept loop runs would be missed by it: wait for the loop first.
        while (!server_.is_running()) {
            std::this_thread::yield();
        }
        server_.stop();
        thread_.join();
    }
    StandInServer(const StandInServer&) = delete;
    StandInServer& operator=(const StandInServer&) = delete;

    int port() const { return port_; }
    std::string url(const std::string& path = "") const {
        return "http://127.0.0.1:" + std::to_string(port_) + "/" + path;
    }

  private:
    httplib::Server server_;
    int port_ = -1;
    std::thread thread_;
};

// A chunked response without Content-Length that never ends: chunk after chunk of filler until
// the client goes away. Counts what it sent into *sent when given.
inline void serve_endless(httplib::Response& response, const std::string& content_type,
                          int status = 200, std::atomic<std::size_t>* sent = nullptr) {
    response.status = status;
    response.set_chunked_content_provider(
        content_type, [sent](std::size_t, httplib::DataSink& sink) {
            static const std::string filler(64 * 1024, ' ');
            if (!sink.is_writable() || !sink.write(filler.data(), filler.size())) {
                return false;
            }
            if (sent != nullptr) {
                *sent += filler.size();
            }
            return true;
        });
}

}  // namespace ferry::testing
