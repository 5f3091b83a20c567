#include "support/market_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <thread>

#include "support/test_support.hpp"

extern char** environ;

namespace ferry::testing {

MarketServer::MarketServer(const std::filesystem::path& ferry, const std::filesystem::path& data,
                           const std::vector<std::string>& extra)
    : log_file_(data.string() + ".serve.log") {
    // Port 0: the server binds a free port itself and names it on its start line, so no other
    // test can take the port between a probe and the bind.
    std::vector<std::string> args = {"serve", "--data", data.string(), "--listen", "127.0.0.1:0"};
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
    // A restarted server appends to the same log: its start line is the first one after this.
    std::error_code ec;
    const std::uintmax_t earlier_log = std::filesystem::file_size(log_file_, ec);
    const std::size_t log_start = ec ? 0 : earlier_log;
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
    port_ = wait_for_start_line(log_start, std::chrono::seconds(20));
}

int MarketServer::wait_for_start_line(std::size_t log_start, std::chrono::milliseconds timeout) {
    // "ferry serve: http://127.0.0.1:PORT serving DIR ...", printed once the socket listens
    // (connections queue from then on).
    static const std::regex start_line(R"(ferry serve: https?://\S+:([0-9]+) serving )");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::string text = log();
        std::smatch match;
        if (text.size() > log_start &&
            std::regex_search(text.cbegin() + static_cast<std::ptrdiff_t>(log_start), text.cend(),
                              match, start_line)) {
            return std::stoi(match[1].str());
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("ferry serve exited before it listened: " + text);
        }
        ::poll(nullptr, 0, 10);  // the log is a file: look again shortly, within the deadline
    }
    kill_hard();
    throw std::runtime_error("ferry serve printed no start line in time: " + log());
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
