// End-to-end: the market. A real `ferry serve` runs as a child process on a free port; apps are
// published into it with `ferry publish`, read back through the JSON API and the served
// repositories, and installed and updated from it with the client commands, checked the way a
// user would: exit codes, messages, API answers, served files and the data directory.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/hash.hpp"
#include "e2e/e2e_support.hpp"
#include "formats/updates_xml.hpp"
#include "support/market_server.hpp"
#include "support/nginx_server.hpp"

extern char** environ;

namespace ferry::testing {
namespace {

using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Json = nlohmann::json;

constexpr const char* kApp = "com.test.app";

struct Answer {
    int status = 0;  // 0: no answer
    std::string body;
    Json json() const { return Json::parse(body, nullptr, false); }
};

std::string describe(const Answer& a) {
    return "HTTP " + std::to_string(a.status) + "\n" + a.body;
}

// The names of the blobs in a data directory's store.
std::set<std::string> blob_names(const fs::path& data) {
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
std::set<std::string> files_below(const fs::path& dir) {
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
std::vector<std::string> links_to(const fs::path& dir, const fs::path& file) {
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

std::string sha256_of(const std::string& bytes) {
    core::Hasher hasher(core::HashKind::sha256);
    hasher.update(bytes);
    return hasher.hex_digest();
}

// A TCP connection to 127.0.0.1:port (-1 when it cannot connect).
int open_connection(int port) {
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
std::string raw_exchange(int port, const std::string& text, bool half_close = false) {
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
            method == "GET" ? client.Get(path.c_str(), headers)
            : method == "POST"
                ? client.Post(path.c_str(), headers, body, "application/json")
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
        EXPECT_THAT(body["error"].value("message", ""), HasSubstr(says)) << describe(a);
    }

    void SetUp() override {
        token_ = create_token("publish");
        ASSERT_THAT(token_, HasSubstr("ferry_"));
    }

    std::string token_;

  private:
    std::unique_ptr<MarketServer> server_;
};

// 1. A first publish, read back through the API, verified and installed.

TEST_F(Market, PublishesAThreeComponentApp) {
    start();
    write_three(packages());
    const Json result = published(packages(), "1", {"--name", "Test App"});
    EXPECT_EQ(result.value("revision", 0), 1) << result;
    EXPECT_EQ(result.value("unchanged", true), false) << result;
    EXPECT_EQ(result.value("changed", Json()),
              Json::array({"com.test.a", "com.test.b", "com.test.c"}));

    const Answer apps = get("/api/v1/apps");
    ASSERT_EQ(apps.status, 200) << describe(apps);
    ASSERT_EQ(apps.json().at("apps").size(), 1u) << describe(apps);
    EXPECT_EQ(apps.json()["apps"][0].at("key"), kApp);
    EXPECT_EQ(apps.json()["apps"][0].at("name"), "Test App");
    EXPECT_EQ(get("/api/v1/apps?offset=0&limit=1").json().at("apps").size(), 1u);
    EXPECT_THAT(get("/api/v1/apps?offset=1").json().at("apps"), IsEmpty());

    EXPECT_EQ(latest_revision("1"), 1);
    EXPECT_EQ(component_versions("1"),
              (std::map<std::string, std::string>{
                  {"com.test.a", "1.0"}, {"com.test.b", "1.0"}, {"com.test.c", "1.0"}}));

    const std::string repo_url = server().url("/repo/") + kApp + "/1";
    auto verify_repo = ferry({"repo", "verify", repo_url});
    EXPECT_EQ(verify_repo.exit_code, 0) << testing::describe(verify_repo);

    const fs::path target = root() / "target";
    auto install = ferry({"install", "--root", target.string(), "--repo", repo_url});
    ASSERT_EQ(install.exit_code, 0) << testing::describe(install);
    EXPECT_EQ(read_text(target / "a.txt"), "a 1.0\n");
    EXPECT_EQ(read_text(target / "b.txt"), "b 1.0\n");
    EXPECT_EQ(read_text(target / "c.txt"), "c 1.0\n");
    auto verify = ferry({"verify", "--root", target.string()});
    EXPECT_EQ(verify.exit_code, 0) << testing::describe(verify);
}

// 2. Publishing the same content again changes nothing and uploads nothing.

TEST_F(Market, RepublishingUnchangedContentIsANoOp) {
    start();
    write_three(packages());
    published(packages(), "1");
    const std::string index = read_text(repository() / "Updates.xml");

    const Json again = published(packages(), "1");
    EXPECT_EQ(again.value("unchanged", false), true) << again;
    EXPECT_EQ(again.value("revision", 0), 1) << again;
    EXPECT_EQ(again.value("uploaded_files", -1), 0) << again;
    EXPECT_EQ(again.value("uploaded_bytes", -1), 0) << again;
    EXPECT_EQ(latest_revision("1"), 1);
    EXPECT_EQ(read_text(repository() / "Updates.xml"), index);
}

// 3. One changed component: only its files travel; the previous revision's files stay one
// revision longer.

TEST_F(Market, ChangedComponentUploadsOnlyItsFilesAndOldFilesLastOneRevision) {
    start();
    write_three(packages());
    published(packages(), "1");
    // The files of com.test.b 1.0 as revision 1 serves them.
    std::map<std::string, std::string> old_files;
    for (const auto& file : files_below(repository())) {
        if (file.starts_with("com.test.b/") && file.find("1.0") != std::string::npos) {
            old_files[file] = read_text(repository() / file);
        }
    }
    ASSERT_FALSE(old_files.empty()) << "revision 1 serves no files of com.test.b 1.0";

    const std::set<std::string> blobs_before = blob_names(data());
    write_component(packages(), "b", "2.0", "b 2.0, changed\n");
    const Json second = published(packages(), "1");
    EXPECT_EQ(second.value("revision", 0), 2) << second;
    EXPECT_EQ(second.value("changed", Json()), Json::array({"com.test.b"})) << second;
    EXPECT_EQ(second.value("unchanged_components", Json()),
              Json::array({"com.test.a", "com.test.c"}))
        << second;

    // What was uploaded: the blobs the store did not have before, found in the repository.
    std::vector<std::string> new_blobs;
    for (const auto& blob : blob_names(data())) {
        if (blobs_before.count(blob) == 0) {
            new_blobs.push_back(blob);
        }
    }
    EXPECT_EQ(second.value("uploaded_files", -1), static_cast<int>(new_blobs.size())) << second;
    EXPECT_GE(new_blobs.size(), 1u);
    EXPECT_LE(new_blobs.size(), 6u) << "archive(s), sidecar(s), meta and united metadata only";
    for (const auto& blob : new_blobs) {
        const auto names =
            links_to(repository(), data() / "blobs" / "sha256" / blob.substr(0, 2) / blob);
        ASSERT_FALSE(names.empty()) << blob << " is uploaded but not in the repository";
        for (const auto& name : names) {
            EXPECT_TRUE(name.find("com.test.b") != std::string::npos ||
                        name.find("_meta") != std::string::npos)
                << name << " was uploaded though only com.test.b changed";
        }
    }
    EXPECT_EQ(component_versions("1").at("com.test.b"), "2.0");

    // Revision 1's files are still served, for clients holding its Updates.xml.
    for (const auto& [file, content] : old_files) {
        const Answer a = get("/repo/" + std::string(kApp) + "/1/" + file);
        EXPECT_EQ(a.status, 200) << file;
        EXPECT_EQ(a.body, content) << file;
    }

    write_component(packages(), "c", "2.0", "c 2.0, changed\n");
    const Json third = published(packages(), "1");
    EXPECT_EQ(third.value("revision", 0), 3) << third;
    for (const auto& [file, content] : old_files) {
        EXPECT_EQ(get("/repo/" + std::string(kApp) + "/1/" + file).status, 404)
            << file << " is still served two revisions later";
    }
}

// 4. Content changed while the version stayed: refused, unless --bump raises it.

TEST_F(Market, ChangedContentWithTheSameVersionNeedsBump) {
    start();
    write_three(packages());
    published(packages(), "1");
    write_component(packages(), "b", "1.0", "b 1.0, but different\n");

    const CommandResult refused = publish(packages(), "1");
    EXPECT_EQ(refused.exit_code, 1) << testing::describe(refused);
    EXPECT_THAT(refused.err, HasSubstr("com.test.b"));
    EXPECT_THAT(refused.err, HasSubstr("--bump"));
    EXPECT_THAT(refused.err, Not(HasSubstr("com.test.a ("))) << "a did not change";
    EXPECT_EQ(latest_revision("1"), 1);
    EXPECT_EQ(component_versions("1").at("com.test.b"), "1.0");

    const Json bumped = published(packages(), "1", {"--bump"});
    EXPECT_EQ(bumped.value("revision", 0), 2) << bumped;
    EXPECT_EQ(bumped.value("changed", Json()), Json::array({"com.test.b"})) << bumped;
    const auto versions = component_versions("1");
    EXPECT_EQ(versions.at("com.test.a"), "1.0");
    EXPECT_EQ(versions.at("com.test.b"), "1.1");
    EXPECT_THAT(read_text(packages() / "com.test.b" / "meta" / "package.xml"),
                HasSubstr("<Version>1.0</Version>"))
        << "--bump leaves the packages directory alone";
}

// 5. A new major version is a repository of its own.

TEST_F(Market, NewMajorLeavesTheOldOneAlone) {
    start();
    write_three(packages());
    published(packages(), "1");
    const Answer before = get("/repo/" + std::string(kApp) + "/1/Updates.xml");
    ASSERT_EQ(before.status, 200);

    const fs::path next = root() / "packages-2";
    for (const std::string name : {"a", "b", "c"}) {
        write_component(next, name, "2.0", name + " 2.0\n");
    }
    const Json result = published(next, "2");
    EXPECT_EQ(result.value("revision", 0), 1) << result;

    const Answer after = get("/repo/" + std::string(kApp) + "/1/Updates.xml");
    EXPECT_EQ(after.status, 200);
    EXPECT_EQ(after.body, before.body) << "the old major's Updates.xml changed";
    EXPECT_EQ(get("/repo/" + std::string(kApp) + "/2/Updates.xml").status, 200);

    const Answer app = get("/api/v1/apps/" + std::string(kApp));
    ASSERT_EQ(app.status, 200) << describe(app);
    std::vector<std::string> majors;
    const Json body = app.json();
    for (const auto& major : body.at("majors")) {
        majors.push_back(major.at("major").get<std::string>());
    }
    EXPECT_THAT(majors, ::testing::UnorderedElementsAre("1", "2"));
    EXPECT_EQ(component_versions("1").at("com.test.a"), "1.0");
    EXPECT_EQ(component_versions("2").at("com.test.a"), "2.0");
}

// 6. From the market to an installation and on to its update.

TEST_F(Market, InstalledTargetUpdatesToTheNextRevision) {
    start();
    write_three(packages());
    published(packages(), "1");
    const fs::path target = root() / "target";
    const std::string repo_url = server().url("/repo/") + kApp + "/1";
    auto install = ferry({"install", "--root", target.string(), "--repo", repo_url});
    ASSERT_EQ(install.exit_code, 0) << testing::describe(install);

    write_component(packages(), "b", "2.0", "b 2.0\n");
    EXPECT_EQ(published(packages(), "1").value("revision", 0), 2);

    auto check = ferry({"check-updates", "--root", target.string(), "--json"});
    ASSERT_EQ(check.exit_code, 0) << testing::describe(check);
    const Json updates = Json::parse(check.out).at("updates");
    ASSERT_EQ(updates.size(), 1u) << check.out;
    EXPECT_EQ(updates[0].at("name"), "com.test.b");
    EXPECT_EQ(updates[0].at("installed_version"), "1.0");
    EXPECT_EQ(updates[0].at("new_version"), "2.0");

    auto update = ferry({"update", "--root", target.string()});
    ASSERT_EQ(update.exit_code, 0) << testing::describe(update);
    EXPECT_EQ(read_text(target / "b.txt"), "b 2.0\n");
    EXPECT_EQ(read_text(target / "a.txt"), "a 1.0\n");
    auto verify = ferry({"verify", "--root", target.string()});
    EXPECT_EQ(verify.exit_code, 0) << testing::describe(verify);
    auto again = ferry({"check-updates", "--root", target.string(), "--json"});
    EXPECT_THAT(Json::parse(again.out).at("updates"), IsEmpty()) << again.out;
}

// 7. Tokens: writes need a valid one, reads only on a private market; admin tokens publish too.

TEST_F(Market, TokensAndRoles) {
    start();
    write_three(packages());
    const std::vector<std::string> base = {
        "publish", packages().string(), "--server", server().url(), "--app",
        kApp,      "--version",         "1"};

    auto args = base;
    auto none = ferry(args, {{"FERRY_TOKEN", ""}});
    EXPECT_EQ(none.exit_code, 1) << testing::describe(none);
    EXPECT_THAT(none.err, HasSubstr("401"));
    EXPECT_THAT(none.err, HasSubstr("needs a token"));

    args.insert(args.end(), {"--token", "ferry_nosuchid_nosuchsecret"});
    auto wrong = ferry(args);
    EXPECT_EQ(wrong.exit_code, 1) << testing::describe(wrong);
    EXPECT_THAT(wrong.err, HasSubstr("401"));
    EXPECT_THAT(wrong.err, HasSubstr("not valid"));
    EXPECT_EQ(get("/api/v1/apps").json().value("total", -1), 0) << "nothing published";

    const std::string admin = create_token("admin");  // while the server runs
    args = base;
    args.insert(args.end(), {"--token", admin, "--json"});
    auto by_admin = ferry(args);
    ASSERT_EQ(by_admin.exit_code, 0) << testing::describe(by_admin);
    EXPECT_EQ(Json::parse(by_admin.out).value("revision", 0), 1);

    // Reads need no token on a public market.
    EXPECT_EQ(get("/api/v1/apps").status, 200);
    EXPECT_EQ(get("/repo/" + std::string(kApp) + "/1/Updates.xml").status, 200);

    start({"--private"});
    expect_error(get("/api/v1/apps"), 401, "private");
    EXPECT_EQ(get("/repo/" + std::string(kApp) + "/1/Updates.xml").status, 401);
    const Answer with_token = get("/api/v1/apps", token_);
    EXPECT_EQ(with_token.status, 200) << describe(with_token);
    EXPECT_EQ(with_token.json().value("total", -1), 1);
}

// 8. Bad requests get a 4xx with a JSON error saying what was wrong, and store nothing.

TEST_F(Market, BadRequestsAreRefusedAndStoreNothing) {
    start();
    // A real repository whose files are never uploaded.
    write_three(packages());
    make_repository(packages(), root() / "built");
    const std::string updates_xml = read_text(root() / "built" / "Updates.xml");
    Json files = Json::array();
    for (const auto& file : files_below(root() / "built")) {
        if (file != "Updates.xml") {
            const std::string content = read_text(root() / "built" / file);
            files.push_back(
                {{"path", file}, {"sha256", sha256_of(content)}, {"size", content.size()}});
        }
    }
    const Json valid_body = {{"updates_xml", updates_xml}, {"files", files}};
    const std::string revisions = "/api/v1/apps/" + std::string(kApp) + "/versions/1/revisions";
    const auto stored = [&] { return files_below(data() / "repo"); };
    const std::set<std::string> before = stored();

    expect_error(request("POST", revisions, "{\"updates_xml\": ", token_), 400, "JSON");
    expect_error(request("POST", revisions, "[1, 2]", token_), 400, "JSON object");
    expect_error(get("/api/v1/apps/com.test.nosuch"), 404, "com.test.nosuch");
    expect_error(get("/api/v1/apps?limit=ten"), 400, "limit");
    expect_error(get("/api/v1/apps?offset=-1"), 400, "offset");
    expect_error(get("/api/v1/apps?kind=bogus"), 400, "bogus");
    expect_error(get("/api/v1/apps/com.test.nosuch/versions/1"), 404, "com.test.nosuch");

    // Path characters in the major: refused, nothing written anywhere.
    const Answer slash =
        request("POST", "/api/v1/apps/" + std::string(kApp) + "/versions/..%2Fx/revisions",
                valid_body.dump(), token_);
    EXPECT_THAT(slash.status, AnyOf(400, 404)) << describe(slash);
    EXPECT_TRUE(slash.json().contains("error")) << describe(slash);
    const Answer space =
        request("POST", "/api/v1/apps/" + std::string(kApp) + "/versions/a%20b/revisions",
                valid_body.dump(), token_);
    expect_error(space, 400, "not a valid major");
    for (const std::string path : {"/repo/..%2Fcatalog.db", "/repo/%2e%2e/catalog.db"}) {
        const Answer outside = get(path);
        EXPECT_THAT(outside.status, AnyOf(403, 404)) << path << " serves a file outside repo/";
    }
    EXPECT_FALSE(fs::exists(data() / "x"));
    EXPECT_FALSE(fs::exists(data() / "repo" / "x"));
    EXPECT_FALSE(fs::exists(data() / "repo" / kApp / "a b"));

    // An upload whose bytes are not the SHA-256 of its URL.
    const std::string announced = "the announced content\n";
    const std::string sha = sha256_of(announced);
    const Answer mismatch =
        request("PUT", "/api/v1/blobs/" + sha, "the uploaded, other bytes\n", token_);
    EXPECT_EQ(mismatch.status, 400) << describe(mismatch);
    EXPECT_THAT(mismatch.json()["error"].value("message", ""), HasSubstr(sha))
        << describe(mismatch);
    const Answer same_size =
        request("PUT", "/api/v1/blobs/" + sha, std::string(announced.size(), 'x'), token_);
    expect_error(same_size, 400, "SHA-256");
    // An upload that ends before its Content-Length.
    const std::string cut = raw_exchange(
        server().port(),
        "PUT /api/v1/blobs/" + sha + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
            token_ + "\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nthe ann",
        true);
    EXPECT_THAT(cut, Not(::testing::StartsWith("HTTP/1.1 2"))) << cut;
    EXPECT_THAT(blob_names(data()), Not(::testing::Contains(sha)));
    EXPECT_THAT(files_below(data() / "uploads"), IsEmpty()) << "partial uploads were left";
    const Answer missing =
        request("POST", "/api/v1/blobs/missing",
                Json{{"blobs", {{{"sha256", sha}, {"size", announced.size()}}}}}.dump(), token_);
    ASSERT_EQ(missing.status, 200) << describe(missing);
    EXPECT_EQ(missing.json().at("missing"), Json::array({sha}));

    // A body beyond 64 MiB, announced by its Content-Length: refused before it is read.
    const std::string huge = raw_exchange(
        server().port(), "POST " + revisions +
                             " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token_ +
                             "\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string((std::uint64_t{64} << 20) + 1) +
                             "\r\nConnection: close\r\n\r\n{\"updates_xml\": \"");
    EXPECT_THAT(huge, ::testing::StartsWith("HTTP/1.1 413")) << huge;
    EXPECT_THAT(huge, HasSubstr("\"status\":413")) << huge;
    EXPECT_THAT(huge, HasSubstr("larger than")) << huge;

    // A revision whose files were never uploaded.
    expect_error(request("POST", revisions, valid_body.dump(), token_), 422, "not uploaded");

    EXPECT_EQ(stored(), before) << "a refused request left files in repo/";
    const Answer apps = get("/api/v1/apps");
    EXPECT_EQ(apps.json().value("total", -1), 0) << describe(apps);
    EXPECT_EQ(get("/api/v1/apps/" + std::string(kApp)).status, 404);
}

// 9. A killed server comes back consistent; SIGTERM stops it promptly and cleanly.

TEST_F(Market, SurvivesKillAndStopsOnSigterm) {
    start();
    write_three(packages());
    published(packages(), "1");

    // Killed while an upload is half way: its connection stays open, its bytes half sent.
    const std::string pending = random_bytes(100000, 9);
    const std::string sha = sha256_of(pending);
    const int upload = open_connection(server().port());
    ASSERT_GE(upload, 0);
    const std::string head = "PUT /api/v1/blobs/" + sha +
                             " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token_ +
                             "\r\nContent-Length: " + std::to_string(pending.size()) + "\r\n\r\n" +
                             pending.substr(0, pending.size() / 2);
    ASSERT_EQ(::send(upload, head.data(), head.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(head.size()));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (files_below(data() / "uploads").empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_FALSE(files_below(data() / "uploads").empty()) << "the upload did not start";
    server().kill_hard();
    ::close(upload);

    start();
    EXPECT_EQ(latest_revision("1"), 1);
    const Answer missing =
        request("POST", "/api/v1/blobs/missing",
                Json{{"blobs", {{{"sha256", sha}, {"size", pending.size()}}}}}.dump(), token_);
    EXPECT_EQ(missing.json().value("missing", Json()), Json::array({sha})) << describe(missing);
    const Answer index = get("/repo/" + std::string(kApp) + "/1/Updates.xml");
    ASSERT_EQ(index.status, 200);
    const auto parsed = formats::parse_updates_xml(index.body, "Updates.xml");
    ASSERT_TRUE(parsed.revision.has_value());
    EXPECT_EQ(parsed.revision->number, 1);

    write_component(packages(), "a", "1.1", "a 1.1\n");
    const Json again = published(packages(), "1");
    EXPECT_EQ(again.value("revision", 0), 2) << again;
    EXPECT_EQ(component_versions("1").at("com.test.a"), "1.1");

    const auto started = std::chrono::steady_clock::now();
    const int status = server().stop(std::chrono::seconds(10));
    ASSERT_NE(status, -1) << "ferry serve did not exit within 10 s of SIGTERM";
    EXPECT_TRUE(WIFEXITED(status)) << "status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));

    // A client idling on a keep-alive connection holds the stop up to httplib's keep-alive
    // timeout (5 s), no longer.
    start();
    const int idle = open_connection(server().port());
    ASSERT_GE(idle, 0);
    const std::string get_apps = "GET /api/v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ASSERT_EQ(::send(idle, get_apps.data(), get_apps.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(get_apps.size()));
    char answer[16] = {};
    ASSERT_GT(::recv(idle, answer, sizeof answer - 1, 0), 0);
    EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 200"));
    const int after_idle = server().stop(std::chrono::seconds(10));
    ::close(idle);
    ASSERT_NE(after_idle, -1) << "ferry serve did not exit within 10 s of SIGTERM";
    EXPECT_TRUE(WIFEXITED(after_idle) && WEXITSTATUS(after_idle) == 0) << "status " << after_idle;
}

// 10. Two publishes of one app at once, raising one component to different versions: each ends
// with a clear answer (publishing 2.0 after 3.0 is refused), the revisions add up.

TEST_F(Market, ConcurrentPublishesOfOneApp) {
    start();
    write_three(packages());
    published(packages(), "1");
    const fs::path first = root() / "first";
    const fs::path second = root() / "second";
    write_three(first);
    write_component(first, "b", "2.0", "b 2.0 from the first\n");
    write_three(second);
    write_component(second, "b", "3.0", "b 3.0 from the second\n");

    CommandResult results[2];
    std::thread one([&] { results[0] = publish(first, "1"); });
    std::thread two([&] { results[1] = publish(second, "1"); });
    one.join();
    two.join();

    int succeeded = 0;
    for (const auto& r : results) {
        if (r.exit_code == 0) {
            ++succeeded;
        } else {
            EXPECT_EQ(r.exit_code, 1) << testing::describe(r);
            EXPECT_THAT(r.err, AnyOf(HasSubstr("409"), HasSubstr("did not grow")))
                << testing::describe(r);
        }
    }
    EXPECT_GE(succeeded, 1);
    EXPECT_EQ(latest_revision("1"), 1 + succeeded);

    const Answer index = get("/repo/" + std::string(kApp) + "/1/Updates.xml");
    ASSERT_EQ(index.status, 200);
    const auto parsed = formats::parse_updates_xml(index.body, "Updates.xml");
    ASSERT_TRUE(parsed.revision.has_value());
    EXPECT_EQ(parsed.revision->number, latest_revision("1"));
    const auto versions = component_versions("1");
    for (const auto& package : parsed.packages) {
        EXPECT_EQ(versions.at(package.component.name), package.component.version)
            << package.component.name;
    }
    EXPECT_EQ(parsed.packages.size(), versions.size());
}

}  // namespace
}  // namespace ferry::testing
