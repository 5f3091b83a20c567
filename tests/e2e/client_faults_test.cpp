// End-to-end: the client under faults of the repository and the network: corrupt data,
// killed downloads, failing or silent servers, malformed indexes and redirect loops. Each test
// checks what a user would: the exit code, an error naming the input and the cause, an
// installation exactly as before, and `ferry verify` passing afterwards.
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/client_faults_support.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;

// --- Corrupt data in the repository: fetched once more, then refused; nothing changes. ---

void flip_bytes(const fs::path& file) {
    std::string data = read_text(file);
    for (std::size_t i = data.size() / 2; i < data.size() / 2 + 8 && i < data.size(); ++i) {
        data[i] = static_cast<char>(data[i] ^ 0xff);
    }
    write_text(file, data);
}

class ClientFaultsArchive : public ClientFaults {
  protected:
    // v1 installed from nginx, v2 published, changed by damage; the update must fail after one
    // more download of the archive and leave the installation as it was.
    void expect_refused(const std::function<void(const fs::path& archive)>& damage,
                        const std::string& cause) {
        set_package("com.x", "1.0", v1_);
        publish();
        NginxServer server(repo());
        install(server.url(), {"com.x"});
        set_package("com.x", "2.0", v2_);
        publish();
        const fs::path archive = repo() / "com.x" / "2.0content.7z";
        ASSERT_TRUE(fs::exists(archive));
        damage(archive);
        const Files before = installation_state(target());

        auto r = ferry({"update", "--root", target().string()});
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_THAT(r.err, HasSubstr(server.url()));
        EXPECT_THAT(r.err, HasSubstr("com.x"));
        EXPECT_THAT(r.err, HasSubstr("2.0content.7z"));
        EXPECT_THAT(r.err, HasSubstr(cause));
        EXPECT_EQ(requests_for(server, "/com.x/2.0content.7z").size(), 2u)
            << "one download and one retry:\n"
            << read_text(server.access_log());
        EXPECT_EQ(installation_state(target()), before);
        EXPECT_EQ(recorded_version(target(), "com.x"), "1.0");
        expect_verifies(target());
        expect_no_staging_left(target());
    }
};

TEST_F(ClientFaultsArchive, CorruptedArchiveIsDownloadedTwiceThenRefused) {
    expect_refused(flip_bytes, "the sidecar says");
}

TEST_F(ClientFaultsArchive, WrongSidecarIsDownloadedTwiceThenRefused) {
    expect_refused(
        [](const fs::path& archive) {
            write_text(archive.string() + ".sha1", "0123456789abcdef0123456789abcdef01234567");
        },
        "0123456789abcdef0123456789abcdef01234567");
}

// --- A download killed midway is continued by the next run with a Range request. ---

TEST_F(ClientFaults, KilledDownloadIsResumedWithARangeRequest) {
    set_package("com.x", "1.0", v1_);
    publish();
    // Whole-file requests are slow, so that the first run is still downloading when killed;
    // the resumed (Range) request is not.
    NginxServer server(repo(),
                       "location /com.x/ { if ($http_range = \"\") { set $limit_rate 100k; } }\n");
    install(server.url(), {"com.x"});
    Files v2 = v2_;
    v2["big.bin"] = random_bytes(2 << 20, 7);
    set_package("com.x", "2.0", v2);
    publish();
    const fs::path archive = repo() / "com.x" / "2.0content.7z";
    const auto full_size = fs::file_size(archive);
    const fs::path part = target() / ".ferry/downloads/com.x/2.0/content.7z.part";

    {
        Background first({FERRY_BINARY, "update", "--root", target().string()}, root() / "first");
        ASSERT_TRUE(first.started());
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        std::error_code ec;
        while ((!fs::exists(part, ec) || fs::file_size(part, ec) == 0) && first.running() &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ASSERT_TRUE(first.running()) << "the first run ended before it could be killed:\n"
                                     << read_text(root() / "first.err");
        const int status = first.kill_and_wait();
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
    ASSERT_TRUE(fs::exists(part)) << "a killed download keeps its .part";
    const auto part_size = fs::file_size(part);
    ASSERT_GT(part_size, 0u);
    ASSERT_LT(part_size, full_size) << "killed before the end";

    auto r = ferry({"update", "--root", target().string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const auto lines = requests_for(server, "/com.x/2.0content.7z");
    const std::regex partial(" 206 (\\d+) ");
    std::smatch match;
    const auto resumed = std::find_if(lines.begin(), lines.end(), [&](const std::string& line) {
        return std::regex_search(line, match, partial);
    });
    ASSERT_NE(resumed, lines.end()) << read_text(server.access_log());
    std::regex_search(*resumed, match, partial);
    EXPECT_EQ(std::stoull(match[1]), full_size - part_size)
        << "only the missing bytes: " << *resumed;
    EXPECT_EQ(recorded_version(target(), "com.x"), "2.0");
    EXPECT_EQ(read_text(target() / "big.bin"), v2["big.bin"]);
    expect_verifies(target());
}

// --- Failing servers. ---

TEST_F(ClientFaults, ServerErrorNamesTheUrlAndTheStatus) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    set_package("com.x", "2.0", v2_);
    publish();
    NginxServer server(repo(), "location = /Updates.xml { return 500; }\n");
    point_target_at(server.url());
    const Files before = installation_state(target());

    auto r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(server.url("Updates.xml")));
    EXPECT_THAT(r.err, HasSubstr("HTTP 500"));
    EXPECT_EQ(installation_state(target()), before);
    expect_verifies(target());
}

TEST_F(ClientFaults, SilentServerTimesOutInBoundedTime) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    // Accepts connections (the kernel completes them from the backlog) but never answers.
    std::optional<SilentListener> listener(std::in_place);
    const std::string url = "http://127.0.0.1:" + std::to_string(listener->port()) + "/repo";
    point_target_at(url);
    const Files before = installation_state(target());

    const auto start = std::chrono::steady_clock::now();
    auto r = ferry({"update", "--root", target().string()}, {{"FERRY_TIMEOUT", "1"}});
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    listener.reset();
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(url + "/Updates.xml"));
    EXPECT_THAT(r.err, HasSubstr("timed out"));
    EXPECT_LT(seconds, 20.0) << "FERRY_TIMEOUT=1 bounds each attempt";
    EXPECT_EQ(installation_state(target()), before);
    expect_verifies(target());

    r = ferry({"update", "--root", target().string()}, {{"FERRY_TIMEOUT", "soon"}});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("FERRY_TIMEOUT=\"soon\""));
}

// --- A broken index. ---

TEST_F(ClientFaults, MalformedUpdatesXmlNamesTheUrlAndTheLine) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    set_package("com.x", "2.0", v2_);
    publish();
    const std::string index = read_text(repo() / "Updates.xml");
    const Files before = installation_state(target());

    write_text(repo() / "Updates.xml", "this is not XML\n");
    auto r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(repo_url() + "/Updates.xml:1:"));
    EXPECT_EQ(installation_state(target()), before);

    const std::string version = "  <Version>2.0</Version>\n";
    ASSERT_THAT(index, HasSubstr(version));
    // The error points at the PackageUpdate that lacks the Version.
    const auto at = index.find("<PackageUpdate>");
    const std::string package_line =
        std::to_string(1 + std::count(index.begin(), index.begin() + at, '\n'));
    std::string without = index;
    without.erase(without.find(version), version.size());
    write_text(repo() / "Updates.xml", without);
    r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(repo_url() + "/Updates.xml:" + package_line + ":"));
    EXPECT_THAT(r.err, HasSubstr("Version"));
    EXPECT_EQ(installation_state(target()), before);
    expect_verifies(target());
}

// --- Loops. ---

TEST_F(ClientFaults, HttpRedirectLoopIsReported) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    NginxServer server(repo(), "location = /loop/Updates.xml { return 302 /loop/Updates.xml; }\n");
    point_target_at(server.url("loop"));
    const Files before = installation_state(target());

    auto r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(server.url("loop/Updates.xml")));
    EXPECT_THAT(r.err, HasSubstr("redirect loop"));
    EXPECT_EQ(installation_state(target()), before);
    expect_verifies(target());
}

TEST_F(ClientFaults, RepositoryUpdateLoopLeavesTheSettingsAlone) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    const fs::path other = root() / "other";
    fs::copy(repo(), other, fs::copy_options::recursive);
    const std::string other_url = "file://" + other.string();
    auto r = ferry({"repo", "redirect", "replace", repo().string(), "--old-url", repo_url(),
                    "--new-url", other_url});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = ferry({"repo", "redirect", "replace", other.string(), "--old-url", other_url, "--new-url",
               repo_url()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const Files before = installation_state(target());

    r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("repository updates loop"));
    EXPECT_THAT(r.err, HasSubstr(repo_url()));
    EXPECT_THAT(r.err, HasSubstr(other_url));
    EXPECT_EQ(installation_state(target()), before) << "settings.json included";
    expect_verifies(target());
}

}  // namespace
}  // namespace ferry::testing
