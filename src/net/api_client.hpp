// A client of a market's JSON API (libcurl): GET and POST with JSON bodies, PUT of a file
// streamed from disk, a bearer token sent with every request and never shown in a message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "net/downloader.hpp"

namespace ferry::net {

// A request the server answered with an error status; the message is the server's own
// ({"error": {"message": ...}}) with the method, the URL and the status.
class ApiError : public Error {
  public:
    ApiError(long status, std::string message) : Error(std::move(message)), status_(status) {}
    long status() const { return status_; }

  private:
    long status_;
};

class ApiClient {
  public:
    // base_url like "http://127.0.0.1:8080"; token may be empty.
    ApiClient(std::string base_url, std::string token, DownloadOptions options = {});
    ~ApiClient();
    ApiClient(const ApiClient&) = delete;
    ApiClient& operator=(const ApiClient&) = delete;

    nlohmann::json get(const std::string& path);
    nlohmann::json post(const std::string& path, const nlohmann::json& body);
    // Streams the file as the request body; progress(done, total) while it goes. With from set,
    // sends the file from that offset on, saying so in a Content-Range header (a resumed upload).
    nlohmann::json put_file(const std::string& path, const std::filesystem::path& file,
                            const std::function<void(std::uint64_t, std::uint64_t)>& progress = {},
                            std::optional<std::uint64_t> from = std::nullopt);

    const std::string& base_url() const { return base_url_; }

  private:
    struct Impl;
    std::string base_url_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::net
