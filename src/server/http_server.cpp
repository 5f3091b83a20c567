// The HTTP(S) server core: binding with errors that say why, a worker pool sized for keep-alive
// clients, a drain-then-close stop, signal-driven stop, JSON errors and the request log.
#include "server/http_server.hpp"

#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <chrono>

#include "core/error.hpp"
#include "core/file_descriptor.hpp"

namespace ferry::server {

namespace {

using Clock = std::chrono::steady_clock;

// A request is handled start to finish by one worker thread (the connection's), so the
// per-request state the hooks share lives in thread-locals.
thread_local bool t_counted = false;  // counted in in_flight_, not yet finished
thread_local bool t_started = false;  // t_start belongs to the current request
thread_local Clock::time_point t_start;

std::atomic<bool> g_stop_signal{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_stop_signal(int) {
    g_stop_signal.store(true);
}

// httplib's bind only says that it failed; binding the same way again tells why.
std::string bind_failure_cause(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
        return ::gai_strerror(rc);
    }
    std::string cause = "no usable address";
    for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        core::FileDescriptor sock(::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol));
        if (sock.get() < 0) {
            cause = errno_text(errno);
            continue;
        }
        int yes = 1;
        ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        if (::bind(sock.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(sock.get(), 5) != 0) {
            cause = errno_text(errno);
            continue;
        }
        cause = "the address could not be bound (it is free now)";
        break;
    }
    ::freeaddrinfo(found);
    return cause;
}

// Control characters and the like from a decoded path must not forge log lines.
std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f || c == ' ' || c == '%') {
            out += fmt::format("%{:02X}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string reason_phrase(int status) {
    switch (status) {
        case 400:
            return "bad request";
        case 401:
            return "unauthorized";
        case 403:
            return "forbidden";
        case 404:
            return "not found";
        case 405:
            return "method not allowed";
        case 413:
            return "request body too large";
        case 414:
            return "URI too long";
        case 416:
            return "range not satisfiable";
        case 500:
            return "internal server error";
        case 503:
            return "service unavailable";
        default:
            return fmt::format("HTTP status {}", status);
    }
}

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

// httplib's pool, with each connection job's end and the accept loop's idle ticks reported.
class HttpServer::WorkerPool : public httplib::ThreadPool {
  public:
    WorkerPool(std::size_t threads, HttpServer& owner) : ThreadPool(threads), owner_(owner) {}

    void enqueue(std::function<void()> fn) override {
        ThreadPool::enqueue([this, fn = std::move(fn)] {
            fn();
            // Backstop: a request whose logger call was skipped still ends with its connection.
            owner_.finish_request();
        });
    }

    void on_idle() override { owner_.on_idle(); }

  private:
    HttpServer& owner_;
};

HttpServer::HttpServer(ServerOptions options) : options_(std::move(options)) {
    if (options_.tls_cert.empty() != options_.tls_key.empty()) {
        throw Error::format(
            "HTTPS needs both a certificate and a key; only the {} was given ({})",
            options_.tls_cert.empty() ? "key" : "certificate",
            options_.tls_cert.empty() ? options_.tls_key.string() : options_.tls_cert.string());
    }
    if (!options_.tls_cert.empty()) {
        for (const auto& file : {options_.tls_cert, options_.tls_key}) {
            if (::access(file.c_str(), R_OK) != 0) {
                throw Error::format("cannot read TLS file {}: {}", file.string(),
                                    errno_text(errno));
            }
        }
        ERR_clear_error();
        auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(),
                                                        options_.tls_key.c_str());
        if (!ssl->is_valid()) {
            throw Error::format("cannot use TLS certificate {} with key {}: {}",
                                options_.tls_cert.string(), options_.tls_key.string(),
                                openssl_error());
        }
        server_ = std::move(ssl);
        https_ = true;
    } else {
        server_ = std::make_unique<httplib::Server>();
    }

    // httplib's default adds SO_REUSEPORT, which would let a second server share the port.
    server_->set_socket_options([](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    const std::size_t threads = options_.threads == 0 ? 1 : options_.threads;
    server_->new_task_queue = [this, threads] { return new WorkerPool(threads, *this); };
    server_->set_payload_max_length(static_cast<std::size_t>(options_.max_body_bytes));
    // Small answers go out at once rather than wait for the client's delayed ACK (Nagle), and a
    // kept-alive connection serves many requests (httplib's default is 5), as nginx does.
    server_->set_tcp_nodelay(true);
    server_->set_keep_alive_max_count(1000);
    // The accept loop wakes this often to notice a stop requested by a signal.
    server_->set_idle_interval(0, 100'000);

    server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        finish_request();  // a previous request on this thread that was never logged
        t_start = Clock::now();
        t_started = true;
        {
            std::lock_guard lock(mutex_);
            if (stopping_) {
                res.set_header("Connection", "close");
                send_error(res, 503, "the server is shutting down");
                return httplib::Server::HandlerResponse::Handled;
            }
            ++in_flight_;
            t_counted = true;
        }
        if (pre_routing_)
            return pre_routing_(req, res);
        return httplib::Server::HandlerResponse::Unhandled;
    });

    // httplib calls the logger once the response has been written, body included.
    server_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        if (log_sink_) {
            std::uint64_t bytes = 0;
            if (req.method != "HEAD") {
                bytes = !res.body.empty() ? res.body.size()
                                          : res.get_header_value<std::uint64_t>("Content-Length");
            }
            std::string duration = "-";
            if (t_started) {
                std::chrono::duration<double, std::milli> ms = Clock::now() - t_start;
                duration = fmt::format("{:.1f}ms", ms.count());
            }
            log_sink_(fmt::format("{} {} {} {} {} {}", printable(req.remote_addr),
                                  printable(req.method), printable(req.path), res.status, bytes,
                                  duration));
        }
        t_started = false;
        finish_request();
    });

    server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty() && !res.content_provider_) {
            send_error(res, res.status, reason_phrase(res.status));
        }
    });
    server_->set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string message = "internal server error";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                message = e.what();
            } catch (...) {
            }
            send_error(res, 500, message);
        });

    port_ = options_.port == 0
                ? server_->bind_to_any_port(options_.host)
                : (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
    if (port_ <= 0) {
        throw Error::format("cannot listen on {}:{}: {}", options_.host, options_.port,
                            bind_failure_cause(options_.host, options_.port));
    }
}

HttpServer::~HttpServer() {
    // httplib closes the listening socket only from its accept loop; one that never ran is
    // started here, to be stopped at its first idle tick.
    bool listening;
    {
        std::lock_guard lock(mutex_);
        listening = !listener_stopped_;
        stopping_ = true;
    }
    if (listening)
        server_->listen_after_bind();
}

void HttpServer::set_pre_routing_handler(httplib::Server::HandlerWithResponse handler) {
    pre_routing_ = std::move(handler);
}

void HttpServer::set_request_log(std::function<void(std::string_view)> sink) {
    log_sink_ = std::move(sink);
}

std::string HttpServer::url() const {
    const bool ipv6 = options_.host.find(':') != std::string::npos;
    return fmt::format("{}://{}{}{}:{}", https_ ? "https" : "http", ipv6 ? "[" : "", options_.host,
                       ipv6 ? "]" : "", port_);
}

void HttpServer::run() {
    {
        std::lock_guard lock(mutex_);
        if (listener_stopped_)
            return;
    }
    if (!server_->listen_after_bind()) {
        std::lock_guard lock(mutex_);
        if (!listener_stopped_) {
            listener_stopped_ = true;
            throw Error::format("serving {}: accepting connections failed", url());
        }
    }
}

void HttpServer::stop() {
    {
        std::unique_lock lock(mutex_);
        stopping_ = true;
        drained_.wait(lock, [this] { return in_flight_ == 0; });
    }
    stop_listener();
}

void HttpServer::stop_on_signals(std::initializer_list<int> signals) {
    stop_on_signal_ = true;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int signal : signals) {
        if (::sigaction(signal, &action, nullptr) != 0) {
            throw Error::format("cannot handle signal {}: {}", signal, errno_text(errno));
        }
    }
}

void HttpServer::finish_request() {
    if (!t_counted)
        return;
    t_counted = false;
    std::lock_guard lock(mutex_);
    if (--in_flight_ == 0)
        drained_.notify_all();
}

void HttpServer::on_idle() {
    if (stop_on_signal_ && g_stop_signal.exchange(false)) {
        // Draining here keeps the accept loop from taking new connections meanwhile.
        stop();
        return;
    }
    bool drained;
    {
        std::lock_guard lock(mutex_);
        drained = stopping_ && in_flight_ == 0;
    }
    // A stop() that came before the accept loop was running could not close the socket.
    if (drained)
        stop_listener();
}

void HttpServer::stop_listener() {
    std::lock_guard lock(mutex_);
    if (!listener_stopped_ && server_->is_running()) {
        server_->stop();
        listener_stopped_ = true;
    }
}

std::string_view trim_header_value(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

bool none_match_hits(std::string_view if_none_match, std::string_view etag) {
    const auto opaque = [](std::string_view tag) {
        return tag.starts_with("W/") ? tag.substr(2) : tag;
    };
    while (!if_none_match.empty()) {
        const auto comma = if_none_match.find(',');
        const auto item = trim_header_value(if_none_match.substr(0, comma));
        if (item == "*" || (!item.empty() && opaque(item) == opaque(etag)))
            return true;
        if (comma == std::string_view::npos)
            break;
        if_none_match.remove_prefix(comma + 1);
    }
    return false;
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

void send_error(httplib::Response& res, int status, std::string_view message) {
    send_json(res, status,
              nlohmann::json{{"error", {{"status", status}, {"message", std::string(message)}}}});
}

}  // namespace ferry::server
