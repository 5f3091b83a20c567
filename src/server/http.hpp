// What a handler of `ferry serve` sees of HTTP: the request (decoded path, query parameters,
// headers, body) and the response it fills in. Nothing here depends on the server library.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/file_descriptor.hpp"

namespace ferry::server {

// Header names compare without regard to case (RFC 9110).
struct CaseInsensitiveLess {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const;
};

using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;
using Params = std::multimap<std::string, std::string, std::less<>>;

struct Request {
    std::string method;       // HEAD requests reach the GET handlers with method "HEAD"
    std::string target;       // as sent: path and query string, still encoded
    std::string path;         // percent-decoded, without the query string
    std::string remote_addr;  // the peer's IP address
    Headers headers;
    Params params;  // the query string, decoded ('+' is a space)
    // The whole body, for handlers that are not given a ContentReader.
    std::string body;
    // [0] is the path; then the groups of the route's pattern (or, under a prefix route, the
    // rest of the path after "prefix/").
    std::vector<std::string> matches;

    bool has_header(std::string_view name) const;
    // The first value of the header, or "" without one.
    std::string get_header_value(std::string_view name) const;
    bool has_param(std::string_view name) const;
    std::string get_param_value(std::string_view name) const;
};

// A body kept elsewhere (a cache's buffer or an open file), of which a part is sent.
struct BodyPart {
    std::shared_ptr<const std::string> memory;         // either this
    std::shared_ptr<const core::FileDescriptor> file;  // or this, read in pieces as it is sent
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

struct Response {
    int status = 200;
    Headers headers;
    std::string body;
    BodyPart part;  // sent instead of body when it has memory or a file

    // Replaces any value the header had.
    void set_header(std::string_view name, std::string value);
    void set_content(std::string content, std::string_view content_type);
    void set_content(BodyPart content, std::string_view content_type);
    // The length of the body as sent (before any compression the server applies).
    std::uint64_t content_length() const;
};

using Handler = std::function<void(const Request&, Response&)>;
// Gives the body, piece by piece, to the receiver; false when the receiver said stop (by
// returning false) or the body could not be read whole.
using ContentReceiver = std::function<bool(const char* data, std::size_t length)>;
using ContentReader = std::function<bool(const ContentReceiver&)>;
using StreamingHandler = std::function<void(const Request&, Response&, const ContentReader&)>;
// Runs before routing for every request; true means it answered (the handler does not run).
using PreRoutingHandler = std::function<bool(const Request&, Response&)>;

// Where handlers are registered. Patterns are ECMAScript regular expressions matched against
// the whole decoded path; the first route that matches answers.
class Routes {
  public:
    void Get(const std::string& pattern, Handler handler);  // GET and HEAD
    void Post(const std::string& pattern, Handler handler);
    void Put(const std::string& pattern, Handler handler);
    void Put(const std::string& pattern, StreamingHandler handler);
    void Delete(const std::string& pattern, Handler handler);
    // GET and HEAD of every path under prefix ("/repo" takes "/repo/..."), answered on the
    // network threads without a hop to the worker pool: the handler must not wait on anything
    // but local files.
    void get_under(const std::string& prefix, Handler handler);

    struct Route {
        std::string method;  // GET routes answer HEAD too
        std::regex pattern;
        std::string prefix;  // a prefix route (get_under) when not empty
        std::variant<Handler, StreamingHandler> handler;

        bool on_network_thread() const { return !prefix.empty(); }
    };
    // The route for the request (matches filled in), or nullptr.
    const Route* find(Request& req) const;

    ~Routes();
    Routes();
    Routes(const Routes&) = delete;
    Routes& operator=(const Routes&) = delete;

  private:
    std::vector<std::unique_ptr<Route>> routes_;
};

// Whether a response of this type is worth compressing (XML and JSON).
bool compressible(std::string_view content_type);
// Whether the client takes a gzip-encoded body.
bool accepts_gzip(const Request& req);

// A query string into its parameters; "a=1&b" gives a="1", b="".
Params parse_query(std::string_view query);

}  // namespace ferry::server
