// Shared by the client's fault tests: the installation as a user sees it, a ferry process in
// the background, and the ClientFaults fixture (two versions of a package, published and
// installed, and the checks every fault test ends with).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>
#include <tuple>

#include <archive.h>
#include <archive_entry.h>

#include "core/hash.hpp"
#include "e2e/e2e_support.hpp"
#include "formats/components_xml.hpp"
#include "support/nginx_server.hpp"

extern char** environ;

namespace ferry::testing {

using Files = std::map<std::string, std::string>;

constexpr int kKilled = 128 + SIGKILL;  // how run() reports a death by SIGKILL

// The installation as a user sees it: every file of the target, the state included, but not
// the lock (it holds the last pid) nor the download cache (a failed update may fill it).
inline Files installation_state(const fs::path& target) {
    Files files = snapshot_tree(target);
    std::erase_if(files, [](const auto& item) {
        return item.first == ".ferry/lock" || item.first.starts_with(".ferry/downloads/") ||
               item.first.starts_with(".ferry/cache/");
    });
    return files;
}

// The access log's lines for one path: "METHOD /path" followed by the status.
inline std::vector<std::string> requests_for(const NginxServer& server, const std::string& path) {
    std::vector<std::string> lines;
    std::istringstream log(read_text(server.access_log()));
    for (std::string line; std::getline(log, line);) {
        if (line.find(" " + path + " HTTP/") != std::string::npos) {
            lines.push_back(line);
        }
    }
    return lines;
}

// The version components.xml gives a component; empty when it is not installed.
inline std::string recorded_version(const fs::path& target, const std::string& name) {
    const auto installed =
        formats::parse_components_xml(read_text(target / "components.xml"), "components.xml");
    const auto* entry = installed.find(name);
    return entry != nullptr ? entry->version : "";
}

// A ferry process in the background (output to files), for tests that act while it runs.
class Background {
  public:
    explicit Background(std::vector<std::string> argv, const fs::path& output) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, (output.string() + ".out").c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, (output.string() + ".err").c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::vector<char*> args;
        for (auto& a : argv) {
            args.push_back(a.data());
        }
        args.push_back(nullptr);
        const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            pid_ = -1;
        }
    }
    ~Background() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    bool started() const { return pid_ > 0; }
    bool running() {
        if (pid_ <= 0) {
            return false;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            status_ = status;
            return false;
        }
        return true;
    }
    void send(int signal_number) {
        if (pid_ > 0) {
            ::kill(pid_, signal_number);
        }
    }
    // The wait status once running() has returned false.
    int status() const { return status_; }
    // Kills with SIGKILL and returns the wait status.
    int kill_and_wait() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
        }
        return wait();
    }

  private:
    int wait() {
        if (pid_ > 0) {
            ::waitpid(pid_, &status_, 0);
            pid_ = -1;
        }
        return status_;
    }
    pid_t pid_ = -1;
    int status_ = 0;
};

class ClientFaults : public FerryTest {
  protected:
    fs::path packages() const { return root() / "packages"; }
    fs::path repo() const { return root() / "repo"; }
    fs::path target() const { return root() / "target"; }
    std::string repo_url() const { return "file://" + repo().string(); }

    // (Re)generates repo from packages.
    void publish() {
        std::vector<std::string> args{"repogen", "-p", packages().string()};
        if (fs::exists(repo())) {
            args.push_back("-r");
        }
        args.push_back(repo().string());
        auto r = ferry(args);
        ASSERT_EQ(r.exit_code, 0) << describe(r);
    }

    // Replaces the package name in packages with this version and files.
    void set_package(const std::string& name, const std::string& version, const Files& files) {
        fs::remove_all(packages() / name);
        make_package(packages(), name, version, files);
    }

    void install(const std::string& url, const std::vector<std::string>& names) {
        std::vector<std::string> args{"install", "--root", target().string(), "--repo", url};
        args.insert(args.end(), names.begin(), names.end());
        auto r = ferry(args);
        ASSERT_EQ(r.exit_code, 0) << describe(r);
    }

    // The target's only repository becomes url.
    void point_target_at(const std::string& url) {
        auto r = ferry({"repos", "remove", "--root", target().string(), repo_url()});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        r = ferry({"repos", "add", "--root", target().string(), url});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
    }

    void expect_verifies(const fs::path& target) {
        auto r = ferry({"verify", "--root", target.string()});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
    }

    void expect_no_staging_left(const fs::path& target) {
        const fs::path staging = target / ".ferry/staging";
        EXPECT_TRUE(!fs::exists(staging) || fs::is_empty(staging))
            << "staging left: " << fs::begin(fs::directory_iterator(staging))->path();
    }

    // Every file of one version (mine) is there with its content, and no file that only the
    // other version has.
    void expect_files_of(const fs::path& target, const Files& mine, const Files& other,
                         const std::string& label) {
        for (const auto& [file, content] : mine) {
            ASSERT_TRUE(fs::exists(target / file)) << label << ": " << file << " is missing";
            EXPECT_EQ(read_text(target / file), content) << label << ": " << file;
        }
        for (const auto& [file, content] : other) {
            if (mine.count(file) == 0) {
                EXPECT_FALSE(fs::exists(target / file)) << label << ": " << file << " is left";
            }
        }
    }

    const Files v1_{{"readme.txt", "readme 1.0\n"}, {"tool.sh", "echo 1.0\n"}};
    const Files v2_{{"readme.txt", "readme 2.0\n"}, {"tool.sh", "echo 2.0\n"}};
};

}  // namespace ferry::testing
