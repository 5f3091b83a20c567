// Shared by the market's end-to-end tests: a real `ferry serve` on a free port (the Market
// fixture), raw HTTP exchanges and helpers that read the data directory as a user would.
#pragma once

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/hash.hpp"
#include "e2e/e2e_support.hpp"
#include "formats/updates_xml.hpp"
#include "support/market_server.hpp"

namespace ferry::testing {

using Json = nlohmann::json;

constexpr const char* kApp = "com.test.app";

struct Answer {
    int status = 0;  // 0: no answer
    std::string body;
    Json json() const { return Json::parse(body, nullptr, false); }
};

inline std::string describe(const Answer& a) {
    return "HTTP " + std::to_string(a.status) + "\n" + a.body;
}

// The names of the blobs in a data directory's store.
inline std::set<std::string> blob_names(const fs::path& data) {
    std::set<std::string> names;
    if (fs::exists(data / "blobs")) {
        for (const auto& entry : fs::recursive_directory_iterator(data / "blobs")) {
            if (entry.is_regular_file()) {
                names.insert(entry.path().filename().string());
            }
        }
    }
    return names;
}

// Every file below dir (relative, '/'-separated).
inline std::set<std::string> files_below(const fs::path& dir) {
    std::set<std::string> files;
    if (fs::exists(dir)) {
        for (const auto& entry : fs::recursive_directory_iterator(dir)) {
            if (!entry.is_directory()) {
                files.insert(entry.path().lexically_relative(dir).generic_string());
            }
        }
    }
    return files;
}

// The files of repository dir that are hard links to file.
inline std::vector<std::string> links_to(const fs::path& dir, const fs::path& file) {
    struct stat target {};
    std::vector<std::string> names;
    if (::stat(file.c_str(), &target) != 0) {
        return names;
    }
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        struct stat st {};
        if (entry.is_regular_file() && ::stat(entry.path().c_str(), &st) == 0 &&
            st.st_ino == target.st_ino && st.st_dev == target.st_dev) {
            names.push_back(entry.path().lexically_relative(dir).generic_string());
        }
    }
    return names;
}

inline std::string sha256_of(const std::string& bytes) {
    core::Hasher hasher(core::HashKind::sha256);
    hasher.update(bytes);
    return hasher.hex_digest();
}

// A TCP connection to 127.0.0.1:port (-1 when it cannot connect).
inline int open_connection(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Sends text as is on a new connection (then ends the sending side when half_close) and returns
// everything the server answers until it closes the connection.
inline std::string raw_exchange(int port, const std::string& text, bool half_close = false) {
    const int fd = open_connection(port);
    std::string answer;
    if (fd < 0) {
        return answer;
    }
    if (::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size())) {
        if (half_close) {
            ::shutdown(fd, SHUT_WR);
        }
        char buffer[4096];
        for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
            answer.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return answer;
}

// Polls done() until it holds or the deadline passes; whether it held.
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling, bounded above
    }
    return true;
}

class Market : public FerryTest {
  protected:
    fs::path data() const { return root() / "data"; }
    fs::path packages() const { return root() / "packages"; }
    fs::path repository() const { return data() / "repo" / kApp / "1"; }

    void start(std::vector<std::string> extra = {}) {
        server_.reset();
        server_ = std::make_unique<MarketServer>(FERRY_BINARY, data(), extra);
    }
    MarketServer& server() const { return *server_; }

    std::string create_token(const std::string& role) {
        return testing::create_token(FERRY_BINARY, data(), role);
    }

    // Three default components at 1.0: com.test.a, com.test.b and com.test.c.
    void write_three(const fs::path& dir) const {
        for (const std::string name : {"a", "b", "c"}) {
            write_component(dir, name, "1.0", name + " 1.0\n");
        }
    }
    // com.test.NAME at version, with NAME.txt holding content, replacing an earlier one.
    static void write_component(const fs::path& dir, const std::string& name,
                                const std::string& version, const std::string& content) {
        fs::remove_all(dir / ("com.test." + name));
        make_package(dir, "com.test." + name, version, {{name + ".txt", content}},
                     " <Default>true</Default>\n");
    }

    CommandResult publish(const fs::path& dir, const std::string& major,
                          std::vector<std::string> extra = {}) const {
        std::vector<std::string> args = {"publish", dir.string(), "--server",  server_->url(),
                                         "--app",   kApp,         "--version", major,
                                         "--token", token_,       "--json"};
        args.insert(args.end(), extra.begin(), extra.end());
        return ferry(args);
    }
    // Publishes and returns the --json answer (a test failure when it does not succeed).
    Json published(const fs::path& dir, const std::string& major,
                   std::vector<std::string> extra = {}) const {
        const CommandResult r = publish(dir, major, extra);
        EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
        return Json::parse(r.out, nullptr, false);
    }

    Answer request(const std::string& method, const std::string& path, const std::string& body = "",
                   const std::string& token = "") const {
        httplib::Client client("127.0.0.1", server_->port());
        client.set_read_timeout(30, 0);
        httplib::Headers headers;
        if (!token.empty()) {
            headers.emplace("Authorization", "Bearer " + token);
        }
        httplib::Result result =
            method == "GET"    ? client.Get(path.c_str(), headers)
            : method == "POST" ? client.Post(path.c_str(), headers, body, "application/json")
            : method == "DELETE"
                ? client.Delete(path.c_str(), headers)
                : client.Put(path.c_str(), headers, body, "application/octet-stream");
        if (!result) {
            return {};
        }
        return {result->status, result->body};
    }
    Answer get(const std::string& path, const std::string& token = "") const {
        return request("GET", path, "", token);
    }

    // GET /api/v1/apps/KEY/versions/MAJOR: component name -> version.
    std::map<std::string, std::string> component_versions(const std::string& major) const {
        const Json body = get("/api/v1/apps/" + std::string(kApp) + "/versions/" + major).json();
        std::map<std::string, std::string> versions;
        for (const auto& c : body.value("components", Json::array())) {
            versions[c.at("name").get<std::string>()] = c.at("version").get<std::string>();
        }
        return versions;
    }
    int latest_revision(const std::string& major) const {
        const Answer a = get("/api/v1/apps/" + std::string(kApp) + "/versions/" + major);
        return a.status == 200 ? a.json().value("revision", -1) : 0;
    }

    // Expects an API error: that status and {"error":{"status","message"}} naming what.
    static void expect_error(const Answer& a, int status, const std::string& says) {
        EXPECT_EQ(a.status, status) << describe(a);
        const Json body = a.json();
        ASSERT_TRUE(body.is_object() && body.contains("error")) << describe(a);
        EXPECT_EQ(body["error"].value("status", 0), status) << describe(a);
        EXPECT_THAT(body["error"].value("message", ""), ::testing::HasSubstr(says)) << describe(a);
    }

    void SetUp() override {
        token_ = create_token("publish");
        ASSERT_THAT(token_, ::testing::HasSubstr("ferry_"));
    }

    std::string token_;

  private:
    std::unique_ptr<MarketServer> server_;
};

}  // namespace ferry::testing
