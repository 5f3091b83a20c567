#include "server/http.hpp"

#include <algorithm>

#include "net/url.hpp"
#include "server/http_server.hpp"

namespace ferry::server {

namespace {

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](char x, char y) { return lower(x) < lower(y); });
}

bool Request::has_header(std::string_view name) const {
    return headers.find(name) != headers.end();
}

std::string Request::get_header_value(std::string_view name) const {
    auto found = headers.find(name);
    return found == headers.end() ? std::string() : found->second;
}

bool Request::has_param(std::string_view name) const {
    return params.find(name) != params.end();
}

std::string Request::get_param_value(std::string_view name) const {
    auto found = params.find(name);
    return found == params.end() ? std::string() : found->second;
}

void Response::set_header(std::string_view name, std::string value) {
    headers.erase(std::string(name));
    headers.emplace(std::string(name), std::move(value));
}

void Response::set_content(std::string content, std::string_view content_type) {
    body = std::move(content);
    part = {};
    set_header("Content-Type", std::string(content_type));
}

void Response::set_content(BodyPart content, std::string_view content_type) {
    body.clear();
    part = std::move(content);
    set_header("Content-Type", std::string(content_type));
}

std::uint64_t Response::content_length() const {
    return part.memory || part.file ? part.length : body.size();
}

Routes::Routes() = default;
Routes::~Routes() = default;

void Routes::Get(const std::string& pattern, Handler handler) {
    routes_.push_back(std::make_unique<Route>(Route{"GET", std::regex(pattern), "", handler}));
}

void Routes::Post(const std::string& pattern, Handler handler) {
    routes_.push_back(std::make_unique<Route>(Route{"POST", std::regex(pattern), "", handler}));
}

void Routes::Put(const std::string& pattern, Handler handler) {
    routes_.push_back(std::make_unique<Route>(Route{"PUT", std::regex(pattern), "", handler}));
}

void Routes::Put(const std::string& pattern, StreamingHandler handler) {
    routes_.push_back(std::make_unique<Route>(Route{"PUT", std::regex(pattern), "", handler}));
}

void Routes::Delete(const std::string& pattern, Handler handler) {
    routes_.push_back(std::make_unique<Route>(Route{"DELETE", std::regex(pattern), "", handler}));
}

void Routes::get_under(const std::string& prefix, Handler handler) {
    std::string trimmed = prefix;
    while (!trimmed.empty() && trimmed.back() == '/')
        trimmed.pop_back();
    routes_.push_back(std::make_unique<Route>(Route{"GET", {}, trimmed + "/", handler}));
}

const Routes::Route* Routes::find(Request& req) const {
    const std::string_view method =
        req.method == "HEAD" ? std::string_view("GET") : std::string_view(req.method);
    for (const auto& route : routes_) {
        if (route->method != method)
            continue;
        if (!route->prefix.empty()) {
            if (req.path.starts_with(route->prefix)) {
                req.matches = {req.path, req.path.substr(route->prefix.size())};
                return route.get();
            }
            continue;
        }
        std::smatch match;
        if (std::regex_match(req.path, match, route->pattern)) {
            req.matches.assign(match.begin(), match.end());
            return route.get();
        }
    }
    return nullptr;
}

bool compressible(std::string_view content_type) {
    return content_type == "application/xml" || content_type == "application/json";
}

bool accepts_gzip(const Request& req) {
    return req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos;
}

Params parse_query(std::string_view query) {
    Params params;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        if (!item.empty()) {
            const auto eq = item.find('=');
            params.emplace(net::percent_decode(item.substr(0, eq), true),
                           eq == std::string_view::npos
                               ? std::string()
                               : net::percent_decode(item.substr(eq + 1), true));
        }
        if (amp == std::string_view::npos)
            break;
        query.remove_prefix(amp + 1);
    }
    return params;
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

void send_json(Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

void send_error(Response& res, int status, std::string_view message) {
    send_json(res, status,
              nlohmann::json{{"error", {{"status", status}, {"message", std::string(message)}}}});
}

}  // namespace ferry::server
