#include "server/market_api.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <optional>

#include "core/json_error.hpp"
#include "market/json.hpp"
#include "market/tokens.hpp"
#include "server/market_api_internal.hpp"
#include "server/registry.hpp"
#include "server/static_files.hpp"

namespace ferry::server {

namespace {

using market::app_from_json;
using market::app_json;
using market::major_json;
using market::revision_json;
using market::Token;

// Base64 as Basic authentication carries it (OpenSSL's decoder; padding bytes removed).
std::string base64_decode(std::string_view text) {
    std::string out(text.size() / 4 * 3 + 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) {
        return {};
    }
    out.resize(static_cast<std::size_t>(n));
    for (std::size_t i = text.size(); i > 0 && text[i - 1] == '=' && !out.empty(); --i) {
        out.pop_back();
    }
    return out;
}

// A non-negative number from the query string; a 400 naming the parameter otherwise.
std::size_t count_param(const Request& req, const char* name) {
    const std::string text = req.get_param_value(name);
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        throw Error::format("{}=\"{}\": expected a non-negative whole number", name, text);
    }
    return value;
}

}  // namespace

// The token of the request, when it has a valid one.
// Bearer, or Basic with the token as the password, so that tools that only speak Basic (curl
// -u, IFW installers, ferry's own downloads from a private market) can send one.
std::optional<Token> MarketApi::token_of(const Request& req) const {
    const std::string header = req.get_header_value("Authorization");
    if (header.starts_with("Bearer ")) {
        return market::authenticate(catalog_, std::string_view(header).substr(7));
    }
    if (header.starts_with("Basic ")) {
        const std::string decoded = base64_decode(header.substr(6));
        const auto colon = decoded.find(':');
        if (colon != std::string::npos) {
            return market::authenticate(catalog_, std::string_view(decoded).substr(colon + 1));
        }
    }
    return std::nullopt;
}

bool MarketApi::require(const Request& req, Response& res, Token::Role role) const {
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

void MarketApi::put_blob(const Request& req, Response& res, const ContentReader& content) {
    if (!require(req, res, Token::Role::publish)) {
        return;
    }
    if (!req.has_header("Content-Length")) {
        send_error(res, 411, "a blob upload needs a Content-Length");
        return;
    }
    const std::string sha256 = req.matches[1];
    const std::string length = req.get_header_value("Content-Length");
    std::uint64_t size = 0;
    if (const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), size);
        ec != std::errc() || end != length.data() + length.size()) {
        throw Error::format("Content-Length \"{}\" is not a size", length);
    }
    if (data_.has_blob(sha256, size)) {
        content([](const char*, size_t) { return true; });
        send_json(res, 200, {{"sha256", sha256}, {"size", size}});
        return;
    }
    market::BlobWriter writer(data_, sha256, size);
    // The writer's failure (too much data, a full disk) is thrown once the reading has stopped.
    std::exception_ptr failure;
    content([&](const char* data, size_t length) {
        try {
            writer.write(data, length);
            return true;
        } catch (...) {
            failure = std::current_exception();
            return false;
        }
    });
    if (failure) {
        std::rethrow_exception(failure);
    }
    writer.finish();
    send_json(res, 201, {{"sha256", sha256}, {"size", size}});
}

void MarketApi::install_token_routes(Routes& routes) {
    routes.Get("/api/v1/tokens", [this](const Request& req, Response& res) {
        if (!require(req, res, Token::Role::admin)) {
            return;
        }
        Json tokens = Json::array();
        for (const Token& token : catalog_.list_tokens()) {
            tokens.push_back(market::token_json(token));
        }
        send_json(res, 200, {{"tokens", tokens}});
    });

    routes.Post("/api/v1/tokens", guarded([this](const Request& req, Response& res) {
                    if (!require(req, res, Token::Role::admin)) {
                        return;
                    }
                    const Json body = parse_body(req);
                    const auto created = market::create_token(
                        catalog_, market::parse_token_role(body.value("role", "publish")),
                        body.value("description", ""));
                    Json answer = market::token_json(created.token);
                    answer["token"] = created.secret;
                    send_json(res, 201, answer);
                }));

    routes.Delete(R"(/api/v1/tokens/([^/]+))", [this](const Request& req, Response& res) {
        if (!require(req, res, Token::Role::admin)) {
            return;
        }
        market::revoke_token(catalog_, req.matches[1]);
        send_json(res, 200, {{"revoked", req.matches[1]}});
    });
}

Handler MarketApi::cached(Handler handler) {
    return [this, handler = guarded(std::move(handler))](const Request& req, Response& res) {
        const std::uint64_t generation = catalog_.generation();
        auto response = cache_.find(req.target, generation);
        if (!response) {
            handler(req, res);
            if (res.status != 200)
                return;
            response = cache_.store(req.target, generation, std::move(res.body));
        }
        res.set_header("ETag", response->etag);
        if (none_match_hits(req.get_header_value("If-None-Match"), response->etag)) {
            res.status = 304;
            res.body.clear();
            return;
        }
        res.status = 200;
        res.set_content(response->body, "application/json");
    };
}

void MarketApi::install_upstream_routes(Routes& routes) {
    routes.Get("/api/v1/upstream/apps", guarded([this](const Request&, Response& res) {
                   Json apps = Json::array();
                   const auto upstreams =
                       pulls_ ? pulls_->upstreams() : std::vector<market::UpstreamMarket>{};
                   for (const auto& item : market::list_upstream_apps(upstreams, catalog_)) {
                       Json majors = Json::array();
                       for (const auto& major : item.majors) {
                           majors.push_back({{"major", major.major},
                                             {"upstream_revision", major.upstream_revision},
                                             {"local_revision", major.local_revision},
                                             {"present", major.local_revision > 0},
                                             {"update_available", major.update_available}});
                       }
                       Json app = app_json(item.app);
                       app["upstream"] = item.upstream_url;
                       app["present"] = item.present;
                       app["majors"] = majors;
                       apps.push_back(app);
                   }
                   send_json(res, 200, {{"apps", apps}});
               }));

    routes.Post(
        "/api/v1/pulls", guarded([this](const Request& req, Response& res) {
            if (!require(req, res, Token::Role::publish)) {
                return;
            }
            if (pulls_ == nullptr || pulls_->upstreams().empty()) {
                send_error(res, 409,
                           "this market has no upstream market (ferry serve --upstream URL)");
                return;
            }
            const Json body = parse_body(req);
            const std::string key = body.at("app").get<std::string>();
            const std::string major = body.value("major", "");
            if (!market::is_valid_key(key) || (!major.empty() && !market::is_valid_key(major))) {
                send_error(res, 400,
                           fmt::format("\"{}@{}\" is not a valid app and version", key, major));
                return;
            }
            send_json(res, 202, job_json(pulls_->start(key, major)));
        }));

    routes.Get("/api/v1/jobs", guarded([this](const Request&, Response& res) {
                   Json jobs = Json::array();
                   for (const auto& job : catalog_.list_jobs(100)) {
                       jobs.push_back(job_json(job));
                   }
                   send_json(res, 200, {{"jobs", jobs}});
               }));

    routes.Get(R"(/api/v1/jobs/([^/]+))", guarded([this](const Request& req, Response& res) {
                   const auto job = catalog_.find_job(std::string(req.matches[1]));
                   if (!job) {
                       send_error(res, 404,
                                  fmt::format("no job \"{}\"", std::string(req.matches[1])));
                       return;
                   }
                   send_json(res, 200, job_json(*job));
               }));
}

void MarketApi::install(HttpServer& server) {
    Routes& routes = server.routes();
    server.set_pre_routing_handler([this](const Request& req, Response& res) {
        // Monitoring asks for the health without a token, private market or not.
        if (options_.private_reads && (req.method == "GET" || req.method == "HEAD") &&
            req.path != "/api/v1/health" && !token_of(req)) {
            if (is_registry_path(req.path)) {
                challenge(res);  // docker login, podman and skopeo answer it with Basic
            }
            // "Send a token" to a client that sent one would hide that its token is wrong.
            send_error(res, 401,
                       req.has_header("Authorization")
                           ? "this market is private and the token is not valid"
                           : "this market is private: send a token");
            return true;
        }
        return false;
    });
    serve_static(routes, "/repo", data_.repositories());
    install_registry(routes, data_);
    install_upstream_routes(routes);
    install_token_routes(routes);
    install_bundle_routes(routes);

    routes.Get("/api/v1/health", [&server](const Request&, Response& res) {
        send_json(res, 200,
                  {{"status", server.stopping() ? "stopping" : "ok"}, {"version", FERRY_VERSION}});
    });

    routes.Get("/api/v1/apps", cached([this](const Request& req, Response& res) {
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

    routes.Get(R"(/api/v1/apps/([^/]+))", cached([this](const Request& req, Response& res) {
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
        cached([this](const Request& req, Response& res) {
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

    routes.Post("/api/v1/blobs/missing", guarded([this](const Request& req, Response& res) {
                    if (!require(req, res, Token::Role::publish)) {
                        return;
                    }
                    const Json body = parse_body(req);
                    std::vector<market::RepositoryFile> files;
                    for (const Json& blob : body.at("blobs")) {
                        files.push_back({"", blob.at("sha256").get<std::string>(),
                                         blob.at("size").get<std::uint64_t>()});
                    }
                    send_json(res, 200, {{"missing", market::missing_blobs(data_, files)}});
                }));

    routes.Put(R"(/api/v1/blobs/([0-9a-f]{64}))",
               [this](const Request& req, Response& res, const ContentReader& content) {
                   put_blob(req, res, content);
               });

    routes.Post(R"(/api/v1/apps/([^/]+)/versions/([^/]+)/revisions)",
                guarded([this](const Request& req, Response& res) {
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
                    // `ferry import` marks what it imports; no other source can be claimed.
                    if (body.value("app", Json::object()).value("source", "") == "imported") {
                        request.app.source = market::App::Source::imported;
                    }
                    request.major = req.matches[2];
                    request.updates_xml = body.at("updates_xml").get<std::string>();
                    request.notes = body.value("notes", "");
                    request.files = market::files_from_json(body.at("files"));
                    const market::PublishResult result = publisher_.publish(request);
                    Json answer = revision_json(result.revision);
                    answer["unchanged"] = result.unchanged;
                    answer["changed"] = result.changed;
                    answer["unchanged_components"] = result.unchanged_components;
                    send_json(res, result.unchanged ? 200 : 201, answer);
                }));
}

}  // namespace ferry::server
