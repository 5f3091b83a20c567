// The HTTP(S) server core on Boost.Beast. Connections live on a strand each, served by a few
// network threads; a request's handler runs there when it only reads local files (static
// files), or on the worker pool otherwise, which then reads the body (blocking on the strand's
// operations) and hands the response back to the strand to be written. Every read and write
// has a timeout, and a stop drains the requests in flight before the network threads end.
#include "server/http_server.hpp"

#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/error.hpp"
#include "net/url.hpp"
#include "server/error_status.hpp"
#include "server/file_cache.hpp"

namespace ferry::server {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto idle_timeout = std::chrono::seconds(30);   // for a request's header (and TLS)
constexpr auto io_timeout = std::chrono::seconds(60);     // for each read or write of a body
constexpr auto linger_timeout = std::chrono::seconds(5);  // reading what a closed one still sends
constexpr std::size_t max_header_bytes = 16 * 1024;
constexpr std::size_t max_target_bytes = 8 * 1024;
constexpr std::size_t body_chunk = 256 * 1024;
// Smaller answers gain little from gzip.
constexpr std::size_t min_compressed_size = 1024;
constexpr unsigned max_requests_per_connection = 10000;

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

std::string openssl_error() {
    unsigned long code = ERR_peek_last_error();
    if (code == 0)
        return "unreadable or not matching";
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    ERR_clear_error();
    return buffer;
}

// The body of every response: text built by a handler, or a part of a shared buffer, or a part
// of an open file, read in pieces as the socket takes them.
struct PayloadBody {
    struct value_type {
        std::string text;
        BodyPart part;
        bool omitted = false;  // HEAD, 304: the length is announced, nothing is sent
    };

    class writer {
      public:
        using const_buffers_type = asio::const_buffer;

        template <bool isRequest, class Fields>
        writer(const http::header<isRequest, Fields>&, const value_type& body) : body_(body) {}

        void init(beast::error_code& ec) { ec = {}; }

        boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
            ec = {};
            if (body_.omitted || done_)
                return boost::none;
            const BodyPart& part = body_.part;
            if (part.file) {
                const std::uint64_t left = part.length - sent_;
                if (left == 0)
                    return boost::none;
                const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, body_chunk));
                chunk_.resize(n);
                if (!read_at(part.file->get(), chunk_.data(), n, part.offset + sent_)) {
                    ec = boost::system::errc::make_error_code(boost::system::errc::io_error);
                    return boost::none;
                }
                sent_ += n;
                return std::pair{asio::const_buffer(chunk_.data(), n), sent_ < part.length};
            }
            done_ = true;
            if (part.memory) {
                return std::pair{asio::const_buffer(part.memory->data() + part.offset,
                                                    static_cast<std::size_t>(part.length)),
                                 false};
            }
            if (body_.text.empty())
                return boost::none;
            return std::pair{asio::const_buffer(body_.text.data(), body_.text.size()), false};
        }

      private:
        const value_type& body_;
        std::vector<char> chunk_;
        std::uint64_t sent_ = 0;
        bool done_ = false;
    };
};

bool is_closed_or_timed_out(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::operation_aborted || ec == beast::error::timeout ||
           ec.category() != http::make_error_code(http::error::bad_method).category();
}

}  // namespace

struct HttpServer::Impl {
    explicit Impl(ServerOptions o)
        : options(std::move(o)),
          ioc(std::make_unique<asio::io_context>()),
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
    std::unique_ptr<asio::io_context> ioc;
    std::optional<asio::ssl::context> tls;
    std::optional<tcp::acceptor> acceptor;
    std::optional<asio::signal_set> signals;
    std::optional<asio::steady_timer> grace_timer;
    asio::thread_pool workers;
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

namespace {

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  public:
    static constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;

    template <class... Extra>
    Session(HttpServer::Impl& server, tcp::socket&& socket, Extra&... extra)
        : server_(server), stream_(std::move(socket), extra...) {}
    ~Session() { server_.forget(this); }

    void start() {
        server_.track(this, [weak = this->weak_from_this()] {
            if (auto self = weak.lock()) {
                asio::post(self->stream_.get_executor(), [self] {
                    beast::error_code ec;
                    self->lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
                    self->lowest().close();
                });
            }
        });
        beast::error_code ec;
        const auto peer = lowest().socket().remote_endpoint(ec);
        remote_ = ec ? "-" : peer.address().to_string();
        if constexpr (tls) {
            lowest().expires_after(idle_timeout);
            stream_.async_handshake(asio::ssl::stream_base::server,
                                    [self = this->shared_from_this()](beast::error_code ec) {
                                        if (!ec)
                                            self->read_header();
                                    });
        } else {
            read_header();
        }
    }

  private:
    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

    void read_header() {
        parser_.emplace();
        parser_->header_limit(max_header_bytes);
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        lowest().expires_after(idle_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = this->shared_from_this()](
                                    beast::error_code ec, std::size_t) { self->on_header(ec); });
    }

    void on_header(beast::error_code ec) {
        if (ec) {
            if (ec == http::error::header_limit) {
                fail(431, "the request's header is larger than the 16 KiB allowed");
            } else if (!is_closed_or_timed_out(ec)) {
                fail(400, "the request is not valid HTTP: " + ec.message());
            }
            return;
        }
        started_ = Clock::now();
        const bool accepted = server_.begin_request();
        const auto& message = parser_->get();
        req_ = Request{};
        res_ = Response{};
        req_.method = std::string(message.method_string());
        req_.target = std::string(message.target());
        req_.remote_addr = remote_;
        for (const auto& field : message) {
            req_.headers.emplace(std::string(field.name_string()), std::string(field.value()));
        }
        const auto query = req_.target.find('?');
        req_.path = net::percent_decode(std::string_view(req_.target).substr(0, query));
        if (query != std::string::npos)
            req_.params = parse_query(std::string_view(req_.target).substr(query + 1));
        close_after_ = !message.keep_alive() || ++served_ >= max_requests_per_connection;
        continue_sent_ = false;

        if (!accepted) {
            close_after_ = true;
            send_error(res_, 503, "the server is shutting down");
            write();
            return;
        }
        if (req_.target.size() > max_target_bytes) {
            close_after_ = true;
            send_error(res_, 414, "the request target is longer than the 8 KiB allowed");
            write();
            return;
        }
        route_ = server_.routes.find(req_);
        if (route_ != nullptr && route_->on_network_thread() && parser_->is_done()) {
            handle(false);
            return;
        }
        asio::post(server_.workers, [self = this->shared_from_this()] { self->handle(true); });
    }

    // A request that could not be read: answered, then the connection is closed.
    void fail(int status, std::string_view message) {
        started_ = Clock::now();
        server_.begin_request();
        req_ = Request{};
        req_.method = "-";
        req_.path = "-";
        res_ = Response{};
        close_after_ = true;
        send_error(res_, status, message);
        write();
    }

    void handle(bool on_worker) {
        try {
            if (!(server_.pre_routing && server_.pre_routing(req_, res_))) {
                if (route_ == nullptr) {
                    send_error(res_, 404, "not found");
                } else if (auto* streaming = std::get_if<StreamingHandler>(&route_->handler)) {
                    (*streaming)(req_, res_, [this](const ContentReceiver& receiver) {
                        return read_body(receiver);
                    });
                } else if (read_whole_body()) {
                    std::get<Handler>(route_->handler)(req_, res_);
                }
            }
            compress();
        } catch (...) {
            answer_current_exception(res_, server_.failure_log);
        }
        if (!parser_->is_done())
            close_after_ = true;  // the rest of an unread body is not worth reading
        if (on_worker) {
            asio::post(stream_.get_executor(),
                       [self = this->shared_from_this()] { self->write(); });
        } else {
            write();
        }
    }

    void compress() {
        if (res_.part.memory || res_.part.file || res_.body.size() < min_compressed_size ||
            res_.headers.contains("Content-Encoding") || !accepts_gzip(req_)) {
            return;
        }
        auto type = res_.headers.find("Content-Type");
        if (type == res_.headers.end() || !compressible(type->second))
            return;
        res_.body = gzip_compress(res_.body);
        res_.set_header("Content-Encoding", "gzip");
        res_.set_header("Vary", "Accept-Encoding");
    }

    bool read_whole_body() {
        if (parser_->is_done())
            return true;
        const std::uint64_t limit = server_.options.max_body_bytes;
        bool too_large = parser_->content_length() && *parser_->content_length() > limit;
        const bool complete = !too_large && read_body([&](const char* data, std::size_t n) {
            if (req_.body.size() + n > limit) {
                too_large = true;
                return false;
            }
            req_.body.append(data, n);
            return true;
        });
        if (too_large) {
            send_error(res_, 413,
                       fmt::format("the request body is larger than the {} bytes allowed", limit));
        } else if (!complete) {
            send_error(res_, 400, "the request body ended early");
        }
        return complete && !too_large;
    }

    // On a worker: the body, piece by piece, as it arrives.
    bool read_body(const ContentReceiver& receiver) {
        if (!parser_->is_done() && !continue_sent_ &&
            beast::iequals(req_.get_header_value("Expect"), "100-continue")) {
            continue_sent_ = true;
            static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
            const auto ec = blocking([this](auto done) {
                asio::async_write(stream_, asio::buffer(go_on.data(), go_on.size()),
                                  [done](beast::error_code ec, std::size_t) { done(ec); });
            });
            if (ec)
                return false;
        }
        body_buffer_.resize(body_chunk);
        // Beast reads at most what the buffer's free capacity holds (512 bytes after a header):
        // room for its largest read (64 KiB) makes a 100 MB body 1,600 reads, not 100,000.
        buffer_.reserve(buffer_.size() + 64 * 1024);
        while (!parser_->is_done()) {
            auto& body = parser_->get().body();
            body.data = body_buffer_.data();
            body.size = body_buffer_.size();
            const auto ec = blocking([this](auto done) { this->fill_body(std::move(done)); });
            if (ec) {
                close_after_ = true;
                return false;
            }
            const std::size_t got = body_buffer_.size() - parser_->get().body().size;
            if (got > 0 && !receiver(body_buffer_.data(), got))
                return false;
        }
        return true;
    }

    // On the strand: reads until the body buffer is full or the body ends, so that the worker
    // waiting for it is woken once per buffer, not once per read of the socket.
    template <class Done>
    void fill_body(Done done) {
        lowest().expires_after(io_timeout);
        http::async_read_some(
            stream_, buffer_, *parser_,
            [self = this->shared_from_this(), done = std::move(done)](beast::error_code ec,
                                                                      std::size_t) mutable {
                if (ec == http::error::need_buffer)
                    ec = {};  // the body buffer is full
                if (!ec && !self->parser_->is_done() && self->parser_->get().body().size > 0) {
                    self->fill_body(std::move(done));
                    return;
                }
                done(ec);
            });
    }

    // Starts an operation on the connection's strand and waits for its end (a worker's view).
    template <class Start>
    beast::error_code blocking(Start start) {
        std::promise<beast::error_code> promise;
        auto result = promise.get_future();
        asio::post(stream_.get_executor(), [this, &start, &promise] {
            lowest().expires_after(io_timeout);
            start([&promise](beast::error_code ec) { promise.set_value(ec); });
        });
        return result.get();
    }

    void write() {
        auto& message = message_.emplace();
        message.version(11);
        message.result(static_cast<unsigned>(res_.status));
        for (const auto& [name, value] : res_.headers)
            message.insert(name, value);
        const int status = res_.status;
        const bool bodiless = status == 204 || status == 304 || (status >= 100 && status < 200);
        const bool head = req_.method == "HEAD";
        bytes_ = bodiless || head ? 0 : res_.content_length();
        if (!bodiless)
            message.content_length(res_.content_length());
        message.body().text = std::move(res_.body);
        message.body().part = std::move(res_.part);
        message.body().omitted = bodiless || head;
        keep_alive_ = !close_after_ && !server_.stopping;
        message.keep_alive(keep_alive_);
        serializer_.emplace(message);
        write_some();
    }

    void write_some() {
        lowest().expires_after(io_timeout);
        http::async_write_some(
            stream_, *serializer_,
            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                if (!ec && !self->serializer_->is_done()) {
                    self->write_some();
                    return;
                }
                self->finish(!ec);
            });
    }

    void finish(bool written) {
        std::chrono::duration<double, std::milli> ms = Clock::now() - started_;
        server_.log(fmt::format("{} {} {} {} {} {:.1f}ms", printable(remote_),
                                printable(req_.method), printable(req_.path), res_.status, bytes_,
                                ms.count()));
        serializer_.reset();
        message_.reset();
        const bool keep = written && keep_alive_;
        server_.end_request();
        if (keep) {
            read_header();
        } else if (written) {
            close();
        }
    }

    void close() {
        if constexpr (tls) {
            lowest().expires_after(linger_timeout);
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
        } else {
            beast::error_code ec;
            lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
            if (!ec)
                linger();
        }
    }

    // What the peer still sends after our last answer is read and dropped until it closes,
    // so that closing does not reset the connection before it has read that answer.
    void linger() {
        discard_.resize(4096);
        lowest().expires_after(linger_timeout);
        lowest().async_read_some(asio::buffer(discard_), [self = this->shared_from_this()](
                                                             beast::error_code ec, std::size_t) {
            if (!ec)
                self->linger();
        });
    }

    HttpServer::Impl& server_;
    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::buffer_body>> parser_;
    std::string remote_;
    Request req_;
    Response res_;
    const Routes::Route* route_ = nullptr;
    std::optional<http::response<PayloadBody>> message_;
    std::optional<http::response_serializer<PayloadBody>> serializer_;
    Clock::time_point started_;
    std::uint64_t bytes_ = 0;
    unsigned served_ = 0;
    bool close_after_ = false;
    bool keep_alive_ = false;
    bool continue_sent_ = false;
    std::vector<char> body_buffer_;
    std::vector<char> discard_;
};

}  // namespace

void HttpServer::Impl::accept() {
    acceptor->async_accept(
        asio::make_strand(*ioc), [this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !acceptor->is_open())
                return;
            if (!ec) {
                socket.set_option(tcp::no_delay(true), ec);
                if (tls) {
                    std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
                        *this, std::move(socket), *tls)
                        ->start();
                } else {
                    std::make_shared<Session<beast::tcp_stream>>(*this, std::move(socket))->start();
                }
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
