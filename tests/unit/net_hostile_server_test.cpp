// The downloader against cpp-httplib stand-ins that misbehave on purpose: bodies and error pages
// without end, and a stalled transfer the user cancels.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/error.hpp"
#include "core/files.hpp"
#include "net/downloader.hpp"
#include "support/stand_in_server.hpp"
#include "support/test_support.hpp"

namespace ferry::net {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::StandInServer;

DownloadOptions quick_options() {
    DownloadOptions options;
    options.retry = RetryPolicy{3, std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
    return options;
}

TEST(HostileServer, EndlessIndexIsCutAtTheBoundWithTheSettingNamed) {
    std::atomic<std::size_t> sent{0};
    StandInServer server([&](httplib::Server& s) {
        s.Get("/Updates.xml", [&](const httplib::Request&, httplib::Response& response) {
            testing::serve_endless(response, "text/xml", 200, &sent);
        });
    });
    core::ScratchDir cache;
    auto options = quick_options();
    options.max_bytes = 1 << 20;
    options.max_bytes_setting = "FERRY_MAX_INDEX_SIZE";
    const std::string message = error_of(
        [&] { Downloader(options).fetch_cached(server.url("Updates.xml"), cache.path()); });
    EXPECT_EQ(message, server.url("Updates.xml") +
                           ": larger than the 1048576 bytes allowed (FERRY_MAX_INDEX_SIZE "
                           "raises the bound)");
    // Cut at the bound, not after a retry or two of it: what the server pushed ahead into the
    // socket buffers is all it got rid of.
    EXPECT_LT(sent.load(), std::size_t{16} << 20);
}

TEST(HostileServer, EndlessDownloadLeavesNoPart) {
    StandInServer server([&](httplib::Server& s) {
        s.Get("/a.7z", [&](const httplib::Request&, httplib::Response& response) {
            testing::serve_endless(response, "application/octet-stream");
        });
    });
    core::ScratchDir out;
    const std::string message = error_of([&] {
        Downloader(quick_options()).download(server.url("a.7z"), out.path() / "a.7z", 100'000);
    });
    EXPECT_EQ(message, server.url("a.7z") + ": larger than the 100000 bytes allowed");
    EXPECT_FALSE(fs::exists(out.path() / "a.7z.part"));
    EXPECT_FALSE(fs::exists(out.path() / "a.7z"));
}

TEST(HostileServer, EndlessErrorPageEndsWithItsStatus) {
    StandInServer server([&](httplib::Server& s) {
        s.Get("/Updates.xml", [&](const httplib::Request&, httplib::Response& response) {
            testing::serve_endless(response, "text/html", 500);
        });
    });
    core::ScratchDir cache;
    const std::string message = error_of(
        [&] { Downloader(quick_options()).fetch_cached(server.url("Updates.xml"), cache.path()); });
    // Cut at 1 MiB; a server that answers so is not asked again.
    EXPECT_EQ(message, server.url("Updates.xml") + ": the server answered HTTP 500");
}

TEST(HostileServer, CancelStopsAStalledDownloadWithinASecondAndKeepsThePart) {
    // 4 KiB, then nothing: libcurl's transfer loop has no data to wake it up.
    StandInServer server([&](httplib::Server& s) {
        s.Get("/big.7z", [&](const httplib::Request&, httplib::Response& response) {
            response.set_content_provider(
                std::size_t{1} << 30, "application/octet-stream",
                [](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                    if (offset == 0) {
                        const std::string first(4096, 'x');
                        return sink.write(first.data(), first.size());
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    return true;
                });
        });
    });
    core::ScratchDir out;
    std::atomic<bool> started{false};
    std::atomic<bool> cancel{false};
    auto options = quick_options();
    options.progress = [&](std::uint64_t done, std::uint64_t) {
        if (done >= 4096) {
            started = true;
        }
    };
    options.cancelled = [&] { return cancel.load(); };
    using Clock = std::chrono::steady_clock;
    Clock::time_point asked;
    std::thread user([&] {
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        while (!started && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        // The transfer stalls from here on; the user gives up after a moment.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        asked = Clock::now();
        cancel = true;
    });
    bool cancelled = false;
    try {
        Downloader(options).download(server.url("big.7z"), out.path() / "big.7z");
    } catch (const Cancelled& e) {
        cancelled = true;
        EXPECT_EQ(std::string(e.what()), server.url("big.7z") + ": download cancelled");
    }
    const auto ended = Clock::now();
    user.join();
    ASSERT_TRUE(cancelled);
    ASSERT_TRUE(started);
    EXPECT_LT(ended - asked, std::chrono::milliseconds(1500));
    // The bytes received are kept for the next run to continue.
    EXPECT_EQ(fs::file_size(out.path() / "big.7z.part"), 4096u);
}

TEST(HostileServer, CancelBeforeAnyRequestSendsNone) {
    std::atomic<int> requests{0};
    StandInServer server([&](httplib::Server& s) {
        s.Get("/a", [&](const httplib::Request&, httplib::Response& response) {
            ++requests;
            response.set_content("a", "text/plain");
        });
    });
    core::ScratchDir out;
    auto options = quick_options();
    options.cancelled = [] { return true; };
    EXPECT_THROW(download_all({{server.url("a"), out.path() / "a", {}}}, 2, options), Cancelled);
    EXPECT_EQ(requests.load(), 0);
}

}  // namespace
}  // namespace ferry::net
