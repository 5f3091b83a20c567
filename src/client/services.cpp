#include "client/services.hpp"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <thread>

#include "client/docker.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "formats/compose.hpp"
#include "formats/service.hpp"
#include "image/image.hpp"

namespace ferry::client {

namespace {

constexpr std::uint64_t kMaxServiceFileBytes = 1u << 20;
constexpr std::string_view kProjectVariable = "COMPOSE_PROJECT_NAME";

struct InstalledService {
    formats::ComposeService compose;
    image::Image image;
};

// The Compose project's name: the target directory's, as Compose would make it (lowercase
// letters, digits, '-' and '_').
std::string default_project_name(const fs::path& root) {
    std::string name;
    for (char c : fs::absolute(root).lexically_normal().filename().string()) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_') {
            name += static_cast<char>(std::tolower(u));
        }
    }
    return name.empty() ? "ferry" : name;
}

std::vector<InstalledService> installed_services(const Installation& installation) {
    std::vector<InstalledService> services;
    for (const auto& component : installation.components().components) {
        const fs::path description = installation.root() / service_description_path(component.name);
        auto text = core::read_file_if_exists(description, kMaxServiceFileBytes);
        if (!text) {
            continue;
        }
        const fs::path manifest = installation.root() / service_image_path(component.name);
        InstalledService service;
        service.compose = {component.name,
                           formats::parse_service(*text, description.string(), component.name),
                           formats::image_tag(component.name, component.version)};
        service.image = image::parse_registry_manifest(
            core::read_file(manifest, kMaxServiceFileBytes), manifest.string());
        services.push_back(std::move(service));
    }
    return services;
}

// docker-compose.yaml, .env and service-config/ for the services, in start order.
formats::ComposeProject write_project(const Installation& installation,
                                      std::vector<InstalledService>& services) {
    const fs::path root = installation.root();
    const fs::path env_file = root / kEnvFileName;
    const auto kept = formats::parse_env_file(core::read_file_if_exists(env_file).value_or(""));
    auto name = kept.find(std::string(kProjectVariable));
    formats::ComposeProject project{name != kept.end() ? name->second : default_project_name(root),
                                    {}};
    std::map<std::string, formats::ServiceDescription> descriptions;
    std::map<std::string, const InstalledService*> by_component;
    for (const auto& service : services) {
        descriptions.emplace(service.compose.component, service.compose.description);
        by_component.emplace(service.compose.component, &service);
    }
    formats::check_app_services(descriptions);
    for (const auto& component : formats::start_order(descriptions)) {
        project.services.push_back(by_component.at(component)->compose);
    }
    const fs::path config = root / kServiceConfigDirName;
    std::error_code ec;
    fs::remove_all(config, ec);
    for (const auto& service : project.services) {
        for (const auto& volume : service.description.volumes) {
            if (volume.kind == formats::ServiceVolume::Kind::config) {
                const fs::path file =
                    root / formats::config_file_path(service.description.name, volume);
                fs::create_directories(file.parent_path());
                core::write_file_atomic(file, volume.content, volume.mode);
            }
        }
    }
    core::write_file_atomic(
        env_file, formats::write_env_file(formats::compose_variables(project), kept), 0600);
    core::write_file_atomic(root / kComposeFileName, formats::write_compose(project));
    return project;
}

// Removes the project's files when no service is left (its .env only with the data).
void remove_project_files(const fs::path& root, bool purge_data) {
    std::error_code ec;
    fs::remove(root / kComposeFileName, ec);
    fs::remove_all(root / kServiceConfigDirName, ec);
    if (purge_data) {
        fs::remove(root / kEnvFileName, ec);
    }
}

std::string health_of(const DockerEngine& docker, const std::string& container) {
    return docker.docker({"inspect", "--format",
                          "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} "
                          "{{.State.Status}}",
                          container});
}



std::string trimmed(std::string text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.pop_back();
    }
    return text;
}

std::string container_of(const DockerEngine& docker, const fs::path& root,
                         const std::string& service) {
    return trimmed(docker.compose(root, {"ps", "-q", service}));
}

// The error for a service whose probe failed or whose container stopped: what its probe said
// last and its last log lines.
Error unhealthy(const DockerEngine& docker, const std::string& service,
                const std::string& container, const std::string& state) {
    const std::string probes = trimmed(docker.docker(
        {"inspect", "--format",
         "{{if .State.Health}}{{range .State.Health.Log}}{{.Output}}{{end}}{{end}}", container}));
    const std::string last_probe = probes.substr(probes.rfind('\n') + 1);
    const std::string logs = trimmed(docker.docker({"logs", "--tail", "5", container}));
    return Error::format(ErrorKind::upstream,
                         "service {} did not become healthy ({}): its probe said: {}; its last "
                         "log lines: {}",
                         service, trimmed(state), last_probe.empty() ? "nothing" : last_probe,
                         logs.empty() ? "none" : logs);
}

// After a failed `up`: the service to blame, when one with a probe is unhealthy or stopped.
void name_unhealthy_service(const DockerEngine& docker, const fs::path& root,
                            const formats::ComposeProject& project) {
    for (const auto& service : project.services) {
        const std::string& name = service.description.name;
        const std::string container = container_of(docker, root, name);
        if (!service.description.health || container.empty()) {
            continue;
        }
        const std::string state = health_of(docker, container);
        if (state.starts_with("unhealthy") || state.find("running") == std::string::npos) {
            throw unhealthy(docker, name, container, "health: " + state);
        }
    }
}

// Waits until every service with a probe is healthy; a service that turns unhealthy or stops,
// or does not become healthy in time, is an error naming it and what its probe last said.
void wait_until_healthy(const DockerEngine& docker, const fs::path& root,
                        const formats::ComposeProject& project, const Reporter& reporter) {
    for (const auto& service : project.services) {
        const auto& probe = service.description.health;
        if (!probe) {
            continue;
        }
        const std::string& name = service.description.name;
        const std::string container = container_of(docker, root, name);
        if (container.empty()) {
            throw Error::format(ErrorKind::upstream, "service {} has no container", name);
        }
        const auto budget = probe->start_period + (probe->interval + probe->timeout) *
                                                      static_cast<int>(probe->retries + 1);
        const auto deadline = std::chrono::steady_clock::now() + budget;
        if (reporter.info) {
            reporter.info(fmt::format("waiting for {} to be healthy", name));
        }
        while (true) {
            const std::string state = health_of(docker, container);
            if (state.starts_with("healthy")) {
                break;
            }
            const bool stopped = state.find("running") == std::string::npos;
            if (state.starts_with("unhealthy") || stopped ||
                std::chrono::steady_clock::now() > deadline) {
                throw unhealthy(docker, name, container,
                                stopped ? "it stopped" : "health: " + state);
            }
            // Docker runs the probe every interval; asking twice a second sees each result.
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    }
}

}  // namespace

std::string service_description_path(std::string_view component) {
    return fmt::format("services/{}/service.json", component);
}

std::string service_image_path(std::string_view component) {
    return fmt::format("services/{}/image.json", component);
}

ServicesOutcome apply_services(const Installation& installation, const ServiceRun& run,
                               const Reporter& reporter) {
    ServicesOutcome outcome;
    const fs::path root = installation.root();
    auto services = installed_services(installation);
    std::error_code ec;
    const bool had_project = fs::exists(root / kComposeFileName, ec);
    if (services.empty() && !had_project) {
        return outcome;
    }
    std::string missing;
    const auto docker = DockerEngine::find(missing);
    if (services.empty()) {
        if (docker) {
            docker->compose(root, run.purge_data ? std::vector<std::string>{"down", "-v"}
                                                 : std::vector<std::string>{"down"});
            outcome.stopped = true;
        } else {
            outcome.docker_missing = missing;
        }
        remove_project_files(root, run.purge_data);
        return outcome;
    }
    const auto project = write_project(installation, services);
    for (const auto& service : project.services) {
        outcome.services.push_back(service.component);
    }
    if (!docker) {
        outcome.docker_missing = missing;
        if (run.start) {
            throw Error::format(ErrorKind::invalid_input,
                                "cannot start the services: {}; the Compose project is laid out "
                                "in {}",
                                missing, root.string());
        }
        return outcome;
    }
    const image::BlobDir blobs(installation.paths().images());
    for (const auto& service : services) {
        const std::string& tag = service.compose.image;
        if (docker->has_image(tag)) {
            continue;
        }
        for (const auto& blob : service.image.layers) {
            if (!blobs.has(blob)) {
                throw Error::format(ErrorKind::not_found,
                                    "the image {} of {} is neither in Docker nor downloaded ({} is "
                                    "missing); install the component again",
                                    tag, service.compose.component, blob.digest);
            }
        }
        if (reporter.info) {
            reporter.info(fmt::format("loading image {}", tag));
        }
        docker->load({{service.image, tag}}, blobs);
        outcome.loaded.push_back(tag);
    }
    fs::remove_all(blobs.root(), ec);  // Docker holds them now
    const bool running = had_project && !docker->compose(root, {"ps", "-q"}).empty();
    if (run.start || running) {
        try {
            docker->compose(root, {"up", "-d", "--remove-orphans"});
        } catch (const Error&) {
            // Compose stops at a dependency that is not healthy; say which and why.
            name_unhealthy_service(*docker, root, project);
            throw;
        }
        wait_until_healthy(*docker, root, project, reporter);
        outcome.started = true;
    }
    return outcome;
}

std::string services_status(const Installation& installation) {
    std::error_code ec;
    if (!fs::exists(installation.root() / kComposeFileName, ec)) {
        throw Error::format(ErrorKind::not_found, "{}: has no service components",
                            installation.root().string());
    }
    std::string missing;
    const auto docker = DockerEngine::find(missing);
    if (!docker) {
        throw Error(missing);
    }
    return docker->compose(installation.root(), {"ps"});
}

}  // namespace ferry::client
