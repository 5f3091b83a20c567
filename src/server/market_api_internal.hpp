// What the market API's route files share (market_api.cpp, market_bundle_api.cpp): reading a
// JSON body, the mapping of its parse errors, and a job as the API shows it.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/json_error.hpp"
#include "market/catalog.hpp"
#include "server/http.hpp"

namespace ferry::server {

using Json = nlohmann::json;

inline Json parse_body(const Request& req) {
    Json json = Json::parse(req.body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        throw Error("the request body is not a JSON object");
    }
    return json;
}

// Wraps a handler that reads a JSON body: nlohmann's exceptions there (a missing field, a
// wrong type) are the client's mistake. Every other failure reaches the server's one mapping of
// error kinds to statuses (server/error_status.hpp).
template <typename Fn>
Handler guarded(Fn handler) {
    return [handler](const Request& req, Response& res) {
        try {
            handler(req, res);
        } catch (const Json::exception& e) {
            throw Error(std::string("the request body is malformed: ") + core::json_error_text(e));
        }
    };
}

inline Json job_json(const market::Job& job) {
    Json detail = job.detail.empty() ? Json() : Json::parse(job.detail, nullptr, false);
    return {{"id", job.id},
            {"kind", job.kind},
            {"target", job.target},
            {"state", market::to_string(job.state)},
            {"error", job.error},
            {"done", job.done},
            {"total", job.total},
            {"created_at", job.created_at},
            {"updated_at", job.updated_at},
            {"detail", detail.is_discarded() ? Json(job.detail) : detail}};
}

}  // namespace ferry::server
