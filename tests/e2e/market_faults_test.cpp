// End-to-end: what the market refuses and what it survives: writes without a valid token,
// reads of a private market, malformed requests (refused, nothing stored), kill -9 and SIGTERM,
// and two publishes of one app at once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "e2e/market_support.hpp"
#include "formats/updates_xml.hpp"

namespace ferry::testing {
namespace {

using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// 1. Tokens: writes need a valid one, reads only on a private market; admin tokens publish too.

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

// 2. Bad requests get a 4xx with a JSON error saying what was wrong, and store nothing.

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
    expect_error(space, 400, "major version \"a b\" contains ' '");
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
    expect_error(request("POST", revisions, valid_body.dump(), token_), 409, "not uploaded");

    EXPECT_EQ(stored(), before) << "a refused request left files in repo/";
    const Answer apps = get("/api/v1/apps");
    EXPECT_EQ(apps.json().value("total", -1), 0) << describe(apps);
    EXPECT_EQ(get("/api/v1/apps/" + std::string(kApp)).status, 404);
}

// 3. A killed server comes back consistent; SIGTERM stops it promptly and cleanly.

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

// 4. Two publishes of one app at once, raising one component to different versions: each ends
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
