#include "server/error_status.hpp"

#include <exception>
#include <new>

#include "server/http_server.hpp"

namespace ferry::server {

int http_status(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::invalid_input:
            return 400;
        case ErrorKind::not_found:
            return 404;
        case ErrorKind::conflict:
            return 409;
        case ErrorKind::upstream:
            return 502;
        case ErrorKind::storage:
            return 507;
        case ErrorKind::internal:
            break;
    }
    return 500;
}

void answer_current_exception(Response& res, const std::function<void(std::string_view)>& log) {
    // Only what the server's own code says reaches the client: a library's text (a parser's,
    // the allocator's) can name internals, so it is logged and the client learns the status.
    std::string cause;
    try {
        throw;
    } catch (const Error& e) {
        const int status = http_status(e.kind());
        if (status != 500) {
            res = Response{};
            send_error(res, status, e.describe());
            return;
        }
        cause = e.describe();
    } catch (const std::bad_alloc&) {
        cause = "out of memory";
    } catch (const std::exception& e) {
        cause = e.what();
    } catch (...) {
        cause = "an exception of unknown type";
    }
    if (log)
        log(fmt::format("internal error: {}", cause));
    res = Response{};
    send_error(res, 500, "internal error; the server's log says more");
}

}  // namespace ferry::server
