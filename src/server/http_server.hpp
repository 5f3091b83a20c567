// The HTTP(S) server core of `ferry serve`: bound at construction, served by run() until a
// graceful stop(), with JSON error bodies and a request log. Built on Boost.Beast (Asio): a few
// network threads wait on every connection at once; handlers that may block (the catalog,
// uploads, upstream calls) run on a pool of worker threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/http.hpp"

namespace ferry::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 0;  // 0 picks a free port
    // Both or neither; with both the server speaks HTTPS only.
    std::filesystem::path tls_cert;
    std::filesystem::path tls_key;
    // Threads that run the handlers of the API (publish, uploads, catalog reads). Connections
    // do not hold one while they wait; static files are served by the network threads.
    unsigned threads = 16;
    // Threads that wait on the connections and serve static files; 0: one per core.
    unsigned network_threads = 0;
    std::uint64_t max_body_bytes = 64u << 20;
    // How long a stop lets the requests in flight finish before it cuts their connections (an
    // upload that stalls, a client that does not read its answer).
    std::chrono::milliseconds stop_grace = std::chrono::seconds(10);
};

class HttpServer {
  public:
    // Binds and listens on host:port (connections queue until run()); a port that cannot be
    // bound or a certificate that cannot be loaded throws ferry::Error naming it and the cause.
    explicit HttpServer(ServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Where handlers are registered, before run().
    Routes& routes();

    // Runs before routing, for every request (authentication, say).
    void set_pre_routing_handler(PreRoutingHandler handler);

    // One line per finished request: peer, method, path (no query string, no headers), status,
    // body bytes and duration. Called from several threads, so the sink must be thread-safe.
    void set_request_log(std::function<void(std::string_view)> sink);
    // The causes of failures the client is not told (500s), one line each; thread-safe sink.
    void set_failure_log(std::function<void(std::string_view)> sink);

    int port() const;
    // "http://host:port" or "https://host:port".
    std::string url() const;
    bool https() const;

    // Serves until stop() (or a signal given to stop_on_signals); returns once every request
    // in flight has been answered, with the listening socket and every connection closed.
    // Runs once.
    void run();

    // Graceful: the listening socket is closed, requests in flight are answered in full
    // (requests arriving meanwhile on open connections get 503 with Connection: close), then
    // run() returns. Requests still running after options.stop_grace have their connections
    // cut (a handler reading a body sees it end early). Blocks until the requests in flight are
    // done; safe from any thread but a handler's.
    void stop();
    // True from the moment stop() is called (for a health check to report the drain).
    bool stopping() const;

    // Makes the signals (SIGTERM, SIGINT) stop this server gracefully, as stop() does.
    void stop_on_signals(std::initializer_list<int> signals);

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

// text without the spaces and tabs around it (header values, list items).
std::string_view trim_header_value(std::string_view text);

// Whether an If-None-Match header names etag (compared weakly, as RFC 9110 says: "W/" is
// ignored on both sides), or is "*".
bool none_match_hits(std::string_view if_none_match, std::string_view etag);

// A JSON body with the status.
void send_json(Response& res, int status, const nlohmann::json& body);

// {"error": {"status": N, "message": "..."}}
void send_error(Response& res, int status, std::string_view message);

}  // namespace ferry::server
