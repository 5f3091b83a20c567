// The chain of markets end to end: an upstream ("cloud") market, an internal market that lists
// and pulls from it, and an installation from the internal market that sees a new upstream
// revision as an update once it has been pulled. Pulls done once when asked for twice, a pull
// killed half way and resumed behind nginx, a pull cut by a stop of the server, and an upstream
// that needs a token.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "e2e/market_support.hpp"
#include "support/nginx_server.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MarketSync : public FerryTest {
  protected:
    MarketSync()
        : upstream_(FERRY_BINARY, root() / "upstream"),
          internal_(FERRY_BINARY, root() / "internal", {"--upstream", upstream_.url()}),
          upstream_token_(create_token(FERRY_BINARY, root() / "upstream")),
          internal_token_(create_token(FERRY_BINARY, root() / "internal")) {
        packages_ = root() / "packages";
        make_package(packages_, "com.acme.core", "1.0", {{"core.bin", random_bytes(40000, 1)}},
                     " <Default>true</Default>\n");
        make_package(packages_, "com.acme.tools", "1.0", {{"tools.txt", "tools 1.0"}},
                     " <Default>true</Default>\n");
    }

    void publish_upstream() {
        const CommandResult r =
            ferry({"publish", packages_.string(), "--server", upstream_.url(), "--token",
                   upstream_token_, "--app", "com.acme.suite", "--version", "3", "-q"});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
    }

    Json remote() {
        const CommandResult r = ferry({"market", "remote", "--server", internal_.url(), "--json"});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return Json::parse(r.out);
    }

    Json pull(const std::string& app) {
        const CommandResult r = ferry({"market", "pull", app, "--server", internal_.url(),
                                       "--token", internal_token_, "--json"});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return r.exit_code == 0 ? Json::parse(r.out) : Json{};
    }

    MarketServer upstream_;
    MarketServer internal_;
    std::string upstream_token_;
    std::string internal_token_;
    fs::path packages_;
};

TEST_F(MarketSync, PullCopiesAnAppAndACloudUpdateCarriesOnlyTheChangedComponent) {
    publish_upstream();
    Json listed = remote();
    ASSERT_EQ(listed.at("apps").size(), 1u) << listed.dump(2);
    EXPECT_EQ(listed["apps"][0]["key"], "com.acme.suite");
    EXPECT_FALSE(listed["apps"][0]["present"].get<bool>());
    EXPECT_EQ(listed["apps"][0]["majors"][0]["upstream_revision"], 1);
    EXPECT_EQ(listed["apps"][0]["majors"][0]["local_revision"], 0);

    const Json first = pull("com.acme.suite");
    EXPECT_EQ(first.at("state"), "success");
    const std::uint64_t first_bytes = first.at("done").get<std::uint64_t>();
    EXPECT_GT(first_bytes, 40000u);
    listed = remote();
    EXPECT_TRUE(listed["apps"][0]["present"].get<bool>());
    EXPECT_EQ(listed["apps"][0]["majors"][0]["local_revision"], 1);
    EXPECT_FALSE(listed["apps"][0]["majors"][0]["update_available"].get<bool>());

    // One-click install from the internal market: the app's newest major.
    const fs::path target = root() / "installation";
    CommandResult r = ferry({"install", "--market", internal_.url(), "com.acme.suite", "--root",
                             target.string(), "-q"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target / "tools.txt"), "tools 1.0");

    // A new revision upstream changes one component.
    make_package(packages_, "com.acme.tools", "1.1", {{"tools.txt", "tools 1.1"}},
                 " <Default>true</Default>\n");
    publish_upstream();
    listed = remote();
    EXPECT_EQ(listed["apps"][0]["majors"][0]["upstream_revision"], 2);
    EXPECT_TRUE(listed["apps"][0]["majors"][0]["update_available"].get<bool>());
    r = ferry({"check-updates", "--root", target.string(), "--json"});
    EXPECT_TRUE(Json::parse(r.out).at("updates").empty()) << "not pulled yet: " << r.out;

    const Json second = pull("com.acme.suite@3");
    EXPECT_EQ(second.at("state"), "success");
    EXPECT_LT(second.at("done").get<std::uint64_t>(), 40000u)
        << "only the changed component travels, not core's 40 kB";

    r = ferry({"check-updates", "--root", target.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const Json updates = Json::parse(r.out).at("updates");
    ASSERT_EQ(updates.size(), 1u) << r.out;
    EXPECT_EQ(updates[0]["name"], "com.acme.tools");
    EXPECT_EQ(updates[0]["new_version"], "1.1");
    r = ferry({"update", "--root", target.string(), "-q"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target / "tools.txt"), "tools 1.1");
    EXPECT_EQ(ferry({"verify", "--root", target.string(), "-q"}).exit_code, 0);
}

TEST_F(MarketSync, PullingSomethingUpstreamLacksFailsWithTheReason) {
    publish_upstream();
    const CommandResult r = ferry({"market", "pull", "com.acme.nothing", "--server",
                                   internal_.url(), "--token", internal_token_});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("no upstream market has the app \"com.acme.nothing\""), std::string::npos)
        << r.err;
    const CommandResult no_token =
        ferry({"market", "pull", "com.acme.suite", "--server", internal_.url()});
    EXPECT_EQ(no_token.exit_code, 1);
    EXPECT_NE(no_token.err.find("401"), std::string::npos) << no_token.err;
}

TEST_F(MarketSync, AMarketWithoutUpstreamsSaysSo) {
    const CommandResult r = ferry({"market", "pull", "com.acme.suite", "--server", upstream_.url(),
                                   "--token", upstream_token_});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no upstream market"), std::string::npos) << r.err;
}

TEST_F(MarketSync, TheAppsDescriptionIsThePublishersAndStaysUntilChanged) {
    CommandResult r = ferry({"publish", packages_.string(), "--server", upstream_.url(), "--token",
                             upstream_token_, "--app", "com.acme.suite", "--version", "3", "--name",
                             "Acme Suite", "--icon", "https://acme.example/icon.png",
                             "--export-formats", "rainbond-app,docker-compose", "-q"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    make_package(packages_, "com.acme.tools", "1.1", {{"tools.txt", "tools 1.1"}},
                 " <Default>true</Default>\n");
    publish_upstream();  // without --name, --icon or --export-formats
    r = ferry({"market", "remote", "--server", internal_.url(), "--json"});
    const Json app = Json::parse(r.out).at("apps").at(0);
    EXPECT_EQ(app["name"], "Acme Suite");
    EXPECT_EQ(app["icon"], "https://acme.example/icon.png");
    EXPECT_EQ(app["export_formats"], Json::array({"rainbond-app", "docker-compose"}));
    EXPECT_EQ(app["kind"], "app");
}

TEST_F(FerryTest, AStartingMarketDropsHalfWrittenUploadsButKeepsPullsToResume) {
    const fs::path data = root() / "data";
    { MarketServer first(FERRY_BINARY, data); }
    write_text(data / "uploads" / ".deadbeef.tmp-1", "half an upload");
    write_text(data / "uploads" / "pull-abc.part", "half a pull");
    MarketServer again(FERRY_BINARY, data);
    EXPECT_FALSE(fs::exists(data / "uploads" / ".deadbeef.tmp-1"));
    EXPECT_TRUE(fs::exists(data / "uploads" / "pull-abc.part"));
}

// An HTTP request to a market (a token as bearer when given).
Answer call(const MarketServer& server, const std::string& method, const std::string& path,
            const std::string& token = "", const Json& body = nullptr) {
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(30, 0);
    httplib::Headers headers;
    if (!token.empty()) {
        headers.emplace("Authorization", "Bearer " + token);
    }
    const httplib::Result result =
        method == "POST" ? client.Post(path.c_str(), headers, body.dump(), "application/json")
                         : client.Get(path.c_str(), headers);
    return result ? Answer{result->status, result->body} : Answer{};
}

std::uintmax_t size_or_zero(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    return ec ? 0 : size;
}

// nginx in front of the upstream as docs/API.md describes it: the repositories served from the
// data directory, the API passed on. First downloads go at kRate bytes per second, so that a
// pull lasts long enough to be asked for again or killed half way; resumptions (with Range) go
// at full speed.
constexpr int kRate = 64 * 1024;

std::string front_of(int market_port) {
    return "    location /repo/ {\n"
           "      limit_rate " +
           std::to_string(kRate) +
           ";\n"
           "      if ($http_range) { limit_rate 0; }\n"
           "    }\n"
           "    location /api/ {\n"
           "      proxy_pass http://127.0.0.1:" +
           std::to_string(market_port) +
           ";\n"
           "      client_max_body_size 0;\n"
           "      proxy_request_buffering off;\n"
           "    }\n";
}

class MarketSyncBehindNginx : public FerryTest {
  protected:
    MarketSyncBehindNginx()
        : upstream_(FERRY_BINARY, root() / "upstream"),
          nginx_(root() / "upstream", front_of(upstream_.port())),
          upstream_token_(create_token(FERRY_BINARY, root() / "upstream")),
          internal_token_(create_token(FERRY_BINARY, root() / "internal")) {}

    // com.acme.suite@3: com.acme.core with core_size incompressible bytes, and com.acme.tools.
    void publish_through_nginx(std::size_t core_size) {
        const fs::path packages = root() / "packages";
        make_package(packages, "com.acme.core", "1.0", {{"core.bin", random_bytes(core_size, 7)}},
                     " <Default>true</Default>\n");
        make_package(packages, "com.acme.tools", "1.0", {{"tools.txt", "tools 1.0"}},
                     " <Default>true</Default>\n");
        const CommandResult r =
            ferry({"publish", packages.string(), "--server", upstream_url(), "--token",
                   upstream_token_, "--app", "com.acme.suite", "--version", "3", "-q"});
        ASSERT_EQ(r.exit_code, 0) << testing::describe(r);
    }

    // What a pull transfers: the revision's files as the upstream lists them.
    Json upstream_files() const {
        return call(upstream_, "GET", "/api/v1/apps/com.acme.suite/versions/3").json().at("files");
    }

    // The largest file of the revision (com.acme.core's archive) and the .part a pull downloads
    // it into.
    std::pair<Json, fs::path> largest_upstream_file() const {
        Json largest;
        for (const Json& file : upstream_files()) {
            if (largest.is_null() || file.at("size") > largest.at("size")) {
                largest = file;
            }
        }
        return {largest, root() / "internal" / "uploads" /
                             ("pull-" + largest.at("sha256").get<std::string>() + ".part")};
    }

    std::string upstream_url() const {
        std::string url = nginx_.url();
        url.pop_back();  // the trailing '/'
        return url;
    }

    void start_internal() {
        internal_.reset();
        internal_ =
            std::make_unique<MarketServer>(FERRY_BINARY, root() / "internal",
                                           std::vector<std::string>{"--upstream", upstream_url()});
    }

    // A pull of a revision whose largest file takes sixteen seconds behind nginx, started on a
    // fresh internal market and followed until that file's download has begun (started says
    // whether it did): the job, the file and its .part.
    struct SlowPull {
        std::string id;
        Json file;
        fs::path part;
        bool started = false;
    };
    SlowPull start_slow_pull() {
        publish_through_nginx(16 * kRate);
        auto [file, part] = largest_upstream_file();
        start_internal();
        SlowPull slow{post_pull().at("id"), std::move(file), std::move(part)};
        slow.started = wait_until([&] { return size_or_zero(slow.part) >= 16 * 1024; });
        return slow;
    }

    // POST /api/v1/pulls: the job.
    Json post_pull() const {
        const Answer a =
            call(*internal_, "POST", "/api/v1/pulls", internal_token_, {{"app", "com.acme.suite"}});
        EXPECT_EQ(a.status, 202) << describe(a);
        return a.json();
    }
    Json job(const std::string& id) const {
        return call(*internal_, "GET", "/api/v1/jobs/" + id).json();
    }
    CommandResult pull() const {
        return ferry({"market", "pull", "com.acme.suite", "--server", internal_->url(), "--token",
                      internal_token_, "--json"});
    }

    // The app is nowhere in the internal market: not in the API, not under /repo/.
    void expect_not_visible(const std::string& when) const {
        EXPECT_EQ(call(*internal_, "GET", "/api/v1/apps/com.acme.suite").status, 404) << when;
        EXPECT_EQ(call(*internal_, "GET", "/api/v1/apps").json().value("total", -1), 0) << when;
        EXPECT_EQ(call(*internal_, "GET", "/repo/com.acme.suite/3/Updates.xml").status, 404)
            << when;
    }

    MarketServer upstream_;
    NginxServer nginx_;
    std::string upstream_token_;
    std::string internal_token_;
    std::unique_ptr<MarketServer> internal_;
};

TEST_F(MarketSyncBehindNginx, PullsAskedForAtOnceAreOneJobAndFetchEachFileOnce) {
    publish_through_nginx(4 * kRate);  // about three seconds behind nginx
    start_internal();

    const Json first = post_pull();
    const Json second = post_pull();
    EXPECT_EQ(second.value("id", ""), first.value("id", "")) << second.dump();
    ASSERT_THAT(job(first.at("id").get<std::string>()).value("state", ""),
                ::testing::AnyOf("queued", "running"))
        << "the pull ended before it was asked for again: the test proves nothing";
    CommandResult results[2];
    std::thread one([&] { results[0] = pull(); });
    std::thread two([&] { results[1] = pull(); });
    one.join();
    two.join();
    for (const CommandResult& r : results) {
        ASSERT_EQ(r.exit_code, 0) << testing::describe(r);
        const Json finished = Json::parse(r.out);
        EXPECT_EQ(finished.at("id"), first.at("id"));
        EXPECT_EQ(finished.at("state"), "success");
    }

    const Json jobs = call(*internal_, "GET", "/api/v1/jobs").json().at("jobs");
    EXPECT_EQ(jobs.size(), 1u) << jobs.dump(2);
    for (const Json& file : upstream_files()) {
        const std::string path = "repo/com.acme.suite/3/" + file.at("path").get<std::string>();
        EXPECT_EQ(nginx_.requests_for(path).size(), 1u) << path << ":\n"
                                                        << read_text(nginx_.access_log());
    }
}

TEST_F(MarketSyncBehindNginx, APullKilledHalfWayFailsAndTheNextOneResumesIt) {
    const SlowPull slow = start_slow_pull();  // killed long before it ends
    const std::string& id = slow.id;
    const Json& core = slow.file;
    const fs::path& part = slow.part;
    ASSERT_TRUE(slow.started) << "the download of " << core.at("path") << " did not start";
    EXPECT_EQ(job(id).value("state", ""), "running");
    expect_not_visible("while the pull runs");
    internal_->kill_hard();
    const std::uintmax_t partial = size_or_zero(part);
    EXPECT_LT(partial, core.at("size").get<std::uintmax_t>());

    start_internal();
    const Json killed = job(id);
    EXPECT_EQ(killed.value("state", ""), "failed") << killed.dump();
    EXPECT_THAT(killed.value("error", ""), HasSubstr("interrupted")) << killed.dump();
    expect_not_visible("after the restart");

    const CommandResult again = pull();
    ASSERT_EQ(again.exit_code, 0) << testing::describe(again);
    EXPECT_EQ(Json::parse(again.out).at("state"), "success");
    const auto requests =
        nginx_.requests_for("repo/com.acme.suite/3/" + core.at("path").get<std::string>());
    ASSERT_EQ(requests.size(), 2u) << read_text(nginx_.access_log());
    EXPECT_THAT(requests[1], HasSubstr("\" 206 ")) << "the second download continues the first";
    EXPECT_FALSE(fs::exists(part));

    const fs::path target = root() / "installation";
    const CommandResult installed = ferry({"install", "--market", internal_->url(),
                                           "com.acme.suite", "--root", target.string(), "-q"});
    ASSERT_EQ(installed.exit_code, 0) << testing::describe(installed);
    EXPECT_EQ(read_text(target / "core.bin"), random_bytes(16 * kRate, 7));
    EXPECT_EQ(ferry({"verify", "--root", target.string(), "-q"}).exit_code, 0);
}

TEST_F(MarketSyncBehindNginx, AStopCutsAPullsDownloadAtOnceAndKeepsItsPartForTheNextPull) {
    const SlowPull slow = start_slow_pull();  // stopped long before it ends
    const std::string& id = slow.id;
    const Json& core = slow.file;
    const fs::path& part = slow.part;
    ASSERT_TRUE(slow.started) << "the download of " << core.at("path") << " did not start";
    const auto stopped_at = std::chrono::steady_clock::now();
    const int status = internal_->stop(std::chrono::seconds(6));
    const auto took = std::chrono::steady_clock::now() - stopped_at;
    ASSERT_NE(status, -1) << "ferry serve still waited for the pull 6 s after SIGTERM\n"
                          << internal_->log();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    EXPECT_LT(took, std::chrono::seconds(4)) << "the download was not cut within about a second";
    const std::uintmax_t partial = size_or_zero(part);
    EXPECT_GE(partial, 16u * 1024) << "the download's .part was not kept";
    EXPECT_LT(partial, core.at("size").get<std::uintmax_t>());

    start_internal();
    const Json stopped = job(id);
    EXPECT_EQ(stopped.value("state", ""), "failed") << stopped.dump();
    EXPECT_THAT(stopped.value("error", ""), HasSubstr("the server stopped")) << stopped.dump();
    expect_not_visible("after the stop");
    EXPECT_EQ(size_or_zero(part), partial) << "the .part is not there for the next pull";
}

// An upstream that lets nobody read without a token.
class MarketSyncPrivateUpstream : public FerryTest {
  protected:
    MarketSyncPrivateUpstream()
        : upstream_(FERRY_BINARY, root() / "upstream", {"--private"}),
          token_(create_token(FERRY_BINARY, root() / "upstream")),
          internal_token_(create_token(FERRY_BINARY, root() / "internal")) {
        const fs::path packages = root() / "packages";
        make_package(packages, "com.acme.core", "1.0", {{"core.bin", random_bytes(20000, 3)}},
                     " <Default>true</Default>\n");
        const CommandResult r =
            ferry({"publish", packages.string(), "--server", upstream_.url(), "--token", token_,
                   "--app", "com.acme.suite", "--version", "3", "-q"});
        EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
    }

    MarketServer upstream_;
    std::string token_;
    std::string internal_token_;
};

TEST_F(MarketSyncPrivateUpstream, ItsTokenListsAndPullsTheApp) {
    MarketServer internal(FERRY_BINARY, root() / "internal",
                          {"--upstream", upstream_.url(), "--upstream-token", token_});
    const CommandResult remote = ferry({"market", "remote", "--server", internal.url(), "--json"});
    ASSERT_EQ(remote.exit_code, 0) << testing::describe(remote);
    EXPECT_EQ(Json::parse(remote.out).at("apps").at(0).at("key"), "com.acme.suite");

    const CommandResult pulled = ferry({"market", "pull", "com.acme.suite", "--server",
                                        internal.url(), "--token", internal_token_, "--json"});
    ASSERT_EQ(pulled.exit_code, 0) << testing::describe(pulled);
    EXPECT_EQ(Json::parse(pulled.out).at("state"), "success");
    // The repository's files came through the private upstream's /repo/, which needs the token.
    EXPECT_THAT(upstream_.log(), ::testing::ContainsRegex("GET /repo/com.acme.suite/3/[^ ]+ 200"));

    const fs::path target = root() / "installation";
    const CommandResult installed = ferry(
        {"install", "--market", internal.url(), "com.acme.suite", "--root", target.string(), "-q"});
    ASSERT_EQ(installed.exit_code, 0) << testing::describe(installed);
    EXPECT_EQ(read_text(target / "core.bin"), random_bytes(20000, 3));
    for (const std::string& text :
         {remote.out, remote.err, pulled.out, pulled.err, internal.log(), upstream_.log()}) {
        EXPECT_THAT(text, Not(HasSubstr(token_)));
    }
}

TEST_F(MarketSyncPrivateUpstream, AWrongTokenFailsNamingTheUpstreamAndTheCauseButNotTheToken) {
    const std::string wrong = "ferry_wrongid_S3cr3tThatMustNotShow";
    MarketServer internal(FERRY_BINARY, root() / "internal",
                          {"--upstream", upstream_.url(), "--upstream-token", wrong});
    const CommandResult remote = ferry({"market", "remote", "--server", internal.url()});
    EXPECT_EQ(remote.exit_code, 1) << testing::describe(remote);
    EXPECT_THAT(remote.err, HasSubstr("HTTP 502: upstream market " + upstream_.url()));
    EXPECT_THAT(remote.err, HasSubstr("401"));
    EXPECT_THAT(remote.err, HasSubstr("the token is not valid"));

    const CommandResult pulled = ferry({"market", "pull", "com.acme.suite", "--server",
                                        internal.url(), "--token", internal_token_, "--json"});
    EXPECT_EQ(pulled.exit_code, 1) << testing::describe(pulled);
    const Json failed = Json::parse(pulled.out);
    EXPECT_EQ(failed.at("state"), "failed");
    for (const std::string& text : {pulled.err, failed.value("error", "")}) {
        EXPECT_THAT(text, HasSubstr(upstream_.url()));
        EXPECT_THAT(text, HasSubstr("401"));
        EXPECT_THAT(text, HasSubstr("the token is not valid"));
    }
    EXPECT_EQ(call(internal, "GET", "/api/v1/apps/com.acme.suite").status, 404);
    for (const std::string& text :
         {remote.out, remote.err, pulled.out, pulled.err, internal.log(), upstream_.log()}) {
        EXPECT_THAT(text, Not(HasSubstr("S3cr3tThatMustNotShow")));
    }
}

}  // namespace
}  // namespace ferry::testing
