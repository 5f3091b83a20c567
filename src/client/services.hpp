// Service components in an installation (docs/SERVICES.md). A service component owns two files
// besides its archives' (so that transactions, verify and rollback treat them like any other):
//   services/<name>/service.json   its description
//   services/<name>/image.json     its image's registry manifest (config and layers)
// After every transaction the Compose project at the target's root is written again from them
// (docker-compose.yaml, .env keeping ports and secrets, service-config/), images Docker lacks are
// loaded from the blobs downloaded into .ferry/images, and a running (or --start) project is
// brought up, which recreates only the services whose image or settings changed.
#pragma once

#include <string>
#include <vector>

#include "client/installation.hpp"
#include "client/session.hpp"

namespace ferry::client {

// "services/<name>/service.json" and "services/<name>/image.json".
std::string service_description_path(std::string_view component);
std::string service_image_path(std::string_view component);

struct ServicesOutcome {
    std::vector<std::string> services;  // the project's services, in start order
    std::vector<std::string> loaded;    // image tags loaded into Docker
    bool started = false;               // the project was brought up
    bool stopped = false;               // the project was taken down (no service left)
    std::string docker_missing;         // why Docker could not be used; empty when it could
};

// Writes the Compose project from the installed service components and brings Docker in line
// (see above). Without Docker the files are laid out and docker_missing says what to install;
// run.start then throws that. A service that does not become healthy is an error naming it and
// its probe's last output.
ServicesOutcome apply_services(const Installation& installation, const ServiceRun& run,
                               const Reporter& reporter);

// `docker compose ps` of the installation's project (an error when it has none).
std::string services_status(const Installation& installation);

}  // namespace ferry::client
