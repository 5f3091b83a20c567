// A hostile upstream market: names in its answers (majors, app keys, component and file names,
// blob digests) that would lead a pull outside a repository are refused before any request or
// file is made of them. The upstream is a stand-in that answers with such names and records
// every request it gets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/publisher.hpp"
#include "market/upstream.hpp"
#include "support/test_support.hpp"

namespace ferry::market {
namespace {

using Json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class HostileUpstream : public ::testing::Test {
  protected:
    HostileUpstream() {
        // Every GET is recorded and answered from answers_ (404 for what it does not hold).
        server_.Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex_);
            const std::string target = req.target;
            requested_.push_back(target);
            const auto answer = answers_.find(target);
            if (answer == answers_.end()) {
                res.status = 404;
                res.set_content(R"({"error":{"status":404,"message":"no such thing"}})",
                                "application/json");
                return;
            }
            res.set_content(answer->second.dump(), "application/json");
        });
        // Bound (and listening) before the thread starts: requests wait in the backlog.
        port_ = server_.bind_to_any_port("127.0.0.1");
        runner_ = std::thread([this] { server_.listen_after_bind(); });
        upstreams_ = {{"http://127.0.0.1:" + std::to_string(port_), "", ""}};
    }
    ~HostileUpstream() override {
        server_.stop();
        runner_.join();
    }

    void answer(const std::string& target, Json body) {
        std::lock_guard lock(mutex_);
        answers_[target] = std::move(body);
    }
    std::vector<std::string> requested() {
        std::lock_guard lock(mutex_);
        return requested_;
    }

    // The app com.test.app with one major as the upstream describes it.
    void app_with_major(const std::string& major) {
        answer("/api/v1/apps/com.test.app",
               {{"key", "com.test.app"}, {"name", "Test"}, {"majors", {{{"major", major}}}}});
    }
    // Revision 1 of com.test.app@1 with the given components and files.
    void revision_of_1(Json components, Json files) {
        answer("/api/v1/apps/com.test.app/versions/1",
               {{"revision", 1}, {"components", components}, {"files", files}});
    }

    std::string pull_error(const std::string& major) {
        return testing::error_of(
            [&] { pull_app(data_, publisher_, upstreams_, "com.test.app", major); });
    }

    core::ScratchDir scratch_;
    DataDir data_{scratch_.path() / "data"};
    std::unique_ptr<Catalog> catalog_ = open_sqlite_catalog(data_.catalog_file());
    Publisher publisher_{data_, *catalog_};
    httplib::Server server_;
    int port_ = 0;
    std::thread runner_;
    std::vector<UpstreamMarket> upstreams_;
    std::mutex mutex_;
    std::map<std::string, Json> answers_;
    std::vector<std::string> requested_;
};

const std::string kSha = std::string(64, 'a');

TEST_F(HostileUpstream, ANewestMajorThatLeavesTheRepositoryIsNeverRequested) {
    for (const std::string major : {"../../../api/v1/tokens", "..", "1/../../x", "%2e%2e"}) {
        app_with_major(major);
        const std::string error = pull_error("");
        EXPECT_THAT(error, HasSubstr(upstreams_[0].url)) << major;
        EXPECT_THAT(error, HasSubstr("major version")) << major;
    }
    for (const std::string& target : requested()) {
        EXPECT_EQ(target, "/api/v1/apps/com.test.app") << "a request followed a hostile name";
    }
    EXPECT_TRUE(fs::is_empty(data_.uploads()));
}

TEST_F(HostileUpstream, FileNamesAndDigestsThatLeaveTheRepositoryAreNeverRequested) {
    app_with_major("1");
    const Json component = {{"name", "com.test.a"}, {"version", "1.0"}, {"content_sha256", kSha}};
    const std::pair<Json, std::string> cases[] = {
        {{{"path", "../../outside.7z"}, {"sha256", kSha}, {"size", 10}}, "../../outside.7z"},
        {{{"path", "com.test.a/%2e%2e/%2e%2e/x"}, {"sha256", kSha}, {"size", 10}}, "%2e%2e"},
        {{{"path", "/etc/passwd"}, {"sha256", kSha}, {"size", 10}}, "/etc/passwd"},
        // Paths in another form than their clean one name a file other than the one checked.
        {{{"path", "com.test.a//1.0content.7z"}, {"sha256", kSha}, {"size", 10}}, "clean form"},
        {{{"path", "com.test.a/1.0content.7z/"}, {"sha256", kSha}, {"size", 10}}, "clean form"},
        {{{"path", "Updates.xml"}, {"sha256", kSha}, {"size", 10}}, "Updates.xml"},
        {{{"path", "com.test.a/1.0content.7z"}, {"sha256", "../../../x"}, {"size", 10}},
         "is not a SHA-256"},
    };
    for (const auto& [file, named] : cases) {
        revision_of_1(Json::array({component}), Json::array({file}));
        const std::string error = pull_error("1");
        EXPECT_THAT(error, HasSubstr(upstreams_[0].url)) << file;
        EXPECT_THAT(error, HasSubstr(named)) << file;
    }
    for (const std::string& target : requested()) {
        EXPECT_THAT(target, ::testing::AnyOf("/api/v1/apps/com.test.app",
                                             "/api/v1/apps/com.test.app/versions/1"))
            << "a request followed a hostile name";
    }
    EXPECT_TRUE(fs::is_empty(data_.uploads()));
    EXPECT_TRUE(fs::is_empty(data_.blob(kSha).parent_path().parent_path())) << "a blob was stored";
}

TEST_F(HostileUpstream, AComponentNameThatIsNotAPlainNameIsRefused) {
    app_with_major("1");
    revision_of_1(
        Json::array({{{"name", "../com.test.a"}, {"version", "1.0"}, {"content_sha256", kSha}}}),
        Json::array());
    EXPECT_THAT(pull_error("1"), HasSubstr("../com.test.a"));
    EXPECT_THAT(requested(),
                ElementsAre("/api/v1/apps/com.test.app", "/api/v1/apps/com.test.app/versions/1"));
}

TEST_F(HostileUpstream, ListingRefusesAnAppKeyOrMajorBeforeAskingForIt) {
    answer("/api/v1/apps?offset=0&limit=1000",
           {{"apps", {{{"key", "../../api/v1/tokens"}, {"name", "x"}}}}, {"total", 1}});
    const std::string error = testing::error_of([&] { list_upstream_apps(upstreams_, *catalog_); });
    EXPECT_THAT(error, HasSubstr(upstreams_[0].url));
    EXPECT_THAT(error, HasSubstr("app key \"../../api/v1/tokens\""));
    EXPECT_THAT(requested(), ElementsAre("/api/v1/apps?offset=0&limit=1000"));

    answer("/api/v1/apps?offset=0&limit=1000",
           {{"apps", {{{"key", "com.test.app"}, {"name", "x"}}}}, {"total", 1}});
    answer("/api/v1/apps/com.test.app",
           {{"key", "com.test.app"}, {"majors", {{{"major", "../1"}}}}});
    EXPECT_THAT(testing::error_of([&] { list_upstream_apps(upstreams_, *catalog_); }),
                HasSubstr("major version \"../1\""));
    for (const std::string& target : requested()) {
        EXPECT_THAT(target, ::testing::Not(HasSubstr(".."))) << "a request followed a hostile name";
    }
}

}  // namespace
}  // namespace ferry::market
