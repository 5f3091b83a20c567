#include "support/market_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "support/nginx_server.hpp"
#include "support/test_support.hpp"

extern char** environ;

namespace ferry::testing {

MarketServer::MarketServer(const std::filesystem::path& ferry, const std::filesystem::path& data,
                           const std::vector<std::string>& extra)
    : log_file_(data.string() + ".serve.log") {
    port_ = free_port();
    std::vector<std::string> args = {"serve", "--data", data.string(), "--listen",
                                     "127.0.0.1:" + std::to_string(port_)};
    args.insert(args.end(), extra.begin(), extra.end());
    if (std::find(extra.begin(), extra.end(), "--tls-cert") != extra.end()) {
        scheme_ = "https";
    }
    start(ferry, args, {});
}

MarketServer::MarketServer(const std::filesystem::path& ferry, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env, int port,
                           const std::filesystem::path& log_file, const std::string& scheme)
    : log_file_(log_file), scheme_(scheme), port_(port) {
    start(ferry, args, env);
}

void MarketServer::start(const std::filesystem::path& ferry, std::vector<std::string> args,
                         const std::map<std::string, std::string>& env) {
    args.insert(args.begin(), ferry.string());
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> variables;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string variable = *e;
        if (env.count(variable.substr(0, variable.find('='))) == 0) {
            variables.push_back(variable);
        }
    }
    for (const auto& [name, value] : env) {
        variables.push_back(name + "=" + value);
    }
    std::vector<char*> envp;
    for (auto& v : variables) {
        envp.push_back(v.data());
    }
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    const int started = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (started != 0) {
        throw std::runtime_error("cannot start " + ferry.string());
    }
    if (!wait_for_port(port_, 20'000)) {
        kill_hard();
        throw std::runtime_error("ferry serve did not open port " + std::to_string(port_) + ": " +
                                 log());
    }
}

MarketServer::~MarketServer() {
    if (pid_ > 0 && stop(std::chrono::seconds(20)) == -1) {
        kill_hard();
    }
}

std::string MarketServer::log() const {
    return std::filesystem::exists(log_file_) ? read_text(log_file_) : "";
}

int MarketServer::stop(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) {
        return 0;
    }
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return status;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the child's exit
    }
    return -1;
}

void MarketServer::kill_hard() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

std::string create_token(const std::filesystem::path& ferry, const std::filesystem::path& data,
                         const std::string& role) {
    const CommandResult r =
        run({ferry.string(), "token", "create", "--data", data.string(), "--role", role});
    if (r.exit_code != 0) {
        throw std::runtime_error("ferry token create: " + r.err);
    }
    std::string token = r.out;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
        token.pop_back();
    }
    return token;
}

}  // namespace ferry::testing
