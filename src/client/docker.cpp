#include "client/docker.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/process.hpp"

namespace ferry::client {

namespace {

std::string last_lines(const std::string& output) {
    std::string text = output;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    constexpr std::size_t kShown = 2000;
    return text.size() > kShown ? "..." + text.substr(text.size() - kShown) : text;
}

std::string run_checked(const std::vector<std::string>& argv) {
    const auto result = core::run_process(argv);
    if (!result.ok()) {
        throw Error::format(ErrorKind::upstream, "`{}` failed (exit {}): {}", fmt::join(argv, " "),
                            result.exit_code, last_lines(result.output));
    }
    return result.output;
}

}  // namespace

std::optional<DockerEngine> DockerEngine::find(std::string& missing) {
    if (!core::find_program("docker")) {
        missing = fmt::format("Docker is not installed: {}", kInstallDocker);
        return std::nullopt;
    }
    const auto info = core::run_process({"docker", "info", "--format", "{{.ServerVersion}}"});
    if (!info.ok()) {
        missing = fmt::format("Docker's daemon does not answer ({}): {}", last_lines(info.output),
                              kInstallDocker);
        return std::nullopt;
    }
    DockerEngine engine;
    if (core::run_process({"docker", "compose", "version"}).ok()) {
        engine.compose_ = {"docker", "compose"};
    } else if (core::find_program("docker-compose")) {
        engine.compose_ = {"docker-compose"};
    } else {
        missing = fmt::format("Docker Compose is not installed: {}", kInstallDocker);
        return std::nullopt;
    }
    return engine;
}

bool DockerEngine::has_image(const std::string& tag) const {
    return core::run_process({"docker", "image", "inspect", tag}).ok();
}

void DockerEngine::load(const std::vector<image::TaggedImage>& images,
                        const image::BlobDir& blobs) const {
    const auto result = core::run_process(
        {"docker", "load"}, [&](int fd) { image::write_docker_archive(images, blobs, fd); });
    if (!result.ok()) {
        throw Error::format(ErrorKind::upstream, "`docker load` failed (exit {}): {}",
                            result.exit_code, last_lines(result.output));
    }
}

std::string DockerEngine::compose(const fs::path& dir, const std::vector<std::string>& args) const {
    std::vector<std::string> argv = compose_;
    for (const std::string& option : {std::string("--project-directory"), dir.string(),
                                      std::string("-f"), (dir / "docker-compose.yaml").string()}) {
        argv.push_back(option);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return run_checked(argv);
}

std::string DockerEngine::docker(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"docker"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_checked(argv);
}

}  // namespace ferry::client
