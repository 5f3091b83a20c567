// The local Docker engine and Compose as the client drives them for service components: found
// on PATH (either `docker compose` or Debian's `docker-compose`), images streamed into
// `docker load` from the blobs ferry downloaded, and the Compose project at a target's root.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "image/image.hpp"

namespace ferry::client {

namespace fs = std::filesystem;

// What to do when Docker is missing, for messages.
inline constexpr std::string_view kInstallDocker =
    "install Docker and Compose (Debian, Ubuntu: apt install docker.io docker-compose) and make "
    "sure its daemon runs";

class DockerEngine {
  public:
    // The engine, or nullopt with why not (what is missing and what to install) in missing.
    static std::optional<DockerEngine> find(std::string& missing);

    bool has_image(const std::string& tag) const;
    // Streams a `docker save` archive of the images, written from blobs, into `docker load`.
    void load(const std::vector<image::TaggedImage>& images, const image::BlobDir& blobs) const;
    // Runs Compose on the project in dir with args; throws ferry::Error with its output when it
    // fails. Returns its output.
    std::string compose(const fs::path& dir, const std::vector<std::string>& args) const;
    // Runs docker with args; throws like compose.
    std::string docker(const std::vector<std::string>& args) const;

  private:
    std::vector<std::string> compose_;  // {"docker", "compose"} or {"docker-compose"}
};

}  // namespace ferry::client
