// Inside the HTTP server, for its own files only (handlers see server/http.hpp, nothing of
// Beast): the state the server and its connections share, and how an accepted connection is served.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "server/http_server.hpp"

namespace ferry::server {

struct HttpServer::Impl {
    explicit Impl(ServerOptions o)
        : options(std::move(o)),
          ioc(std::make_unique<boost::asio::io_context>()),
          workers(std::max(1u, options.threads)) {}

    void accept();
    // Counts a request in flight; false when the server is stopping (it is counted all the same
    // and must be finished with end_request).
    bool begin_request();
    void end_request();
    // Closes the listening socket; run() returns once nothing is in flight, or once the grace
    // period is over and the connections still busy have been cut. Any thread.
    void request_stop();
    // The connections open, each with what cuts it (closes its socket on its strand), so that a
    // stop can end the requests that outlast the grace period (a stalled upload, say).
    void track(const void* connection, std::function<void()> cut);
    void forget(const void* connection);
    void cut_connections();
    // A network thread: runs the io_context until it stops; no exception leaves it.
    void run_network() noexcept;
    void log(std::string_view line) const;

    ServerOptions options;
    std::unique_ptr<boost::asio::io_context> ioc;
    std::optional<boost::asio::ssl::context> tls;
    std::optional<boost::asio::ip::tcp::acceptor> acceptor;
    std::optional<boost::asio::signal_set> signals;
    std::optional<boost::asio::steady_timer> grace_timer;
    boost::asio::thread_pool workers;
    Routes routes;
    PreRoutingHandler pre_routing;
    std::function<void(std::string_view)> log_sink;
    std::function<void(std::string_view)> failure_log;
    int port = 0;

    std::atomic<bool> stopping{false};
    std::mutex mutex;
    std::condition_variable drained;
    int in_flight = 0;
    std::map<const void*, std::function<void()>> connections;
    bool ran = false;       // run() was called
    bool finished = false;  // run() has returned: the io_context is gone
};

// Serves an accepted connection (over TLS when the server has a certificate) on its own strand
// until it closes (http_session.cpp).
void start_session(HttpServer::Impl& server, boost::asio::ip::tcp::socket socket);

}  // namespace ferry::server
