#include "server/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/version.hpp"
#include "formats/names.hpp"
#include "formats/updates_xml.hpp"
#include "market/names.hpp"
#include "repo/repository_dir.hpp"
#include "server/http_server.hpp"
#include "server/static_files.hpp"

namespace ferry::server {

namespace {

namespace fs = std::filesystem;

// One major version's repository holding the component as a service.
struct Located {
    std::string major;
    formats::PackageUpdate package;
};

void registry_error(Response& res, int status, std::string_view code, std::string message) {
    res.set_header("Docker-Distribution-API-Version", "registry/2.0");
    send_json(res, status,
              {{"errors", nlohmann::json::array({{{"code", code}, {"message", message}}})}});
}

// Every major of the app whose repository has the component as a service, the newest first.
std::vector<Located> locate(const market::DataDir& data, const std::string& key,
                            const std::string& component) {
    std::vector<Located> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(data.repositories() / key, ec)) {
        const std::string major = entry.path().filename().string();
        const fs::path index_file = entry.path() / "Updates.xml";
        if (market::key_problem(major) || !fs::is_regular_file(index_file, ec)) {
            continue;
        }
        try {
            const auto index = formats::parse_updates_xml(
                core::read_file(index_file, formats::kMaxUpdatesXmlBytes), index_file.string());
            if (const auto* package = index.find(component); package && package->service) {
                found.push_back({major, *package});
            }
        } catch (const Error&) {
            continue;  // a repository being replaced is read again by the next request
        }
    }
    std::sort(found.begin(), found.end(), [](const Located& a, const Located& b) {
        return core::compare_versions(a.major, b.major) > 0;
    });
    return found;
}

class Registry {
  public:
    explicit Registry(const market::DataDir& data)
        : data_(data), files_(file_handler(data.repositories())) {}

    void manifest(const Request& req, Response& res) const {
        auto name = image_name(req, res);
        if (!name) {
            return;
        }
        const std::string& reference = req.matches[2];
        const bool by_digest = reference.starts_with("sha256:");
        for (const auto& located : locate(data_, name->first, name->second)) {
            const auto& service = *located.package.service;
            const bool match =
                by_digest ? service.manifest.digest == reference
                          : reference == "latest" || located.package.component.version == reference;
            if (match) {
                send_file(req, res, name->first, located, service.manifest.digest,
                          service.manifest.media_type);
                return;
            }
        }
        registry_error(res, 404, "MANIFEST_UNKNOWN",
                       fmt::format("{}/{} has no image {}", name->first, name->second, reference));
    }

    void blob(const Request& req, Response& res) const {
        auto name = image_name(req, res);
        if (!name) {
            return;
        }
        const std::string& digest = req.matches[2];
        for (const auto& located : locate(data_, name->first, name->second)) {
            const auto& service = *located.package.service;
            const bool listed = service.manifest.digest == digest ||
                                std::any_of(service.blobs.begin(), service.blobs.end(),
                                            [&](const auto& b) { return b.digest == digest; });
            if (listed) {
                send_file(req, res, name->first, located, digest, "application/octet-stream");
                return;
            }
        }
        registry_error(res, 404, "BLOB_UNKNOWN",
                       fmt::format("{}/{} has no blob {}", name->first, name->second, digest));
    }

    // Every version of the component the app's majors hold, and "latest".
    void tags(const Request& req, Response& res) const {
        auto name = image_name(req, res);
        if (!name) {
            return;
        }
        const auto found = locate(data_, name->first, name->second);
        if (found.empty()) {
            registry_error(
                res, 404, "NAME_UNKNOWN",
                fmt::format("{}/{} is not an image of this market", name->first, name->second));
            return;
        }
        std::vector<std::string> tags;
        for (const auto& located : found) {
            tags.push_back(located.package.component.version);
        }
        std::sort(tags.begin(), tags.end());
        tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
        tags.push_back("latest");
        res.set_header("Docker-Distribution-API-Version", "registry/2.0");
        send_json(res, 200, {{"name", req.matches[1]}, {"tags", tags}});
    }

  private:
    // The app key and component of /v2/<key>/<component>/..., checked by the rules that made
    // them, or nothing (and a 404 in the registry's error format).
    std::optional<std::pair<std::string, std::string>> image_name(const Request& req,
                                                                  Response& res) const {
        const std::string& name = req.matches[1];
        const auto slash = name.find('/');
        const std::string key = name.substr(0, slash);
        const std::string component = slash == std::string::npos ? "" : name.substr(slash + 1);
        if (slash == std::string::npos || market::key_problem(key) ||
            formats::name_problem(formats::NameKind::component, component)) {
            registry_error(res, 404, "NAME_UNKNOWN",
                           fmt::format("{} is not an image of this market (images are named "
                                       "<app-key>/<component>)",
                                       name));
            return std::nullopt;
        }
        return std::pair{key, component};
    }

    // The file answers as a static file does (validators, Range), with the registry's headers.
    void send_file(const Request& req, Response& res, const std::string& key,
                   const Located& located, const std::string& digest,
                   std::string_view content_type) const {
        Request file = req;
        file.matches = {req.path,
                        fmt::format("{}/{}/{}", key, located.major, repo::image_blob_path(digest))};
        files_(file, res);
        res.set_header("Docker-Distribution-API-Version", "registry/2.0");
        if (res.status == 404) {
            registry_error(res, 404, "BLOB_UNKNOWN", fmt::format("{} is missing", digest));
            return;
        }
        res.set_header("Docker-Content-Digest", digest);
        res.set_header("Content-Type", std::string(content_type));
    }

    const market::DataDir& data_;
    Handler files_;
};

}  // namespace

bool is_registry_path(std::string_view path) {
    return path == "/v2" || path.starts_with("/v2/");
}

void challenge(Response& res) {
    res.set_header("WWW-Authenticate", "Basic realm=\"ferry market\"");
    res.set_header("Docker-Distribution-API-Version", "registry/2.0");
}

void install_registry(Routes& routes, const market::DataDir& data) {
    auto registry = std::make_shared<Registry>(data);
    routes.Get("/v2/?", [](const Request&, Response& res) {
        res.set_header("Docker-Distribution-API-Version", "registry/2.0");
        res.set_content("{}", "application/json");
    });
    routes.Get("/v2/(.+)/manifests/([^/]+)",
               [registry](const Request& req, Response& res) { registry->manifest(req, res); });
    routes.Get("/v2/(.+)/tags/list",
               [registry](const Request& req, Response& res) { registry->tags(req, res); });
    routes.Get("/v2/(.+)/blobs/(sha256:[0-9a-f]{64})",
               [registry](const Request& req, Response& res) { registry->blob(req, res); });
}

}  // namespace ferry::server
