#include "bundle/compose_package.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "archive/archive.hpp"
#include "core/error.hpp"
#include "core/file_error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "image/image.hpp"
#include "repo/repository_dir.hpp"
#include "repo/service_builder.hpp"

namespace ferry::bundle {

namespace {

constexpr std::string_view kRunScript = R"ferry-run-sh(#!/bin/sh
# Runs this app's services with Docker alone: ./run.sh up | down | status | logs
# It never downloads anything: the images are in images.tar beside it.
set -eu
cd "$(dirname "$0")"

usage() {
    echo "usage: $0 up|down|status|logs" >&2
    echo "  up      load the images (once), make the secrets (once), check the ports, start" >&2
    echo "  down    stop and remove the containers (the data volumes stay)" >&2
    echo "  status  show each service's state" >&2
    echo "  logs    show the services' last log lines" >&2
    exit 2
}

fail() {
    echo "run.sh: $*" >&2
    exit 1
}

# Docker and one of Compose's two forms must be here already.
find_compose() {
    command -v docker >/dev/null 2>&1 ||
        fail "Docker is not installed. Install it (Debian, Ubuntu: apt install docker.io docker-compose) and run again."
    docker info >/dev/null 2>&1 ||
        fail "Docker is installed but its daemon does not answer (is it running, and may this user use it?)."
    if docker compose version >/dev/null 2>&1; then
        compose_v2=1
    elif command -v docker-compose >/dev/null 2>&1; then
        compose_v2=0
    else
        fail "Docker Compose is not installed. Install it (Debian, Ubuntu: apt install docker-compose) and run again."
    fi
}

compose() {
    if [ "$compose_v2" = 1 ]; then
        docker compose --project-directory . -f docker-compose.yaml "$@"
    else
        docker-compose --project-directory . -f docker-compose.yaml "$@"
    fi
}

secret() {
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

# Secrets are made the first time and then kept: the services' data was set up with them.
make_secrets() {
    grep -q '^SECRET_[A-Z0-9_]*=$' .env || return 0
    tmp=$(mktemp .env.XXXXXX)
    while IFS= read -r line; do
        case $line in
            SECRET_*=) printf '%s%s\n' "$line" "$(secret)" ;;
            *) printf '%s\n' "$line" ;;
        esac
    done <.env >"$tmp"
    chmod 600 "$tmp"
    mv "$tmp" .env
}

# Whether something on this host listens on the port (tcp or udp), from the kernel's tables.
port_in_use() {
    hex=$(printf ':%04X' "$1")
    awk -v port="$hex" 'FNR > 1 && substr($2, length($2) - 4) == port && ($4 == "0A" || $4 == "07") { found = 1 }
        END { exit !found }' /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null
}

check_ports() {
    busy=""
    while IFS= read -r entry; do
        case $entry in
            *_PORT_[0-9]*=?*)
                port=${entry#*=}
                if port_in_use "$port"; then
                    busy="$busy ${entry%%=*}=$port"
                fi
                ;;
        esac
    done <.env
    [ -z "$busy" ] || fail "these host ports are in use:$busy; free them or change them in .env"
}

load_images() {
    while IFS= read -r tag; do
        if ! docker image inspect "$tag" >/dev/null 2>&1; then
            echo "loading the images (once)"
            docker load -i images.tar >/dev/null
            return 0
        fi
    done <images.list
}

[ $# -eq 1 ] || usage
case $1 in
    up)
        find_compose
        make_secrets
        if [ -z "$(compose ps -q)" ]; then
            check_ports
        fi
        load_images
        compose up -d
        compose ps
        ;;
    down) find_compose && compose down ;;
    status) find_compose && compose ps ;;
    logs) find_compose && compose logs --tail=100 ;;
    *) usage ;;
esac
)ferry-run-sh";

image::Blob to_blob(const formats::ImageBlobRecord& record) {
    return {record.digest, record.size, record.media_type};
}

// The image of a service component as its record lists it: the manifest's blobs, in order.
image::Image image_of(const formats::ServiceRecord& service) {
    image::Image image;
    image.references = {service.image};
    image.config = to_blob(service.blobs.front());
    for (std::size_t i = 1; i < service.blobs.size(); ++i) {
        image.layers.push_back(to_blob(service.blobs[i]));
    }
    return image;
}

void write_text(const fs::path& file, std::string_view text, mode_t mode = 0644) {
    fs::create_directories(file.parent_path());
    core::write_file_atomic(file, text, mode);
}

}  // namespace

std::string_view run_script() {
    return kRunScript;
}

formats::ComposeProject compose_project(const fs::path& repository_dir, const std::string& name,
                                        std::vector<std::string>* skipped) {
    auto repository = repo::RepositoryDir::open(repository_dir);
    if (!repository) {
        throw Error::format(ErrorKind::not_found, "{}: no Updates.xml: not a repository",
                            repository_dir.string());
    }
    std::map<std::string, formats::ComposeService> by_component;
    std::map<std::string, formats::ServiceDescription> descriptions;
    for (const auto& package : repository->index().packages) {
        const std::string& component = package.component.name;
        if (!package.service) {
            if (skipped != nullptr) {
                skipped->push_back(component);
            }
            continue;
        }
        const fs::path file = repository_dir / repo::service_file_path(package);
        const auto digest = core::digest_file(file);
        if (digest.sha256 != package.service->description.sha256) {
            throw Error::format(ErrorKind::invalid_input, "{}: SHA-256 is {}, the index records {}",
                                file.string(), digest.sha256, package.service->description.sha256);
        }
        auto description = repo::read_service_file(repository_dir, package);
        descriptions.emplace(component, description);
        by_component.emplace(
            component,
            formats::ComposeService{component, std::move(description),
                                    formats::image_tag(component, package.component.version)});
    }
    if (by_component.empty()) {
        throw Error::format(ErrorKind::invalid_input,
                            "{}: has no service component, so there is nothing for Compose to run",
                            repository_dir.string());
    }
    formats::check_app_services(descriptions);
    formats::ComposeProject project{name, {}};
    for (const auto& component : formats::start_order(descriptions)) {
        project.services.push_back(std::move(by_component.at(component)));
    }
    return project;
}

ComposeExportResult write_compose_package(const fs::path& repository_dir, const fs::path& output,
                                          const ComposeExportOptions& options) {
    auto say = [&](const std::string& text) {
        if (options.say) {
            options.say(text);
        }
    };
    ComposeExportResult result;
    const auto project = compose_project(repository_dir, options.folder, &result.skipped);
    auto repository = repo::RepositoryDir::open(repository_dir);

    fs::create_directories(fs::absolute(output).parent_path());
    core::ScratchDir staging(fs::absolute(output).parent_path(),
                             "." + output.filename().string() + ".ferry-export-");
    const fs::path folder = staging.path() / options.folder;
    write_text(folder / "docker-compose.yaml", formats::write_compose(project));
    write_text(folder / ".env",
               formats::write_env_file(formats::compose_variables(project), {}, false), 0600);
    write_text(folder / "run.sh", kRunScript, 0755);
    std::string tags;
    std::vector<image::TaggedImage> images;
    for (const auto& service : project.services) {
        result.services.push_back(service.component);
        tags += service.image + "\n";
        const auto* package = repository->index().find(service.component);
        images.push_back({image_of(*package->service), service.image});
        for (const auto& volume : service.description.volumes) {
            if (volume.kind == formats::ServiceVolume::Kind::config) {
                write_text(folder / formats::config_file_path(service.description.name, volume),
                           volume.content, volume.mode);
            }
        }
    }
    write_text(folder / "images.list", tags);

    // images.tar goes straight into the package: written once, never staged.
    const image::BlobDir blobs(repository_dir / "images");
    archive::ArchiveInput images_entry;
    images_entry.entry_name = options.folder + "/images.tar";
    images_entry.size = image::docker_archive_size(images, blobs);
    images_entry.produce = [&](const core::ByteSink& sink) {
        image::write_docker_archive(images, blobs, sink);
    };
    std::set<std::string> digests;
    for (const auto& tagged : images) {
        for (const auto& layer : tagged.image.layers) {
            if (digests.insert(layer.digest).second) {
                images_entry.probe_sources.push_back(blobs.path(layer.digest));
            }
        }
    }

    say(fmt::format("packing {} ({} service(s), {:.1f} MiB of images)", output.string(),
                    images.size(), static_cast<double>(images_entry.size) / (1 << 20)));
    archive::WriteOptions write;
    write.format = options.format;
    write.level = options.level;
    write.mtime = core::reproducible_mtime();
    auto inputs = archive::collect_tree(folder, options.folder + "/");
    inputs.insert(inputs.begin(), {options.folder, folder});
    inputs.push_back(std::move(images_entry));
    archive::write_archive(output, std::move(inputs), write);
    result.bytes = fs::file_size(output);
    return result;
}

}  // namespace ferry::bundle
