// A real `ferry serve` on a free loopback port for the duration of a test, over a data
// directory that outlives it (so that a test can stop, kill -9 and restart the market).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ferry::testing {

class MarketServer {
  public:
    // Starts `ferry serve --data data --listen 127.0.0.1:0` with the extra arguments and returns
    // once it listens, on the port its start line names. With --tls-cert among them, url() is
    // https.
    MarketServer(const std::filesystem::path& ferry, const std::filesystem::path& data,
                 const std::vector<std::string>& extra = {});
    // Starts `ferry serve` with exactly these arguments and these variables added to the
    // environment, for tests of where it takes its options from (a config file, the
    // environment); returns once it listens, port() being the one its start line names (the
    // arguments may say 127.0.0.1:0). The log goes to log_file.
    MarketServer(const std::filesystem::path& ferry, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env, int port,
                 const std::filesystem::path& log_file, const std::string& scheme = "http");
    // SIGTERM and a bounded wait, then kill -9 if it is still there.
    ~MarketServer();
    MarketServer(const MarketServer&) = delete;
    MarketServer& operator=(const MarketServer&) = delete;

    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    // http://127.0.0.1:<port><path>, or https:// when it serves TLS.
    std::string url(const std::string& path = "") const {
        return scheme_ + "://127.0.0.1:" + std::to_string(port_) + path;
    }
    // The server's stderr (its start line and request log).
    std::string log() const;

    // SIGTERM, then waits at most timeout: the wait status, or -1 when it did not exit in time.
    int stop(std::chrono::milliseconds timeout);
    // kill -9, as a crash would.
    void kill_hard();

  private:
    // The port named by the server's start line, the first one after log_start bytes of its log.
    int wait_for_start_line(std::size_t log_start, std::chrono::milliseconds timeout);
    void start(const std::filesystem::path& ferry, std::vector<std::string> args,
               const std::map<std::string, std::string>& env);

    std::filesystem::path log_file_;
    std::string scheme_ = "http";
    int port_ = 0;
    pid_t pid_ = -1;
};

// A publish token for the market's data directory (`ferry token create`).
std::string create_token(const std::filesystem::path& ferry, const std::filesystem::path& data,
                         const std::string& role = "publish");

}  // namespace ferry::testing
