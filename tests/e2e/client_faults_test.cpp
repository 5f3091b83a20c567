// End-to-end: the client under faults (corrupt or missing data, failing servers, archives that
// try to escape, a full disk, an unwritable file, a process killed at every step). Each test
// checks what a user would: the exit code, an error naming the input and the cause, an
// installation exactly as before, and `ferry verify` passing afterwards.
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
namespace {

using ::testing::HasSubstr;
using Files = std::map<std::string, std::string>;

constexpr int kKilled = 128 + SIGKILL;  // how run() reports a death by SIGKILL

// The installation as a user sees it: every file of the target, the state included, but not
// the lock (it holds the last pid) nor the download cache (a failed update may fill it).
Files installation_state(const fs::path& target) {
    Files files = snapshot_tree(target);
    std::erase_if(files, [](const auto& item) {
        return item.first == ".ferry/lock" || item.first.starts_with(".ferry/downloads/") ||
               item.first.starts_with(".ferry/cache/");
    });
    return files;
}

// The access log's lines for one path: "METHOD /path" followed by the status.
std::vector<std::string> requests_for(const NginxServer& server, const std::string& path) {
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
std::string installed_version(const fs::path& target, const std::string& name) {
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
        EXPECT_EQ(installed_version(target(), "com.x"), "1.0");
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
    EXPECT_EQ(installed_version(target(), "com.x"), "2.0");
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
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(listener, 64), 0);
    socklen_t length = sizeof address;
    ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
    const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/repo";
    point_target_at(url);
    const Files before = installation_state(target());

    const auto start = std::chrono::steady_clock::now();
    auto r = ferry({"update", "--root", target().string()}, {{"FERRY_TIMEOUT", "1"}});
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ::close(listener);
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

// --- An archive entry that leads outside the target. ---

TEST_F(ClientFaults, SymlinkLeadingOutsideIsRefused) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    set_package("com.x", "2.0", v2_);
    fs::create_symlink("../../outside", packages() / "com.x/data/escape");
    publish();
    const Files before = installation_state(target());
    std::vector<std::string> top_before;
    for (const auto& entry : fs::directory_iterator(root())) {
        top_before.push_back(entry.path().filename());
    }

    auto r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("\"escape\""));
    EXPECT_THAT(r.err, HasSubstr("com.x/2.0/content.7z"));
    EXPECT_EQ(installation_state(target()), before);
    std::vector<std::string> top_after;
    for (const auto& entry : fs::directory_iterator(root())) {
        top_after.push_back(entry.path().filename());
    }
    std::sort(top_before.begin(), top_before.end());
    std::sort(top_after.begin(), top_after.end());
    EXPECT_EQ(top_after, top_before) << "nothing written beside the target";
    EXPECT_FALSE(fs::exists(fs::symlink_status(target() / "escape")));
    expect_verifies(target());
    expect_no_staging_left(target());
}

// A pax tar (the extractor reads tar as well as 7z) with the files, written by hand so that it
// may hold names no packages tree can.
void craft_tar(const fs::path& out, const Files& files) {
    std::unique_ptr<struct archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                          &archive_write_free);
    struct archive* a = writer.get();
    archive_write_set_format_pax_restricted(a);
    ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK) << archive_error_string(a);
    for (const auto& [name, content] : files) {
        std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(
            archive_entry_new(), &archive_entry_free);
        archive_entry_set_pathname(entry.get(), name.c_str());
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_perm(entry.get(), 0644);
        archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
        ASSERT_EQ(archive_write_header(a, entry.get()), ARCHIVE_OK) << archive_error_string(a);
        ASSERT_EQ(archive_write_data(a, content.data(), content.size()),
                  static_cast<la_ssize_t>(content.size()));
    }
    ASSERT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
}

TEST_F(ClientFaults, ArchiveEntryWithDotDotIsRefused) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    set_package("com.x", "2.0", v2_);
    publish();
    // The archive is replaced by one with "../evil", and its sidecar and FerryArchive record
    // follow, so that only the extraction can catch it.
    const fs::path archive = repo() / "com.x" / "2.0content.7z";
    craft_tar(archive, {{"readme.txt", "readme 2.0\n"}, {"../evil", "evil\n"}});
    const core::FileDigest digest = core::digest_file(archive);
    write_text(archive.string() + ".sha1", digest.sha1);
    std::string index = read_text(repo() / "Updates.xml");
    const std::regex record(
        "(<FerryArchive name=\"content.7z\") size=\"[0-9]+\" sha1=\"[0-9a-f]+\" "
        "sha256=\"[0-9a-f]+\"");
    ASSERT_TRUE(std::regex_search(index, record)) << index;
    index = std::regex_replace(index, record,
                               "$1 size=\"" + std::to_string(digest.size) + "\" sha1=\"" +
                                   digest.sha1 + "\" sha256=\"" + digest.sha256 + "\"");
    write_text(repo() / "Updates.xml", index);
    const Files before = installation_state(target());

    auto r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("\"../evil\""));
    EXPECT_THAT(r.err, HasSubstr("com.x/2.0/content.7z"));
    EXPECT_EQ(installation_state(target()), before);
    EXPECT_FALSE(fs::exists(target().parent_path() / "evil"));
    expect_verifies(target());
    expect_no_staging_left(target());
}

// --- Resources running out. ---

TEST_F(ClientFaults, FullDiskLeavesTheEarlierVersion) {
    set_package("com.x", "1.0", v1_);
    publish();
    fs::create_directories(target());
    if (::mount("tmpfs", target().c_str(), "tmpfs", 0, "size=1m") != 0) {
        GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    }
    struct Unmount {
        fs::path at;
        ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
    } unmount{target()};
    install(repo_url(), {"com.x"});
    // The archive (stored: random data does not compress) fits beside the installation, its
    // extracted copy does not.
    Files v2 = v2_;
    v2["big.bin"] = random_bytes(700 << 10, 8);
    set_package("com.x", "2.0", v2);
    publish();
    const Files before = installation_state(target());

    auto r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("No space left on device"));
    EXPECT_EQ(installation_state(target()), before);
    EXPECT_EQ(installed_version(target(), "com.x"), "1.0");
    expect_verifies(target());
    expect_no_staging_left(target());

    // An archive larger than the whole disk fails while downloading, with the same cause.
    Files v3 = v2_;
    v3["big.bin"] = random_bytes(1536 << 10, 9);
    set_package("com.x", "3.0", v3);
    publish();
    r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("3.0content.7z"));
    EXPECT_THAT(r.err, HasSubstr("No space left on device"));
    EXPECT_EQ(installation_state(target()), before);
    expect_verifies(target());
    expect_no_staging_left(target());
}

// A file size limit (which needs no privilege to set) makes writes beyond it fail with EFBIG.
TEST_F(ClientFaults, FileSizeLimitLeavesTheEarlierVersion) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    const auto limited_update = [&] {
        return run({"/usr/bin/prlimit", "--fsize=" + std::to_string(400 << 10), FERRY_BINARY,
                    "update", "--root", target().string()},
                   {{"SOURCE_DATE_EPOCH", "1767225600"}}, root());
    };
    const Files before = installation_state(target());

    // Compressible: the archive is small, the extracted file is over the limit.
    Files v2 = v2_;
    v2["big.bin"] = std::string(700 << 10, 'x');
    set_package("com.x", "2.0", v2);
    publish();
    ASSERT_LT(fs::file_size(repo() / "com.x/2.0content.7z"), 400u << 10);
    auto r = limited_update();
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("File too large"));
    EXPECT_EQ(installation_state(target()), before);
    expect_verifies(target());
    expect_no_staging_left(target());

    // Incompressible: the download itself is over the limit.
    v2["big.bin"] = random_bytes(700 << 10, 10);
    set_package("com.x", "3.0", v2);
    publish();
    r = limited_update();
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("3.0content.7z"));
    EXPECT_THAT(r.err, HasSubstr("File too large"));
    EXPECT_EQ(installation_state(target()), before);
    expect_verifies(target());
    expect_no_staging_left(target());
}

TEST_F(ClientFaults, ImmutableFileFailsTheUpdateAndEverythingIsPutBack) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    set_package("com.x", "2.0", v2_);
    publish();
    const fs::path locked = target() / "tool.sh";
    const auto chattr = [&](const char* flag) {
        return run({"/usr/bin/chattr", flag, locked.string()}).exit_code;
    };
    if (chattr("+i") != 0) {
        GTEST_SKIP() << "the file system does not support chattr +i";
    }
    struct Unlock {
        std::function<void()> undo;
        ~Unlock() { undo(); }
    } unlock{[&] { chattr("-i"); }};
    const Files before = installation_state(target());

    auto r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(locked.string()));
    EXPECT_THAT(r.err, HasSubstr("put back"));
    EXPECT_EQ(installation_state(target()), before);
    EXPECT_EQ(installed_version(target(), "com.x"), "1.0");
    expect_verifies(target());

    ASSERT_EQ(chattr("-i"), 0);
    r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(installed_version(target(), "com.x"), "2.0");
    expect_files_of(target(), v2_, v1_, "after chattr -i");
    expect_verifies(target());
}

// --- kill -9 at every step of a transaction: each component ends wholly old or wholly new. ---

class ClientFaultsCrash : public ClientFaults {
  protected:
    Files a1_, a2_, b1_, b2_;

    void SetUp() override {
        for (int i = 0; i < 10; ++i) {
            a1_["f" + std::to_string(i) + ".txt"] = "a f" + std::to_string(i) + " 1.0\n";
        }
        a1_["doc/guide.txt"] = "guide 1.0\n";
        a2_ = a1_;
        for (int i = 0; i < 4; ++i) {
            a2_["f" + std::to_string(i) + ".txt"] = "a f" + std::to_string(i) + " 2.0\n";
        }
        for (int i = 7; i < 10; ++i) {
            a2_.erase("f" + std::to_string(i) + ".txt");
        }
        for (int i = 0; i < 3; ++i) {
            a2_["new" + std::to_string(i) + ".txt"] = "a new" + std::to_string(i) + " 2.0\n";
        }
        a2_["doc/guide.txt"] = "guide 2.0\n";
        b1_ = {{"b/one.txt", "b one 1.0\n"}, {"b-two.txt", "b two 1.0\n"}};
        b2_ = {{"b/one.txt", "b one 2.0\n"}, {"b-two.txt", "b two 1.0\n"}};
    }

    void reset_target(const fs::path& pristine) {
        fs::remove_all(target());
        fs::copy(pristine, target(), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    }

    // Each component at one version, all of its files of that version; absent ones have none.
    void expect_whole(const std::string& label) {
        for (const auto& [name, one, two] :
             {std::tuple{"com.a", &a1_, &a2_}, std::tuple{"com.b", &b1_, &b2_}}) {
            const std::string version = installed_version(target(), name);
            const std::string what = label + ", " + name + " at \"" + version + "\"";
            if (version == "1.0") {
                expect_files_of(target(), *one, *two, what);
            } else if (version == "2.0") {
                expect_files_of(target(), *two, *one, what);
            } else {
                ASSERT_EQ(version, "") << what;
                expect_files_of(target(), {}, *one, what);
            }
        }
    }

    // Runs the command with FERRY_CRASH_AT=1, 2, ... from the pristine target until a run is
    // not killed; returns the number of killed runs.
    int crash_at_every_step(const std::vector<std::string>& command, const fs::path& pristine) {
        int killed = 0;
        for (int n = 1; n <= 200; ++n) {
            reset_target(pristine);
            auto r = ferry(command, {{"FERRY_CRASH_AT", std::to_string(n)}});
            const std::string label = command.front() + " killed at step " + std::to_string(n);
            if (r.exit_code == 0) {
                expect_whole(label + " (not killed)");
                return killed;
            }
            EXPECT_EQ(r.exit_code, kKilled) << label << "\n" << describe(r);
            if (r.exit_code != kKilled) {
                return killed;
            }
            ++killed;
            auto v = ferry({"verify", "--root", target().string()});
            EXPECT_EQ(v.exit_code, 0) << label << "\n" << describe(v);
            EXPECT_THAT(v.err, HasSubstr("an interrupted transaction on")) << label;
            expect_whole(label);
            expect_no_staging_left(target());
            if (::testing::Test::HasFailure()) {
                return killed;
            }
        }
        ADD_FAILURE() << "still killed after 200 steps";
        return killed;
    }
};

TEST_F(ClientFaultsCrash, UpdateRemoveAndRollbackSurviveKillAtEveryStep) {
    set_package("com.a", "1.0", a1_);
    set_package("com.b", "1.0", b1_);
    publish();
    install(repo_url(), {"com.a", "com.b"});
    const fs::path pristine_v1 = root() / "pristine-v1";
    fs::copy(target(), pristine_v1, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    set_package("com.a", "2.0", a2_);
    set_package("com.b", "2.0", b2_);
    publish();

    const int update_kills =
        crash_at_every_step({"update", "--root", target().string()}, pristine_v1);
    EXPECT_GE(update_kills, 20);
    ASSERT_FALSE(HasFailure());
    EXPECT_EQ(installed_version(target(), "com.a"), "2.0");
    EXPECT_EQ(installed_version(target(), "com.b"), "2.0");
    const fs::path pristine_v2 = root() / "pristine-v2";
    fs::copy(target(), pristine_v2, fs::copy_options::recursive | fs::copy_options::copy_symlinks);

    const int remove_kills =
        crash_at_every_step({"remove", "--root", target().string(), "com.b"}, pristine_v1);
    EXPECT_GE(remove_kills, 3);
    EXPECT_EQ(installed_version(target(), "com.b"), "");
    EXPECT_EQ(installed_version(target(), "com.a"), "1.0");

    const int rollback_kills =
        crash_at_every_step({"rollback", "--root", target().string()}, pristine_v2);
    EXPECT_GE(rollback_kills, 3);
    EXPECT_EQ(installed_version(target(), "com.a"), "1.0");
    EXPECT_EQ(installed_version(target(), "com.b"), "1.0");
    expect_verifies(target());
}

}  // namespace
}  // namespace ferry::testing
