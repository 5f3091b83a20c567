// The HTTP(S) server core on Boost.Beast: it binds, accepts connections (served by
// http_session.cpp) on a few network threads, and stops by draining the requests in flight
// within a grace period before the network threads end.
#include "server/http_server.hpp"

#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>

#include "core/error.hpp"
#include "server/http_server_internal.hpp"

namespace ferry::server {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::string openssl_error() {
    unsigned long code = ERR_peek_last_error();
    if (code == 0)
        return "unreadable or not matching";
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    ERR_clear_error();
    return buffer;
}

}  // namespace

void HttpServer::Impl::accept() {
    acceptor->async_accept(asio::make_strand(*ioc),
                           [this](beast::error_code ec, tcp::socket socket) {
                               if (ec == asio::error::operation_aborted || !acceptor->is_open())
                                   return;
                               if (!ec) {
                                   socket.set_option(tcp::no_delay(true), ec);
                                   start_session(*this, std::move(socket));
                               }
                               accept();
                           });
}

bool HttpServer::Impl::begin_request() {
    std::lock_guard lock(mutex);
    ++in_flight;
    return !stopping;
}

void HttpServer::Impl::end_request() {
    std::lock_guard lock(mutex);
    if (--in_flight == 0 && stopping) {
        ioc->stop();
        drained.notify_all();
    }
}

void HttpServer::Impl::request_stop() {
    std::lock_guard lock(mutex);
    if (stopping.exchange(true) || finished)
        return;
    asio::post(*ioc, [this] {
        beast::error_code ec;
        if (acceptor)
            acceptor->close(ec);
        grace_timer.emplace(*ioc, options.stop_grace);
        grace_timer->async_wait([this](beast::error_code ec) {
            if (!ec)
                cut_connections();
        });
    });
    if (in_flight == 0) {
        ioc->stop();
        drained.notify_all();
    }
}

void HttpServer::Impl::track(const void* connection, std::function<void()> cut) {
    std::lock_guard lock(mutex);
    connections.emplace(connection, std::move(cut));
}

void HttpServer::Impl::forget(const void* connection) {
    std::lock_guard lock(mutex);
    connections.erase(connection);
}

void HttpServer::Impl::cut_connections() {
    std::vector<std::function<void()>> cuts;
    {
        std::lock_guard lock(mutex);
        for (const auto& [connection, cut] : connections)
            cuts.push_back(cut);
    }
    log(
        fmt::format("- - - stopping: {} connection(s) still busy after the {} ms grace period "
                    "are cut",
                    cuts.size(), options.stop_grace.count()));
    for (const auto& cut : cuts)
        cut();
}

void HttpServer::Impl::run_network() noexcept {
    // An exception out of a handler would end the thread, and with it the process; the
    // connection it came from is dropped, the others are served on.
    while (true) {
        try {
            ioc->run();
            return;
        } catch (const std::exception& e) {
            if (failure_log)
                failure_log(fmt::format("internal error on a network thread: {}", e.what()));
        } catch (...) {
            if (failure_log)
                failure_log("internal error on a network thread: an exception of unknown type");
        }
    }
}

void HttpServer::Impl::log(std::string_view line) const {
    if (log_sink)
        log_sink(line);
}

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
    Impl& s = *impl_;
    const ServerOptions& o = s.options;
    if (o.tls_cert.empty() != o.tls_key.empty()) {
        throw Error::format("HTTPS needs both a certificate and a key; only the {} was given ({})",
                            o.tls_cert.empty() ? "key" : "certificate",
                            o.tls_cert.empty() ? o.tls_key.string() : o.tls_cert.string());
    }
    if (!o.tls_cert.empty()) {
        for (const auto& file : {o.tls_cert, o.tls_key}) {
            if (::access(file.c_str(), R_OK) != 0) {
                throw Error::format("cannot read TLS file {}: {}", file.string(),
                                    errno_text(errno));
            }
        }
        ERR_clear_error();
        auto& tls = s.tls.emplace(asio::ssl::context::tls_server);
        tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1);
        beast::error_code ec;
        tls.use_certificate_chain_file(o.tls_cert.string(), ec);
        if (!ec)
            tls.use_private_key_file(o.tls_key.string(), asio::ssl::context::pem, ec);
        if (ec || SSL_CTX_check_private_key(tls.native_handle()) != 1) {
            throw Error::format("cannot use TLS certificate {} with key {}: {}",
                                o.tls_cert.string(), o.tls_key.string(), openssl_error());
        }
    }

    beast::error_code ec;
    tcp::resolver resolver(*s.ioc);
    const auto found = resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive, ec);
    std::string cause = ec ? ec.message() : "no usable address";
    for (const auto& entry : found) {
        tcp::acceptor acceptor(*s.ioc);
        if (acceptor.open(entry.endpoint().protocol(), ec) ||
            acceptor.set_option(asio::socket_base::reuse_address(true), ec) ||
            acceptor.bind(entry.endpoint(), ec) ||
            acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
            cause = ec.message();
            continue;
        }
        s.port = acceptor.local_endpoint().port();
        s.acceptor.emplace(std::move(acceptor));
        break;
    }
    if (!s.acceptor)
        throw Error::format("cannot listen on {}:{}: {}", o.host, o.port, cause);
}

HttpServer::~HttpServer() {
    // A server that never ran: its workers and sockets go away with it.
    impl_->workers.stop();
    impl_->workers.join();
}

Routes& HttpServer::routes() {
    return impl_->routes;
}

void HttpServer::set_pre_routing_handler(PreRoutingHandler handler) {
    impl_->pre_routing = std::move(handler);
}

void HttpServer::set_request_log(std::function<void(std::string_view)> sink) {
    impl_->log_sink = std::move(sink);
}

void HttpServer::set_failure_log(std::function<void(std::string_view)> sink) {
    impl_->failure_log = std::move(sink);
}

int HttpServer::port() const {
    return impl_->port;
}

bool HttpServer::https() const {
    return impl_->tls.has_value();
}

bool HttpServer::stopping() const {
    return impl_->stopping;
}

std::string HttpServer::url() const {
    const std::string& host = impl_->options.host;
    const bool ipv6 = host.find(':') != std::string::npos;
    return fmt::format("{}://{}{}{}:{}", https() ? "https" : "http", ipv6 ? "[" : "", host,
                       ipv6 ? "]" : "", impl_->port);
}

void HttpServer::run() {
    Impl& s = *impl_;
    {
        std::lock_guard lock(s.mutex);
        if (s.ran)
            return;
        s.ran = true;
    }
    s.accept();
    unsigned count = s.options.network_threads;
    if (count == 0)
        count = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < count; ++i)
        threads.emplace_back([&s] { s.run_network(); });
    s.run_network();
    for (auto& thread : threads)
        thread.join();
    // Nothing is in flight: the workers are idle. Closing the io_context closes the listening
    // socket and every connection still open (idle keep-alive ones).
    s.workers.join();
    std::unique_ptr<asio::io_context> ioc;
    {
        std::lock_guard lock(s.mutex);
        s.signals.reset();
        s.grace_timer.reset();
        s.acceptor.reset();
        ioc = std::move(s.ioc);
        s.finished = true;
    }
    // Without the lock: the sessions its handlers still hold forget themselves under it.
    ioc.reset();
}

void HttpServer::stop() {
    Impl& s = *impl_;
    s.request_stop();
    std::unique_lock lock(s.mutex);
    s.drained.wait(lock, [&s] { return s.in_flight == 0; });
}

void HttpServer::stop_on_signals(std::initializer_list<int> signals) {
    Impl& s = *impl_;
    std::lock_guard lock(s.mutex);
    if (s.finished)
        return;
    auto& set = s.signals.emplace(*s.ioc);
    for (int signal : signals) {
        beast::error_code ec;
        set.add(signal, ec);
        if (ec)
            throw Error::format("cannot handle signal {}: {}", signal, ec.message());
    }
    set.async_wait([&s](beast::error_code ec, int) {
        if (!ec)
            s.request_stop();
    });
}

}  // namespace ferry::server
