// The Compose project of an app's services (docs/SERVICES.md, "What a service becomes"): the
// docker-compose.yaml that runs them with Docker alone, and the variables its .env holds (the
// published host ports, the bind address and the generated secrets), so that a user changes a
// port or keeps a secret across updates in one file.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "formats/service.hpp"

namespace ferry::formats {

struct ComposeService {
    std::string component;
    ServiceDescription description;
    std::string image;  // the tag the image is loaded under ("com.example.web:1.0.0")
};

// One variable of the project's .env.
struct ComposeVariable {
    std::string name;     // "WEB_PORT_8080", "SECRET_DB_PASSWORD"
    std::string value;    // the default; empty for a secret
    bool secret = false;  // a random value made once (Rainbond's "**None**")
    std::string comment;
};

struct ComposeProject {
    std::string name;  // the Compose project name (COMPOSE_PROJECT_NAME)
    std::vector<ComposeService> services;
};

// Host ports are published on this address unless .env says otherwise.
inline constexpr std::string_view kBindVariable = "FERRY_BIND_ADDRESS";
inline constexpr std::string_view kDefaultBindAddress = "0.0.0.0";

// The docker-compose.yaml (Compose specification, readable by docker-compose 1.27+ and
// `docker compose`). Every string is double-quoted, so YAML 1.1 readers never take "22:22" for
// a number or "no" for false. Config files are bind-mounted from config/<service>/<path>.
std::string write_compose(const ComposeProject& project);

// The variables docker-compose.yaml refers to, in a stable order: the project name, the bind
// address, each published port, each generated secret.
std::vector<ComposeVariable> compose_variables(const ComposeProject& project);

// Where a service's config file lives in the project folder
// ("service-config/web/etc/app.conf").
std::string config_file_path(const std::string& service, const ServiceVolume& volume);

// The tag an image is loaded under: the component's name (lowercased, as Docker wants) and its
// version ("com.example.web:1.0.0"); characters a tag may not have become '_'.
std::string image_tag(std::string_view component, std::string_view version);

// .env text: values holds the values to keep (a user's port, a secret generated before); the
// others get their default, and secrets a new random value from random_secret (or stay empty
// without make_secrets, for run.sh to make where the project runs).
std::string write_env_file(const std::vector<ComposeVariable>& variables,
                           const std::map<std::string, std::string>& values,
                           bool make_secrets = true);
// KEY=VALUE lines (comments and blank lines skipped), as docker-compose reads them.
std::map<std::string, std::string> parse_env_file(std::string_view text);
// 32 hex digits from the system's random source.
std::string random_secret();

}  // namespace ferry::formats
