// A connection of the HTTP server: requests read from it on its strand, each handler run there
// when it only reads local files (static files) or on the worker pool otherwise, which then reads
// the body (blocking on the strand's operations) and hands the response back to the strand to be
// written. Every read and write has a timeout.
#include <algorithm>
#include <chrono>
#include <future>
#include <limits>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "net/url.hpp"
#include "server/error_status.hpp"
#include "server/file_cache.hpp"
#include "server/http_server_internal.hpp"

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

void start_session(HttpServer::Impl& server, tcp::socket socket) {
    if (server.tls) {
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(server, std::move(socket),
                                                                        *server.tls)
            ->start();
    } else {
        std::make_shared<Session<beast::tcp_stream>>(server, std::move(socket))->start();
    }
}

}  // namespace ferry::server
