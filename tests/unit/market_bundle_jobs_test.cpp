// Export jobs and import batches on their threads (market/bundle_jobs.hpp): several at once on
// one catalog, the file of an export reused, a batch's record per file, and the order that puts
// a differential bundle after its base.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "bundle/ferry_bundle.hpp"
#include "core/files.hpp"
#include "market/bundle_jobs.hpp"
#include "market/bundles.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/publisher.hpp"
#include "repo/generator.hpp"
#include "support/test_support.hpp"

namespace ferry::market {
namespace {

using Json = nlohmann::json;
using core::ScratchDir;
using ::testing::HasSubstr;
using testing::random_bytes;
using testing::write_text;

struct Side {
    explicit Side(const fs::path& root)
        : data(root),
          catalog(open_sqlite_catalog(data.catalog_file())),
          publisher(data, *catalog) {}
    DataDir data;
    std::unique_ptr<Catalog> catalog;
    Publisher publisher;
};

class BundleJobsTest : public ::testing::Test {
  protected:
    // Publishes a repository of one component into source as app@1.
    void publish(const std::string& app, const std::string& version, const std::string& payload) {
        const fs::path packages = scratch_.path() / ("packages-" + app + version);
        const fs::path dir = packages / (app + ".core");
        write_text(dir / "meta" / "package.xml",
                   "<?xml version=\"1.0\"?>\n<Package>\n <DisplayName>core</DisplayName>\n "
                   "<Description>test</Description>\n <Version>" +
                       version +
                       "</Version>\n <ReleaseDate>2026-01-01</ReleaseDate>\n <Default>true"
                       "</Default>\n</Package>\n");
        write_text(dir / "data" / "payload.bin", payload);
        const fs::path built = scratch_.path() / ("built-" + app + version);
        repo::GenerateOptions options;
        options.packages = {packages};
        options.jobs = 1;
        repo::generate_repository(built, options);
        const RepositoryFiles files = read_repository_files(built);
        store_missing_blobs(source_.data, built, files.files);
        App a;
        a.key = app;
        a.name = app;
        source_.publisher.publish({a, "1", files.updates_xml, files.files, "", 0});
    }

    // Waits for the job to end (a deadline, not a guess) and returns it as it ended.
    static Job finished(Catalog& catalog, const Job& job) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        for (;;) {
            const Job now = *catalog.find_job(job.id);
            if (now.state == Job::State::success || now.state == Job::State::failed) {
                return now;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                ADD_FAILURE() << "job " << job.id << " did not end";
                return now;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling, bounded
        }
    }

    ScratchDir scratch_;
    Side source_{scratch_.path() / "source"};
};

TEST_F(BundleJobsTest, ExportsRunSideBySideAndAnExportedRevisionIsReused) {
    publish("com.acme.one", "1.0", random_bytes(200000, 1));
    publish("com.acme.two", "1.0", random_bytes(200000, 2));
    ExportJobs exports(source_.data, *source_.catalog);
    const std::vector<Job> started = exports.start({"com.acme.one@1", "com.acme.two"});
    ASSERT_EQ(started.size(), 2u);
    for (const Job& job : started) {
        const Job done = finished(*source_.catalog, job);
        ASSERT_EQ(done.state, Job::State::success) << done.error;
        const Json detail = Json::parse(done.detail);
        const fs::path file =
            source_.data.exports() / "bundle" / detail.at("file").get<std::string>();
        EXPECT_TRUE(fs::is_regular_file(file)) << file;
        EXPECT_EQ(detail.at("bytes").get<std::uint64_t>(), fs::file_size(file));
        EXPECT_FALSE(detail.at("reused").get<bool>());
        EXPECT_EQ(detail.at("url"), "/exports/bundle/" + detail.at("file").get<std::string>());
        ASSERT_TRUE(bundle::peek_manifest(file));
    }
    const std::vector<Job> again = exports.start({"com.acme.one@1"});
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].state, Job::State::success) << "done at once";
    EXPECT_TRUE(Json::parse(again[0].detail).at("reused").get<bool>());

    EXPECT_THROW(exports.start({"com.acme.none"}), Error);
}

TEST_F(BundleJobsTest, ABatchImportsItsFilesBaseFirstAndTellsEachFilesState) {
    publish("com.acme.one", "1.0", random_bytes(200000, 1));
    const auto whole =
        bundle::write_bundle(scratch_.path() / "whole.bundle.tar",
                             bundle_sources(source_.data, *source_.catalog, {"com.acme.one@1"}));
    Side target(scratch_.path() / "target");
    // The differential bundle of revision 2 against a market holding revision 1: the target
    // after the whole one.
    Side holding(scratch_.path() / "holding");
    import_bundle(holding.data, *holding.catalog, holding.publisher,
                  scratch_.path() / "whole.bundle.tar");
    const auto have = inventory_blobs(inventory_json(holding.data, *holding.catalog).dump(), "x");
    publish("com.acme.one", "1.1", random_bytes(1000, 3));
    bundle::WriteBundleOptions options;
    options.have = have;
    const auto diff = bundle::write_bundle(
        scratch_.path() / "diff.bundle.tar",
        bundle_sources(source_.data, *source_.catalog, {"com.acme.one@1"}), options);
    ASSERT_TRUE(diff.manifest.differential());

    const fs::path folder = target.data.import_folder();
    fs::copy_file(scratch_.path() / "diff.bundle.tar", folder / "a-diff.bundle.tar");
    fs::copy_file(scratch_.path() / "whole.bundle.tar", folder / "b-whole.bundle.tar");
    write_text(folder / "c-notes.txt", "not a bundle");
    ImportBatches imports(target.data, *target.catalog, target.publisher);
    const Job done = finished(
        *target.catalog, imports.start({"a-diff.bundle.tar", "c-notes.txt", "b-whole.bundle.tar"}));
    EXPECT_EQ(done.state, Job::State::success) << done.error;
    const Json record = Json::parse(done.detail);
    EXPECT_EQ(record.at("result"), "partial_success");
    const Json& files = record.at("files");
    ASSERT_EQ(files.size(), 3u);
    // What is not a bundle first, then the whole one, then the differential one.
    EXPECT_EQ(files[0].at("name"), "c-notes.txt");
    EXPECT_EQ(files[0].at("state"), "failed");
    EXPECT_THAT(files[0].at("error").get<std::string>(), HasSubstr("neither a ferry bundle"));
    EXPECT_EQ(files[1].at("name"), "b-whole.bundle.tar");
    EXPECT_EQ(files[1].at("state"), "success");
    EXPECT_EQ(files[1].at("apps").at(0).at("revision"), 1);
    EXPECT_EQ(files[2].at("name"), "a-diff.bundle.tar");
    EXPECT_EQ(files[2].at("state"), "success");
    EXPECT_EQ(files[2].at("apps").at(0).at("revision"), 2);
    EXPECT_EQ(target.catalog->find_major("com.acme.one", "1")->latest_revision, 2);
    EXPECT_TRUE(fs::exists(folder / "a-diff.bundle.tar")) << "an import never removes its file";

    EXPECT_THROW(imports.start({"missing.tar"}), Error);
    EXPECT_THROW(imports.start({"../escape.tar"}), Error);
}

}  // namespace
}  // namespace ferry::market
