#include "support/market_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "support/nginx_server.hpp"
#include "support/test_support.hpp"

extern char** environ;

namespace ferry::testing {

MarketServer::MarketServer(const std::filesystem::path& ferry, const std::filesystem::path& data,
                           const std::vector<std::string>& extra)
    : log_file_(data.string() + ".serve.log") {
    port_ = free_port();
    std::vector<std::string> args = {ferry.string(), "serve",
                                     "--data",       data.string(),
                                     "--listen",     "127.0.0.1:" + std::to_string(port_)};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    const int started = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (started != 0) {
        throw std::runtime_error("cannot start " + ferry.string());
    }
    if (!wait_for_port(port_, 20'000)) {
        stop(SIGKILL);
        throw std::runtime_error("ferry serve did not open port " + std::to_string(port_) + ": " +
                                 log());
    }
}

MarketServer::~MarketServer() {
    stop(SIGTERM);
}

std::string MarketServer::log() const {
    return std::filesystem::exists(log_file_) ? read_text(log_file_) : "";
}

int MarketServer::stop(int signal_number) {
    if (pid_ <= 0) {
        return 0;
    }
    ::kill(pid_, signal_number);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
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
