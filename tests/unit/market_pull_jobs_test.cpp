// Pull jobs on background threads: a failing upstream fails the job with a message naming it,
// and the threads of finished pulls are joined rather than kept until the server stops.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/files.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/publisher.hpp"
#include "market/upstream.hpp"
#include "support/nginx_server.hpp"

namespace ferry::market {
namespace {

// The job once it has left queued and running (bounded wait; the last state seen otherwise).
Job finished_job(Catalog& catalog, const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::optional<Job> job = catalog.find_job(id);
    while (job && (job->state == Job::State::queued || job->state == Job::State::running) &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the job's state
        job = catalog.find_job(id);
    }
    return job.value_or(Job{});
}

// A market whose one upstream is a loopback port nothing listens on: every pull fails at its
// first request.
class PullJobsTest : public ::testing::Test {
  protected:
    core::ScratchDir scratch;
    DataDir data{scratch.path() / "data"};
    std::unique_ptr<Catalog> catalog = open_sqlite_catalog(data.catalog_file());
    Publisher publisher{data, *catalog};
    std::string upstream = "http://127.0.0.1:" + std::to_string(testing::free_port());
    PullJobs pulls{data, *catalog, publisher, {{upstream, "", ""}}};
};

TEST_F(PullJobsTest, FinishedPullsDoNotKeepTheirThreads) {
    for (int i = 0; i < 6; ++i) {
        const Job started = pulls.start("com.test.app" + std::to_string(i), "1");
        const Job job = finished_job(*catalog, started.id);
        ASSERT_EQ(job.state, Job::State::failed) << job.id;
        EXPECT_THAT(job.error, ::testing::HasSubstr(upstream));
        // This pull's thread, and the previous one if it had not yet marked itself finished
        // when this one started.
        EXPECT_LE(pulls.threads(), 2u) << "after " << i + 1 << " pulls";
    }
}

TEST_F(PullJobsTest, AFailedPullMayBeStartedAgainAtOnce) {
    const Job first = pulls.start("com.test.app", "1");
    ASSERT_EQ(finished_job(*catalog, first.id).state, Job::State::failed);
    // A finished pull is not reused: the target may be pulled again.
    const Job again = pulls.start("com.test.app", "1");
    EXPECT_NE(again.id, first.id);
}

}  // namespace
}  // namespace ferry::market
