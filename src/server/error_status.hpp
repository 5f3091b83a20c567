// How the server answers a failure: the one mapping from an error's kind to an HTTP status, and
// the answer to an exception that a handler let out.
#pragma once

#include <functional>
#include <string_view>

#include "core/error.hpp"
#include "server/http.hpp"

namespace ferry::server {

// invalid_input 400, not_found 404, conflict 409, upstream 502, storage 507, internal 500.
int http_status(ErrorKind kind);

// Answers the exception being handled (call it inside a catch block) with its status and a JSON
// error. A ferry::Error's message goes to the client; an internal error or any other exception
// is a 500 that says only that, its cause going to log.
void answer_current_exception(Response& res, const std::function<void(std::string_view)>& log);

}  // namespace ferry::server
