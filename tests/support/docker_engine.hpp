// The Docker engine of the tests: one dockerd per test run, shared by every test process. The
// CTest fixture `docker_engine` starts it (test docker_engine_start) and stops it and removes its
// folders (docker_engine_stop); a test that needs it has FIXTURES_REQUIRED docker_engine and
// DOCKER_HOST=unix://<build>/tests/docker/docker.sock in its environment (tests/CMakeLists.txt
// does both for tests/docker/*_test.cpp, label `docker`).
//
// The engine runs beside whatever other engines the machine has: its own data, exec and
// containerd folders, no default bridge and no iptables rules. Containers join the network
// kDockerNetwork (a bridge the engine creates, on a subnet no other interface uses), whose
// published ports docker-proxy answers on 127.0.0.1.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace ferry::testing {

// Debian's client (20.10), the one the tests rely on.
inline constexpr const char* kDockerClient = "/usr/bin/docker";
// The user-defined bridge network every test container joins (`docker run --network ...`).
inline constexpr const char* kDockerNetwork = "ferry-test";

// DOCKER_HOST of the test's environment; a test failure (and "") when it is not set, so that no
// test ever talks to a machine's own engine by accident.
std::string docker_host();

// Runs kDockerClient with args against the tests' engine (-H docker_host()).
CommandResult docker(const std::vector<std::string>& args, const fs::path& cwd = {});

// Starts dockerd in dir (data/, exec/, docker.sock, dockerd.pid, dockerd.log), daemonised, and
// returns once `docker info` answers on its socket and kDockerNetwork exists. An engine left
// running in dir by an earlier run is stopped first. Throws std::runtime_error with the tail of
// dockerd.log when dockerd exits or does not answer within two minutes.
void start_docker_engine(const fs::path& dir);
// Stops the engine of dir (SIGTERM, then SIGKILL after a minute), unmounts what it left mounted
// below dir and removes dir.
void stop_docker_engine(const fs::path& dir);

// Builds the image reference ("ferry-test/web:1") from busybox-static, with nothing pulled: a
// root file system holding /bin/busybox, /bin/sh → busybox, and files (path below the root →
// content), imported with `docker import -c 'CMD <cmd as JSON>'`. Throws std::runtime_error with
// docker's output when it fails.
void build_busybox_image(const std::string& reference,
                         const std::map<std::string, std::string>& files,
                         const std::vector<std::string>& cmd);

}  // namespace ferry::testing
