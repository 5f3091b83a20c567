// The HTTP(S) server core of `ferry serve`: an httplib server bound at construction, served by
// run() until a graceful stop(), with JSON error bodies and a request log.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace ferry::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 0;  // 0 picks a free port
    // Both or neither; with both the server speaks HTTPS only.
    std::filesystem::path tls_cert;
    std::filesystem::path tls_key;
    // Worker threads. Every open keep-alive connection holds one while it waits for its next
    // request, so this bounds the number of clients served at the same time.
    unsigned threads = 64;
    std::uint64_t max_body_bytes = 64u << 20;
};

class HttpServer {
  public:
    // Binds and listens on host:port (connections queue until run()); a port that cannot be
    // bound or a certificate that cannot be loaded throws ferry::Error naming it and the cause.
    explicit HttpServer(ServerOptions options);
    // Closes the listening socket when run() never ran; a running server must be stopped and
    // its run() returned first.
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Where handlers are registered, before run(). Use set_pre_routing_handler() below rather
    // than the httplib one, which the server needs for itself.
    httplib::Server& routes() { return *server_; }

    // Runs before routing, for every request (authentication, say); Handled ends the request.
    void set_pre_routing_handler(httplib::Server::HandlerWithResponse handler);

    // One line per finished request: method, path (no query string, no headers), status, body
    // bytes and duration. Called from the worker threads, so the sink must be thread-safe.
    void set_request_log(std::function<void(std::string_view)> sink);

    int port() const { return port_; }
    // "http://host:port" or "https://host:port".
    std::string url() const;
    bool https() const { return https_; }

    // Serves until stop(); returns once every request in flight has been answered. Throws
    // ferry::Error when the listening socket fails.
    void run();

    // Graceful: requests in flight are answered in full (requests arriving meanwhile get 503
    // with Connection: close), then the listening socket is closed and run() returns. Blocks
    // until the requests in flight are done; safe from any thread but a handler's.
    // Idle keep-alive connections hold run() up to httplib's keep-alive timeout (5 s).
    void stop();
    // True from the moment stop() is called (for a health check to report the drain).
    bool stopping() const { return stopping_; }

    // Makes the signals (SIGTERM, SIGINT) stop this server gracefully: the handler only sets a
    // flag (one for the process), which the listening thread polls every 100 ms.
    void stop_on_signals(std::initializer_list<int> signals);

  private:
    class WorkerPool;
    friend class WorkerPool;

    void on_idle();
    void stop_listener();
    void finish_request();

    ServerOptions options_;
    std::unique_ptr<httplib::Server> server_;
    bool https_ = false;
    int port_ = 0;

    httplib::Server::HandlerWithResponse pre_routing_;
    std::function<void(std::string_view)> log_sink_;

    std::atomic<bool> stopping_{false};
    std::atomic<bool> stop_on_signal_{false};
    std::mutex mutex_;
    std::condition_variable drained_;
    int in_flight_ = 0;
    bool listener_stopped_ = false;
};

// text without the spaces and tabs around it (header values, list items).
std::string_view trim_header_value(std::string_view text);

// Whether an If-None-Match header names etag (compared weakly, as RFC 9110 says: "W/" is
// ignored on both sides), or is "*".
bool none_match_hits(std::string_view if_none_match, std::string_view etag);

// A JSON body with the status.
void send_json(httplib::Response& res, int status, const nlohmann::json& body);

// {"error": {"status": N, "message": "..."}}
void send_error(httplib::Response& res, int status, std::string_view message);

}  // namespace ferry::server
