#include "server/market_api.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "market/tokens.hpp"
#include "server/static_files.hpp"

namespace ferry::server {

namespace {

using Json = nlohmann::json;
using market::Token;

constexpr std::uint64_t kMaxJsonBody = 64u << 20;

Json app_json(const market::App& app) {
    return {{"key", app.key},
            {"kind", market::to_string(app.kind)},
            {"name", app.name},
            {"description", app.description},
            {"publisher", app.publisher},
            {"icon", app.icon},
            {"official", app.official},
            {"source", market::to_string(app.source)},
            {"upstream_url", app.upstream_url},
            {"export_formats", app.export_formats},
            {"created_at", app.created_at},
            {"updated_at", app.updated_at}};
}

Json major_json(const market::Major& major) {
    return {{"major", major.major},
            {"latest_revision", major.latest_revision},
            {"repository", "/repo/" + major.app_key + "/" + major.major + "/"},
            {"created_at", major.created_at},
            {"updated_at", major.updated_at}};
}

Json revision_json(const market::Revision& revision) {
    Json components = Json::array();
    for (const auto& c : revision.components) {
        components.push_back(
            {{"name", c.name}, {"version", c.version}, {"content_sha256", c.content_sha256}});
    }
    return {{"app_key", revision.app_key},
            {"major", revision.major},
            {"revision", revision.number},
            {"notes", revision.notes},
            {"created_at", revision.created_at},
            {"repository", "/repo/" + revision.app_key + "/" + revision.major + "/"},
            {"components", components}};
}

// The app fields a publisher may set (the rest is the market's): those the request gives
// replace the stored ones, the others stay.
market::App app_from_json(const Json& json, market::App app) {
    if (json.contains("kind")) {
        app.kind = market::parse_app_kind(json.at("kind").get<std::string>());
    }
    app.name = json.value("name", app.name.empty() ? app.key : app.name);
    app.description = json.value("description", app.description);
    app.publisher = json.value("publisher", app.publisher);
    app.icon = json.value("icon", app.icon);
    app.official = json.value("official", app.official);
    app.export_formats = json.value("export_formats", app.export_formats);
    return app;
}

Json parse_body(const httplib::Request& req) {
    Json json = Json::parse(req.body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        throw market::PublishError(400, "the request body is not a JSON object");
    }
    return json;
}

// A non-negative number from the query string; a 400 naming the parameter otherwise.
std::size_t count_param(const httplib::Request& req, const char* name) {
    const std::string text = req.get_param_value(name);
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        throw market::PublishError(
            400, fmt::format("{}=\"{}\": expected a non-negative whole number", name, text));
    }
    return value;
}

// Wraps a handler: errors become JSON answers with the right status.
template <typename Handler>
httplib::Server::Handler guarded(Handler handler) {
    return [handler](const httplib::Request& req, httplib::Response& res) {
        try {
            handler(req, res);
        } catch (const market::PublishError& e) {
            send_error(res, e.http_status(), e.what());
        } catch (const market::ConflictError& e) {
            send_error(res, 409, e.what());
        } catch (const Json::exception& e) {
            send_error(res, 400, std::string("the request body is malformed: ") + e.what());
        } catch (const Error& e) {
            send_error(res, 400, e.what());
        }
    };
}

}  // namespace

// The token of the request, when it has a valid one.
std::optional<Token> MarketApi::token_of(const httplib::Request& req) const {
    const std::string header = req.get_header_value("Authorization");
    if (!header.starts_with("Bearer ")) {
        return std::nullopt;
    }
    return market::authenticate(catalog_, std::string_view(header).substr(7));
}

bool MarketApi::require(const httplib::Request& req, httplib::Response& res,
                        Token::Role role) const {
    const auto token = token_of(req);
    if (!token) {
        send_error(res, 401,
                   req.has_header("Authorization")
                       ? "the token is not valid"
                       : "this needs a token: send \"Authorization: Bearer <token>\" "
                         "(ferry token create)");
        return false;
    }
    if (!market::allows(token->role, role)) {
        send_error(res, 403,
                   fmt::format("a {} token may not do this; it needs the {} role",
                               market::to_string(token->role), market::to_string(role)));
        return false;
    }
    return true;
}

void MarketApi::put_blob(const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader& content) {
    try {
        if (!require(req, res, Token::Role::publish)) {
            return;
        }
        if (!req.has_header("Content-Length")) {
            send_error(res, 411, "a blob upload needs a Content-Length");
            return;
        }
        const std::string sha256 = req.matches[1];
        const std::uint64_t size = std::stoull(req.get_header_value("Content-Length"));
        if (data_.has_blob(sha256, size)) {
            content([](const char*, size_t) { return true; });
            send_json(res, 200, {{"sha256", sha256}, {"size", size}});
            return;
        }
        market::BlobWriter writer(data_, sha256, size);
        std::string failure;
        content([&](const char* data, size_t length) {
            try {
                writer.write(data, length);
                return true;
            } catch (const Error& e) {
                failure = e.what();
                return false;
            }
        });
        if (!failure.empty()) {
            send_error(res, 400, failure);
            return;
        }
        writer.finish();
        send_json(res, 201, {{"sha256", sha256}, {"size", size}});
    } catch (const Error& e) {
        send_error(res, 400, e.what());
    }
}

void MarketApi::install(HttpServer& server) {
    httplib::Server& routes = server.routes();
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        // Only blob uploads are streamed to disk; any other body is read into memory first.
        if (!(req.method == "PUT" && req.path.starts_with("/api/v1/blobs/")) &&
            req.get_header_value<uint64_t>("Content-Length") > kMaxJsonBody) {
            send_error(
                res, 413,
                fmt::format("the request body is larger than the {} bytes allowed", kMaxJsonBody));
            return httplib::Server::HandlerResponse::Handled;
        }
        if (options_.private_reads && (req.method == "GET" || req.method == "HEAD") &&
            !token_of(req)) {
            send_error(res, 401, "this market is private: send a token");
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    serve_static(routes, "/repo", data_.repositories());

    routes.Get("/api/v1/health", [&server](const httplib::Request&, httplib::Response& res) {
        send_json(res, 200,
                  {{"status", server.stopping() ? "stopping" : "ok"}, {"version", FERRY_VERSION}});
    });

    routes.Get("/api/v1/apps", guarded([this](const httplib::Request& req, httplib::Response& res) {
                   market::AppQuery query;
                   if (req.has_param("kind")) {
                       query.kind = market::parse_app_kind(req.get_param_value("kind"));
                   }
                   query.search = req.get_param_value("search");
                   if (req.has_param("offset")) {
                       query.offset = count_param(req, "offset");
                   }
                   if (req.has_param("limit")) {
                       query.limit = std::min<std::size_t>(1000, count_param(req, "limit"));
                   }
                   Json apps = Json::array();
                   for (const auto& app : catalog_.list_apps(query)) {
                       apps.push_back(app_json(app));
                   }
                   send_json(res, 200,
                             {{"apps", apps},
                              {"total", catalog_.count_apps(query)},
                              {"offset", query.offset},
                              {"limit", query.limit}});
               }));

    routes.Get(R"(/api/v1/apps/([^/]+))",
               guarded([this](const httplib::Request& req, httplib::Response& res) {
                   const std::string key = req.matches[1];
                   const auto app = catalog_.find_app(key);
                   if (!app) {
                       send_error(res, 404, fmt::format("no app \"{}\" in this market", key));
                       return;
                   }
                   Json majors = Json::array();
                   for (const auto& major : catalog_.list_majors(key)) {
                       majors.push_back(major_json(major));
                   }
                   Json body = app_json(*app);
                   body["majors"] = majors;
                   send_json(res, 200, body);
               }));

    routes.Get(
        R"(/api/v1/apps/([^/]+)/versions/([^/]+))",
        guarded([this](const httplib::Request& req, httplib::Response& res) {
            const std::string key = req.matches[1];
            const std::string major = req.matches[2];
            const auto found = catalog_.find_major(key, major);
            if (!found) {
                send_error(res, 404,
                           fmt::format("no version \"{}\" of \"{}\" in this market", major, key));
                return;
            }
            send_json(res, 200,
                      revision_json(*catalog_.find_revision(key, major, found->latest_revision)));
        }));

    routes.Post("/api/v1/blobs/missing",
                guarded([this](const httplib::Request& req, httplib::Response& res) {
                    if (!require(req, res, Token::Role::publish)) {
                        return;
                    }
                    const Json body = parse_body(req);
                    std::vector<market::PublishedFile> files;
                    for (const Json& blob : body.at("blobs")) {
                        files.push_back({"", blob.at("sha256").get<std::string>(),
                                         blob.at("size").get<std::uint64_t>()});
                    }
                    send_json(res, 200, {{"missing", market::missing_blobs(data_, files)}});
                }));

    routes.Put(R"(/api/v1/blobs/([0-9a-f]{64}))",
               [this](const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& content) { put_blob(req, res, content); });

    routes.Post(R"(/api/v1/apps/([^/]+)/versions/([^/]+)/revisions)",
                guarded([this](const httplib::Request& req, httplib::Response& res) {
                    if (!require(req, res, Token::Role::publish)) {
                        return;
                    }
                    const Json body = parse_body(req);
                    market::PublishRequest request;
                    const std::string key = req.matches[1];
                    market::App stored;
                    stored.key = key;
                    request.app = app_from_json(body.value("app", Json::object()),
                                                catalog_.find_app(key).value_or(stored));
                    request.major = req.matches[2];
                    request.updates_xml = body.at("updates_xml").get<std::string>();
                    request.notes = body.value("notes", "");
                    for (const Json& file : body.at("files")) {
                        request.files.push_back({file.at("path").get<std::string>(),
                                                 file.at("sha256").get<std::string>(),
                                                 file.at("size").get<std::uint64_t>()});
                    }
                    const market::PublishResult result = publisher_.publish(request);
                    Json answer = revision_json(result.revision);
                    answer["unchanged"] = result.unchanged;
                    answer["changed"] = result.changed;
                    answer["unchanged_components"] = result.unchanged_components;
                    send_json(res, result.unchanged ? 200 : 201, answer);
                }));
}

}  // namespace ferry::server
