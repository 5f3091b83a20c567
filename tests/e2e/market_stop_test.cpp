// End-to-end: how `ferry serve` ends and who may run it: a stop lets the uploads in flight finish
// within its grace period, then cuts the stalled ones and removes their temporary files; one
// server per data directory; a full disk during an upload is the server's failure (507), not the
// client's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "e2e/market_support.hpp"
#include "support/nginx_server.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// Opens a connection and sends an upload of body to the blob store, stopping after `sent` bytes
// of the body; the connection's descriptor (-1 on failure).
int start_upload(int port, const std::string& token, const std::string& body, std::size_t sent) {
    const int fd = open_connection(port);
    if (fd < 0) {
        return -1;
    }
    const std::string head = "PUT /api/v1/blobs/" + sha256_of(body) +
                             " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                             body.substr(0, sent);
    if (::send(fd, head.data(), head.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(head.size())) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Sends the rest and reads the answer until the server closes the connection.
std::string finish_upload(int fd, const std::string& rest) {
    std::string answer;
    if (::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(rest.size())) {
        char buffer[4096];
        for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
            answer.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return answer;
}

TEST_F(Market, AStopLetsUploadsFinishWithinTheGracePeriodThenCutsTheStalledOnes) {
    start({"--stop-grace", "2"});
    const std::string stalled = random_bytes(300000, 1);
    const std::string finishing = random_bytes(300000, 2);
    const int stalled_fd = start_upload(server().port(), token_, stalled, 100000);
    const int finishing_fd = start_upload(server().port(), token_, finishing, 100000);
    ASSERT_GE(stalled_fd, 0);
    ASSERT_GE(finishing_fd, 0);
    ASSERT_TRUE(wait_until([&] { return files_below(data() / "uploads").size() == 2; }))
        << "the uploads did not start: "
        << ::testing::PrintToString(files_below(data() / "uploads"));

    const auto stopped_at = std::chrono::steady_clock::now();
    ASSERT_EQ(::kill(server().pid(), SIGTERM), 0);
    // Within the grace period, an upload in flight is taken in full.
    const std::string answer = finish_upload(finishing_fd, finishing.substr(100000));
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 201")) << answer;
    // The stalled one is cut once the grace period is over, and the server exits.
    const int status = server().stop(std::chrono::seconds(15));
    const auto took = std::chrono::steady_clock::now() - stopped_at;
    ::close(stalled_fd);
    ASSERT_NE(status, -1) << "ferry serve did not exit within 15 s of SIGTERM\n" << server().log();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    EXPECT_GE(took, std::chrono::milliseconds(1900)) << "the stalled upload had no grace period";
    EXPECT_LT(took, std::chrono::seconds(6));
    EXPECT_THAT(server().log(), HasSubstr("grace period"));
    EXPECT_THAT(files_below(data() / "uploads"), IsEmpty()) << "a cut upload left its file";
    EXPECT_THAT(blob_names(data()), ::testing::Contains(sha256_of(finishing)));
    EXPECT_THAT(blob_names(data()), ::testing::Not(::testing::Contains(sha256_of(stalled))));
}

TEST_F(Market, ASecondServerOnTheSameDataDirectoryIsRefusedNamingTheFirst) {
    start();
    // timeout(1): a second server that is not refused would otherwise run on.
    const CommandResult second =
        run({"/usr/bin/timeout", "20", FERRY_BINARY, "serve", "--data", data().string(), "--listen",
             "127.0.0.1:" + std::to_string(free_port())});
    EXPECT_EQ(second.exit_code, 1) << testing::describe(second);
    EXPECT_THAT(second.err,
                HasSubstr("another ferry serve (pid " + std::to_string(server().pid()) + ")"));
    EXPECT_THAT(second.err, HasSubstr(data().string()));
    EXPECT_EQ(get("/api/v1/health").status, 200) << "the first server was disturbed";
    // The lock dies with its holder: a server killed -9 leaves none behind.
    server().kill_hard();
    start();
    EXPECT_EQ(get("/api/v1/health").status, 200);
}

TEST_F(Market, AFullDiskDuringAnUploadIs507NamingTheDeviceAndKeepsNothing) {
    const fs::path uploads = data() / "uploads";
    fs::create_directories(uploads);
    if (::mount("tmpfs", uploads.c_str(), "tmpfs", 0, "size=1m") != 0) {
        GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    }
    struct Unmount {
        fs::path at;
        ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
    } unmount{uploads};
    start();
    const std::string blob = random_bytes(3u << 20, 3);
    const Answer full = request("PUT", "/api/v1/blobs/" + sha256_of(blob), blob, token_);
    expect_error(full, 507, "No space left on device");
    EXPECT_THAT(full.json()["error"].value("message", ""), HasSubstr(uploads.string()));
    EXPECT_THAT(files_below(uploads), IsEmpty()) << "the failed upload left its file";
    EXPECT_THAT(blob_names(data()), IsEmpty());
    EXPECT_EQ(get("/api/v1/health").status, 200);
}

}  // namespace
}  // namespace ferry::testing
