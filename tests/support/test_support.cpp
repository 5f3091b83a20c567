#include "support/test_support.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.hpp"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

extern char** environ;

namespace ferry::testing {

void write_text(const fs::path& path, const std::string& content) {
    if (path.has_parent_path()) {
        fs::create_directories(path.parent_path());
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

std::string read_text(const fs::path& path) {
    return core::read_file(path, 1u << 30);
}

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937_64 engine(seed);
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; i += 8) {
        std::uint64_t value = engine();
        std::memcpy(data.data() + i, &value, std::min<std::size_t>(8, size - i));
    }
    return data;
}

CommandResult run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, const fs::path& cwd) {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string entry = *e;
        std::string key = entry.substr(0, entry.find('='));
        if (!env.contains(key)) {
            env_strings.push_back(entry);
        }
    }
    for (const auto& [key, value] : env) {
        env_strings.push_back(key + "=" + value);
    }
    std::vector<char*> env_pointers;
    for (auto& s : env_strings) {
        env_pointers.push_back(s.data());
    }
    env_pointers.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> arg_pointers;
    for (auto& a : args) {
        arg_pointers.push_back(a.data());
    }
    arg_pointers.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (!cwd.empty()) {
        posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    }
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, args[0].c_str(), &actions, nullptr, arg_pointers.data(),
                           env_pointers.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
    }
    CommandResult result;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_count = 2;
    while (open_count > 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                char buffer[8192];
                ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
                if (n > 0) {
                    sinks[i]->append(buffer, static_cast<std::size_t>(n));
                } else {
                    ::close(fds[i].fd);
                    fds[i].fd = -1;
                    --open_count;
                }
            }
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

void expect_matches_golden(const std::string& file, const std::string& actual) {
    const fs::path path = fs::path(FERRY_TEST_DATA) / "golden" / file;
    const char* update = std::getenv("FERRY_UPDATE_GOLDEN");
    if (update != nullptr && std::string(update) == "1") {
        write_text(path, actual);
        return;
    }
    ASSERT_TRUE(fs::exists(path)) << path << " is missing; run with FERRY_UPDATE_GOLDEN=1";
    EXPECT_EQ(actual, read_text(path))
        << "output differs from " << path << "; run with FERRY_UPDATE_GOLDEN=1 to accept it";
}

std::map<std::string, std::string> snapshot_tree(const fs::path& root) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (entry.is_symlink()) {
            files[fs::relative(entry.path(), root).generic_string()] =
                "-> " + fs::read_symlink(entry.path()).string();
        } else if (entry.is_regular_file()) {
            files[fs::relative(entry.path(), root).generic_string()] = read_text(entry.path());
        }
    }
    return files;
}

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected an error";
    return {};
}

SilentListener::SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        throw std::runtime_error("cannot listen on loopback");
    }
    port_ = ntohs(address.sin_port);
}

SilentListener::~SilentListener() {
    ::close(fd_);
}

}  // namespace ferry::testing
