// Pull jobs on background threads: a failing upstream fails the job with a message naming it,
// the threads of finished pulls are joined rather than kept until the server stops, and a pull
// of an app's newest major is the same job as a pull naming that major.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/files.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/publisher.hpp"
#include "market/upstream.hpp"
#include "repo/generator.hpp"
#include "server/http_server.hpp"
#include "server/market_api.hpp"
#include "support/nginx_server.hpp"
#include "support/test_support.hpp"

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
        // The job records its end before its thread marks itself finished (the last step of
        // the thread, which a loaded machine may delay): the thread goes once it has.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (pulls.threads() > 0 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling its end
        }
        EXPECT_EQ(pulls.threads(), 0u) << "after " << i + 1 << " pulls";
    }
}

TEST_F(PullJobsTest, AFailedPullMayBeStartedAgainAtOnce) {
    const Job first = pulls.start("com.test.app", "1");
    ASSERT_EQ(finished_job(*catalog, first.id).state, Job::State::failed);
    // A finished pull is not reused: the target may be pulled again.
    const Job again = pulls.start("com.test.app", "1");
    EXPECT_NE(again.id, first.id);
}

TEST_F(PullJobsTest, APullOfTheNewestMajorFromAnUnreachableUpstreamFailsNamingIt) {
    // Which major is the newest is asked of the upstream before the job exists: the job fails
    // with the reason at once, naming the app alone (its major is not known).
    const Job job = pulls.start("com.test.app", "");
    EXPECT_EQ(job.state, Job::State::failed);
    EXPECT_EQ(job.target, "com.test.app");
    EXPECT_THAT(job.error, ::testing::HasSubstr(upstream));
    EXPECT_EQ(catalog->find_job(job.id), job);
    EXPECT_EQ(pulls.threads(), 0u);
}

// A catalog whose job records fail once a pull is under way, as SQLite does when it stays busy
// past its timeout or its disk is full; everything else goes to a real catalog.
class CatalogFailingJobUpdates final : public Catalog {
  public:
    explicit CatalogFailingJobUpdates(Catalog& real) : real_(real) {}

    int schema_version() override { return real_.schema_version(); }
    std::uint64_t generation() override { return real_.generation(); }
    std::vector<App> list_apps(const AppQuery& query) override { return real_.list_apps(query); }
    std::size_t count_apps(const AppQuery& query) override { return real_.count_apps(query); }
    std::optional<App> find_app(std::string_view key) override { return real_.find_app(key); }
    App save_app(const App& app) override { return real_.save_app(app); }
    std::vector<Major> list_majors(std::string_view key) override { return real_.list_majors(key); }
    std::optional<Major> find_major(std::string_view key, std::string_view major) override {
        return real_.find_major(key, major);
    }
    std::optional<Revision> find_revision(std::string_view key, std::string_view major,
                                          int number) override {
        return real_.find_revision(key, major, number);
    }
    void commit_revision(const Revision& revision, int after) override {
        real_.commit_revision(revision, after);
    }
    void add_token(const Token& token) override { real_.add_token(token); }
    std::optional<Token> find_token_by_hash(std::string_view hash) override {
        return real_.find_token_by_hash(hash);
    }
    std::vector<Token> list_tokens() override { return real_.list_tokens(); }
    bool remove_token(std::string_view id) override { return real_.remove_token(id); }
    void record_token_use(std::string_view id) override { real_.record_token_use(id); }
    void save_job(const Job& job) override {
        if (job.state != Job::State::queued) {
            throw Error("catalog.db: cannot commit a transaction: database or disk is full",
                        ErrorKind::storage);
        }
        real_.save_job(job);
    }
    std::optional<Job> find_job(std::string_view id) override { return real_.find_job(id); }
    std::vector<Job> list_jobs(std::size_t limit) override { return real_.list_jobs(limit); }

  private:
    Catalog& real_;
};

// Before, the exception of the thread's save ended the whole process (std::terminate).
TEST_F(PullJobsTest, AJobStateTheCatalogCannotSaveIsLoggedAndTheServerLivesOn) {
    CatalogFailingJobUpdates failing(*catalog);
    std::mutex log_mutex;
    std::vector<std::string> log;
    Job job;
    {
        PullJobs failing_pulls(data, failing, publisher, {{upstream, "", ""}},
                               [&](std::string_view line) {
                                   std::lock_guard lock(log_mutex);
                                   log.emplace_back(line);
                               });
        job = failing_pulls.start("com.test.app", "1");
        EXPECT_EQ(job.state, Job::State::queued);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        for (bool logged = false; !logged && std::chrono::steady_clock::now() < deadline;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the log
            std::lock_guard lock(log_mutex);
            logged = !log.empty();
        }
    }  // joins the pull's thread
    ASSERT_EQ(log.size(), 1u) << "the failed save of the job's end was not logged";
    EXPECT_THAT(log[0], ::testing::HasSubstr(job.id));
    EXPECT_THAT(log[0], ::testing::HasSubstr("com.test.app@1"));
    EXPECT_THAT(log[0], ::testing::HasSubstr("database or disk is full"));
    // What could be saved is there; the next server marks the job interrupted.
    EXPECT_EQ(catalog->find_job(job.id)->state, Job::State::queued);
    PullJobs next(data, *catalog, publisher, {{upstream, "", ""}});
    EXPECT_EQ(catalog->find_job(job.id)->state, Job::State::failed);
}

// A real upstream market (the market's HTTP API and repositories on a loopback port) with the
// majors 2 and 3 of com.test.app. The repository files of major 3 other than its index wait at a
// gate until the test opens it, so that a pull is known to be running while others are asked for.
class PullJobsFromAnUpstream : public ::testing::Test {
  protected:
    PullJobsFromAnUpstream() {
        publish_upstream("2");
        files_of_3_ = publish_upstream("3");
        // Registered before the market's routes: the first route that matches answers, and the
        // market's own routes serve the rest of /repo/.
        server_->routes().Get(
            R"(/repo/com\.test\.app/3/(?!Updates\.xml$)(.+))",
            [this](const server::Request& req, server::Response& res) {
                const std::string path = req.matches[1];
                {
                    std::unique_lock lock(gate_mutex_);
                    ++requested_[path];
                    ++waiting_;
                    gate_changed_.notify_all();
                    gate_changed_.wait(lock, [this] { return open_; });
                    --waiting_;
                }
                res.set_content(
                    core::read_file(upstream_data_.repository("com.test.app", "3") / path),
                    "application/octet-stream");
            });
        api_.install(*server_);
        runner_ = std::thread([this] { server_->run(); });
        pulls_ = std::make_unique<PullJobs>(data_, *catalog_, publisher_,
                                            std::vector<UpstreamMarket>{{server_->url(), "", ""}});
    }

    ~PullJobsFromAnUpstream() override {
        open_gate();
        pulls_.reset();  // joins the pulls, which the server answers before it stops
        server_->stop();
        runner_.join();
    }

    // Builds a one-component repository for the major and publishes it upstream; its files.
    std::vector<RepositoryFile> publish_upstream(const std::string& major) {
        const fs::path packages = scratch_.path() / ("packages-" + major);
        testing::write_text(packages / "com.test.core" / "meta" / "package.xml",
                            "<?xml version=\"1.0\"?>\n<Package>\n <DisplayName>core</DisplayName>\n"
                            " <Description>test</Description>\n <Version>" +
                                major +
                                ".0</Version>\n <ReleaseDate>2026-01-01</ReleaseDate>\n"
                                " <Default>true</Default>\n</Package>\n");
        testing::write_text(packages / "com.test.core" / "data" / "core.bin",
                            testing::random_bytes(20000, std::stoul(major)));
        const fs::path built = scratch_.path() / ("built-" + major);
        repo::GenerateOptions options;
        options.packages = {packages};
        options.jobs = 1;
        repo::generate_repository(built, options);
        const RepositoryFiles files = read_repository_files(built);
        store_missing_blobs(upstream_data_, built, files.files);
        App app;
        app.key = "com.test.app";
        app.name = "Test App";
        upstream_publisher_.publish({app, major, files.updates_xml, files.files, "notes"});
        return files.files;
    }

    // Whether a request for a repository file reached the gate (bounded wait).
    bool a_request_waits_at_the_gate() {
        std::unique_lock lock(gate_mutex_);
        return gate_changed_.wait_for(lock, std::chrono::seconds(20),
                                      [this] { return waiting_ > 0; });
    }
    void open_gate() {
        std::lock_guard lock(gate_mutex_);
        open_ = true;
        gate_changed_.notify_all();
    }
    // Requests for the repository files of major 3 (its index aside), counted by their content:
    // files with the same content are one blob here, which a pull fetches once.
    std::map<std::string, int> requests_by_sha256() {
        std::lock_guard lock(gate_mutex_);
        std::map<std::string, int> counted;
        for (const auto& [requested_path, count] : requested_) {
            // A copy: clang 14 cannot capture a structured binding in a lambda.
            const std::string path = requested_path;
            const auto file = std::find_if(files_of_3_.begin(), files_of_3_.end(),
                                           [&](const RepositoryFile& f) { return f.path == path; });
            counted[file == files_of_3_.end() ? "not a file of major 3: " + path : file->sha256] +=
                count;
        }
        return counted;
    }
    // What a pull of major 3 fetches: each of its blobs once.
    std::map<std::string, int> each_blob_of_3_once() const {
        std::map<std::string, int> once;
        for (const RepositoryFile& file : files_of_3_) {
            once[file.sha256] = 1;
        }
        return once;
    }

    core::ScratchDir scratch_;
    DataDir upstream_data_{scratch_.path() / "upstream"};
    std::unique_ptr<Catalog> upstream_catalog_ = open_sqlite_catalog(upstream_data_.catalog_file());
    Publisher upstream_publisher_{upstream_data_, *upstream_catalog_};
    std::unique_ptr<server::HttpServer> server_ =
        std::make_unique<server::HttpServer>(server::ServerOptions{});
    server::MarketApi api_{upstream_data_, *upstream_catalog_, upstream_publisher_, nullptr, {}};
    std::thread runner_;
    std::vector<RepositoryFile> files_of_3_;

    std::mutex gate_mutex_;
    std::condition_variable gate_changed_;
    bool open_ = false;
    int waiting_ = 0;
    std::map<std::string, int> requested_;

    DataDir data_{scratch_.path() / "internal"};
    std::unique_ptr<Catalog> catalog_ = open_sqlite_catalog(data_.catalog_file());
    Publisher publisher_{data_, *catalog_};
    std::unique_ptr<PullJobs> pulls_;
};

TEST_F(PullJobsFromAnUpstream, APullOfTheNewestMajorIsThePullOfThatMajor) {
    const Job first = pulls_->start("com.test.app", "");
    EXPECT_EQ(first.target, "com.test.app@3");
    ASSERT_TRUE(a_request_waits_at_the_gate()) << "the pull did not reach the repository's files: "
                                               << finished_job(*catalog_, first.id).error;

    const Job named = pulls_->start("com.test.app", "3");
    const Job newest_again = pulls_->start("com.test.app", "");
    EXPECT_EQ(named.id, first.id);
    EXPECT_EQ(newest_again.id, first.id);
    EXPECT_EQ(pulls_->threads(), 1u);

    open_gate();
    const Job job = finished_job(*catalog_, first.id);
    EXPECT_EQ(job.state, Job::State::success) << job.error;
    EXPECT_EQ(job.target, "com.test.app@3");
    EXPECT_EQ(catalog_->list_jobs(10).size(), 1u);
    EXPECT_EQ(requests_by_sha256(), each_blob_of_3_once());
    EXPECT_TRUE(catalog_->find_major("com.test.app", "3").has_value());
    EXPECT_FALSE(catalog_->find_major("com.test.app", "2").has_value());
}

TEST_F(PullJobsFromAnUpstream, APullNamingTheNewestMajorIsThePullOfTheNewestMajor) {
    const Job first = pulls_->start("com.test.app", "3");
    ASSERT_TRUE(a_request_waits_at_the_gate()) << "the pull did not reach the repository's files: "
                                               << finished_job(*catalog_, first.id).error;

    const Job newest = pulls_->start("com.test.app", "");
    EXPECT_EQ(newest.id, first.id);

    open_gate();
    EXPECT_EQ(finished_job(*catalog_, first.id).state, Job::State::success);
    EXPECT_EQ(requests_by_sha256(), each_blob_of_3_once());
}

}  // namespace
}  // namespace ferry::market
