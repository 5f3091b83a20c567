#include "support/docker_engine.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "archive/archive.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"

namespace ferry::testing {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kDockerd = "/usr/sbin/dockerd";

std::string socket_url(const fs::path& dir) {
    return "unix://" + (dir / "docker.sock").string();
}

std::string log_tail(const fs::path& dir) {
    std::ifstream in(dir / "dockerd.log");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    std::string tail;
    for (std::size_t i = lines.size() > 30 ? lines.size() - 30 : 0; i < lines.size(); ++i) {
        tail += "    " + lines[i] + "\n";
    }
    return tail.empty() ? "    (dockerd.log is empty)\n" : tail;
}

pid_t read_pid(const fs::path& file) {
    std::ifstream in(file);
    pid_t pid = 0;
    in >> pid;
    return pid;
}

bool alive(pid_t pid) {
    return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

// dockerd in a session of its own, its parent gone, so that it outlives the setup test and CTest
// does not wait for it (its output goes to dockerd.log, never to the test's pipes).
pid_t launch(const std::vector<std::string>& argv, const fs::path& log) {
    int pid_pipe[2];
    if (::pipe2(pid_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    const pid_t first = ::fork();
    if (first < 0) {
        throw std::runtime_error("fork failed");
    }
    if (first == 0) {
        ::setsid();
        const pid_t daemon = ::fork();
        if (daemon == 0) {
            const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            const int in = ::open("/dev/null", O_RDONLY);
            ::dup2(in, 0);
            ::dup2(out, 1);
            ::dup2(out, 2);
            std::vector<char*> args;
            for (const std::string& a : argv) {
                args.push_back(const_cast<char*>(a.c_str()));
            }
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        (void)!::write(pid_pipe[1], &daemon, sizeof daemon);
        ::_exit(0);
    }
    ::close(pid_pipe[1]);
    pid_t daemon = -1;
    (void)!::read(pid_pipe[0], &daemon, sizeof daemon);
    ::close(pid_pipe[0]);
    ::waitpid(first, nullptr, 0);
    return daemon;
}

// Mount points below dir, deepest first (from /proc/self/mountinfo).
std::vector<std::string> mounts_below(const fs::path& dir) {
    std::ifstream in("/proc/self/mountinfo");
    std::vector<std::string> mounts;
    const std::string prefix = dir.string() + "/";
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, point;
        fields >> id >> parent >> device >> root >> point;
        if (point.starts_with(prefix)) {
            mounts.push_back(point);
        }
    }
    std::sort(mounts.begin(), mounts.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    return mounts;
}

CommandResult docker_at(const fs::path& dir, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kDockerClient, "-H", socket_url(dir)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

// The network's bridge interface, named after dir: it outlives dockerd when dockerd dies with
// the network in place, and a name of our own lets the next run find it (at most 15 bytes).
std::string bridge_name(const fs::path& dir) {
    return "ferry-" + core::sha256_hex(dir.string()).substr(0, 8);
}

void remove_bridge(const fs::path& dir) {
    if (fs::exists("/sys/class/net/" + bridge_name(dir))) {
        run({"/usr/sbin/ip", "link", "delete", bridge_name(dir)});
    }
}

}  // namespace

std::string docker_host() {
    const char* host = std::getenv("DOCKER_HOST");
    if (host == nullptr || *host == '\0') {
        ADD_FAILURE() << "DOCKER_HOST is not set: docker tests run under CTest's docker_engine "
                         "fixture (ctest -L docker), which starts the tests' own engine";
        return {};
    }
    return host;
}

CommandResult docker(const std::vector<std::string>& args, const fs::path& cwd) {
    std::vector<std::string> argv = {kDockerClient, "-H", docker_host()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {}, cwd);
}

void start_docker_engine(const fs::path& dir) {
    if (alive(read_pid(dir / "dockerd.pid"))) {
        stop_docker_engine(dir);
    }
    fs::create_directories(dir / "data");
    fs::create_directories(dir / "exec");
    fs::remove(dir / "dockerd.log");
    fs::remove(dir / "docker.sock");
    const pid_t pid = launch(
        {kDockerd, "--data-root", (dir / "data").string(), "--exec-root", (dir / "exec").string(),
         "-H", socket_url(dir), "--pidfile", (dir / "dockerd.pid").string(), "--bridge", "none",
         "--iptables=false", "--ip-masq=false"},
        dir / "dockerd.log");
    const auto deadline = Clock::now() + 120s;
    while (true) {
        if (!alive(pid)) {
            throw std::runtime_error("dockerd exited while starting; the end of " +
                                     (dir / "dockerd.log").string() + ":\n" + log_tail(dir));
        }
        if (fs::exists(dir / "docker.sock") &&
            docker_at(dir, {"info", "--format", "{{.ServerVersion}}"}).exit_code == 0) {
            break;
        }
        if (Clock::now() > deadline) {
            throw std::runtime_error("dockerd does not answer on " + socket_url(dir) +
                                     " after two minutes; the end of its log:\n" + log_tail(dir));
        }
        std::this_thread::sleep_for(100ms);
    }
    if (docker_at(dir, {"network", "inspect", kDockerNetwork}).exit_code != 0) {
        remove_bridge(dir);
        const CommandResult created =
            docker_at(dir, {"network", "create", "-o",
                            "com.docker.network.bridge.name=" + bridge_name(dir), kDockerNetwork});
        if (created.exit_code != 0) {
            throw std::runtime_error("docker network create " + std::string(kDockerNetwork) +
                                     " failed: " + created.err + "\n" + log_tail(dir));
        }
    }
}

void stop_docker_engine(const fs::path& dir) {
    const pid_t pid = read_pid(dir / "dockerd.pid");
    if (alive(pid)) {
        // Containers and the network go first, so that no interface stays behind.
        const CommandResult containers = docker_at(dir, {"ps", "-aq"});
        std::istringstream ids(containers.out);
        for (std::string id; ids >> id;) {
            docker_at(dir, {"rm", "-f", id});
        }
        docker_at(dir, {"network", "rm", kDockerNetwork});
        ::kill(pid, SIGTERM);
        const auto deadline = Clock::now() + 60s;
        while (alive(pid) && Clock::now() < deadline) {
            std::this_thread::sleep_for(100ms);
        }
        if (alive(pid)) {
            ::kill(pid, SIGKILL);
            while (alive(pid)) {
                std::this_thread::sleep_for(100ms);
            }
        }
    }
    remove_bridge(dir);
    for (const std::string& point : mounts_below(dir)) {
        ::umount2(point.c_str(), MNT_DETACH);
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) {
        throw std::runtime_error("cannot remove " + dir.string() + ": " + ec.message());
    }
}

void build_busybox_image(const std::string& reference,
                         const std::map<std::string, std::string>& files,
                         const std::vector<std::string>& cmd) {
    core::ScratchDir scratch;
    const fs::path root = scratch.path() / "root";
    fs::create_directories(root / "bin");
    fs::copy_file("/bin/busybox", root / "bin" / "busybox");
    fs::permissions(root / "bin" / "busybox", fs::perms(0755));
    fs::create_symlink("busybox", root / "bin" / "sh");
    for (const auto& [path, content] : files) {
        write_text(root / path, content);
    }
    const fs::path tarball = scratch.path() / "rootfs.tar";
    archive::write_archive(tarball, archive::collect_tree(root, ""),
                           {.format = archive::ArchiveFormat::tar, .level = 0, .mtime = 0});
    const CommandResult imported =
        docker({"import", "-c", "CMD " + nlohmann::json(cmd).dump(), tarball.string(), reference});
    if (imported.exit_code != 0) {
        throw std::runtime_error("docker import " + reference + " failed: " + imported.err);
    }
}

}  // namespace ferry::testing
