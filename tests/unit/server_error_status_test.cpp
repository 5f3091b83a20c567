// How the server answers failures: each kind of ferry::Error has its status, mapped in one
// place; anything else is a 500 that tells the client nothing of its cause and logs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "server/error_status.hpp"
#include "server/http_server.hpp"

namespace ferry::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ServerErrorStatus, EachKindHasItsStatus) {
    EXPECT_EQ(http_status(ErrorKind::invalid_input), 400);
    EXPECT_EQ(http_status(ErrorKind::not_found), 404);
    EXPECT_EQ(http_status(ErrorKind::conflict), 409);
    EXPECT_EQ(http_status(ErrorKind::upstream), 502);
    EXPECT_EQ(http_status(ErrorKind::storage), 507);
    EXPECT_EQ(http_status(ErrorKind::internal), 500);
}

// A server whose routes throw: /kind/<n> a ferry::Error of ErrorKind n, /library an exception
// of another type whose text must not reach the client.
class ThrowingRoutes : public ::testing::Test {
  protected:
    void SetUp() override {
        server_.routes().Get(R"(/kind/(\d))", [](const Request& req, Response&) {
            throw Error(fmt::format("failure of kind {}", req.matches[1]),
                        static_cast<ErrorKind>(std::stoi(req.matches[1])));
        });
        server_.routes().Get("/library", [](const Request&, Response&) {
            throw std::runtime_error("[json.exception.type_error.302] secret internals");
        });
        server_.set_failure_log([this](std::string_view line) {
            std::lock_guard lock(mutex_);
            failures_.emplace_back(line);
        });
        runner_ = std::thread([this] { server_.run(); });
    }
    void TearDown() override {
        server_.stop();
        runner_.join();
    }

    httplib::Result get(const std::string& path) {
        httplib::Client client("127.0.0.1", server_.port());
        return client.Get(path.c_str());
    }

    HttpServer server_{ServerOptions{}};
    std::thread runner_;
    std::mutex mutex_;
    std::vector<std::string> failures_;
};

TEST_F(ThrowingRoutes, AnErrorIsAnsweredWithTheStatusOfItsKindAndItsMessage) {
    for (const ErrorKind kind : {ErrorKind::invalid_input, ErrorKind::not_found,
                                 ErrorKind::conflict, ErrorKind::upstream, ErrorKind::storage}) {
        const int n = static_cast<int>(kind);
        const auto result = get("/kind/" + std::to_string(n));
        ASSERT_TRUE(result) << n;
        EXPECT_EQ(result->status, http_status(kind)) << n;
        const auto body = nlohmann::json::parse(result->body, nullptr, false);
        EXPECT_EQ(body["error"].value("status", 0), http_status(kind)) << result->body;
        EXPECT_EQ(body["error"].value("message", ""), "failure of kind " + std::to_string(n));
    }
    std::lock_guard lock(mutex_);
    EXPECT_TRUE(failures_.empty());
}

TEST_F(ThrowingRoutes, AnUnexpectedFailureIsA500WhoseCauseIsLoggedNotSent) {
    for (const std::string path : {"/library", "/kind/5"}) {
        const auto result = get(path);
        ASSERT_TRUE(result) << path;
        EXPECT_EQ(result->status, 500) << path;
        EXPECT_THAT(result->body, HasSubstr("internal error")) << path;
        EXPECT_THAT(result->body, Not(HasSubstr("secret internals"))) << path;
        EXPECT_THAT(result->body, Not(HasSubstr("failure of kind"))) << path;
    }
    std::lock_guard lock(mutex_);
    ASSERT_EQ(failures_.size(), 2u);
    EXPECT_THAT(failures_[0], HasSubstr("[json.exception.type_error.302] secret internals"));
    EXPECT_THAT(failures_[1], HasSubstr("failure of kind 5"));
}

}  // namespace
}  // namespace ferry::server
