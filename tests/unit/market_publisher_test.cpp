// Publishing into a market's data directory with the real catalog: revisions, unchanged
// components, the version rule, retention of the previous revision's files, the blob store's
// checks, and recording a revision that a crash left unrecorded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <tuple>

#include "core/hash.hpp"
#include "formats/updates_xml.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/publisher.hpp"
#include "repo/generator.hpp"
#include "server/error_status.hpp"
#include "support/test_support.hpp"

namespace ferry::market {
namespace {

using testing::error_of;
using testing::random_bytes;
using testing::read_text;
using testing::write_text;

class MarketPublisher : public ::testing::Test {
  protected:
    MarketPublisher()
        : data_(scratch_.path() / "data"),
          catalog_(open_sqlite_catalog(data_.catalog_file())),
          publisher_(data_, *catalog_) {}

    void package(const std::string& name, const std::string& version, const std::string& payload,
                 const std::string& extra = "") {
        const fs::path dir = scratch_.path() / "packages" / name;
        write_text(dir / "meta" / "package.xml",
                   "<?xml version=\"1.0\"?>\n<Package>\n <DisplayName>" + name +
                       "</DisplayName>\n <Description>test</Description>\n <Version>" + version +
                       "</Version>\n <ReleaseDate>2026-01-01</ReleaseDate>\n <Default>true"
                       "</Default>\n" +
                       extra + "</Package>\n");
        write_text(dir / "data" / "payload.bin", payload);
    }

    // Builds the packages into a fresh repository and uploads every file the market lacks.
    RepositoryFiles build_and_upload(std::size_t* uploaded = nullptr) {
        const fs::path built = core::ScratchDir(scratch_.path()).path();
        repo::GenerateOptions options;
        options.packages = {scratch_.path() / "packages"};
        options.jobs = 1;
        repo::generate_repository(built, options);
        RepositoryFiles files = read_repository_files(built);
        const std::size_t stored = store_missing_blobs(data_, built, files.files);
        if (uploaded != nullptr) {
            *uploaded = stored;
        }
        return files;
    }

    // Builds, uploads and publishes.
    PublishResult publish(const std::string& major, std::size_t* uploaded = nullptr) {
        return publish(major, build_and_upload(uploaded));
    }
    PublishResult publish(const std::string& major, const RepositoryFiles& files) {
        App app;
        app.key = "com.acme.suite";
        app.name = "Acme Suite";
        return publisher_.publish({app, major, files.updates_xml, files.files, "notes"});
    }

    formats::RepositoryIndex served(const std::string& major) const {
        const fs::path file = data_.repository("com.acme.suite", major) / "Updates.xml";
        return formats::parse_updates_xml(read_text(file), file.string());
    }

    core::ScratchDir scratch_;
    DataDir data_;
    std::unique_ptr<Catalog> catalog_;
    Publisher publisher_;
};

TEST_F(MarketPublisher, FirstPublishCreatesRevisionOneAndServesTheRepository) {
    package("com.acme.a", "1.0", random_bytes(5000, 1));
    package("com.acme.b", "1.0", random_bytes(5000, 2));
    const PublishResult result = publish("2");
    EXPECT_FALSE(result.unchanged);
    EXPECT_EQ(result.revision.number, 1);
    EXPECT_EQ(result.changed, (std::vector<std::string>{"com.acme.a", "com.acme.b"}));
    const formats::RepositoryIndex index = served("2");
    ASSERT_TRUE(index.revision.has_value());
    EXPECT_EQ(index.revision->number, 1);
    EXPECT_EQ(catalog_->find_major("com.acme.suite", "2")->latest_revision, 1);
    EXPECT_EQ(catalog_->find_app("com.acme.suite")->name, "Acme Suite");
    for (const auto& package : index.packages) {
        for (const auto& archive : package.archives) {
            const std::string path =
                package.component.name + "/" + package.component.version + archive.name;
            const fs::path file = data_.repository("com.acme.suite", "2") / path;
            EXPECT_EQ(core::digest_file(file).sha256, archive.sha256) << file;
            // The revision lists its files, for markets that pull it.
            const auto& files = result.revision.files;
            auto recorded = std::find_if(files.begin(), files.end(),
                                         [&](const RepositoryFile& f) { return f.path == path; });
            ASSERT_NE(recorded, files.end()) << path;
            EXPECT_EQ(recorded->sha256, archive.sha256);
            EXPECT_EQ(recorded->size, archive.size);
        }
    }
}

TEST_F(MarketPublisher, RepublishingNothingChangedIsANoOp) {
    package("com.acme.a", "1.0", random_bytes(5000, 1));
    publish("2");
    std::size_t uploaded = 99;
    const PublishResult again = publish("2", &uploaded);
    EXPECT_TRUE(again.unchanged);
    EXPECT_EQ(again.revision.number, 1);
    EXPECT_EQ(uploaded, 0u) << "reproducible archives are found in the store";
    EXPECT_EQ(catalog_->find_major("com.acme.suite", "2")->latest_revision, 1);
}

TEST_F(MarketPublisher, ARepublishCarriesOnlyTheChangedComponentAndKeepsTheOldFilesOneRevision) {
    package("com.acme.a", "1.0", random_bytes(5000, 1));
    package("com.acme.b", "1.0", random_bytes(5000, 2));
    publish("2");
    const fs::path repo = data_.repository("com.acme.suite", "2");
    ASSERT_TRUE(fs::exists(repo / "com.acme.b/1.0content.7z"));

    package("com.acme.b", "1.1", random_bytes(5000, 3));
    std::size_t uploaded = 0;
    const PublishResult second = publish("2", &uploaded);
    EXPECT_EQ(second.revision.number, 2);
    EXPECT_EQ(second.changed, std::vector<std::string>{"com.acme.b"});
    EXPECT_EQ(second.unchanged_components, std::vector<std::string>{"com.acme.a"});
    EXPECT_GE(uploaded, 1u);
    EXPECT_LE(uploaded, 4u) << "b's archive, sidecar, meta; not a's";
    EXPECT_TRUE(fs::exists(repo / "com.acme.b/1.1content.7z"));
    EXPECT_TRUE(fs::exists(repo / "com.acme.b/1.0content.7z")) << "kept for one more revision";

    package("com.acme.b", "1.2", random_bytes(5000, 4));
    publish("2");
    EXPECT_FALSE(fs::exists(repo / "com.acme.b/1.0content.7z")) << "two revisions old";
    EXPECT_TRUE(fs::exists(repo / "com.acme.b/1.1content.7z"));
    EXPECT_TRUE(fs::exists(repo / "com.acme.a/1.0content.7z"));
}

TEST_F(MarketPublisher, AChangedComponentWithTheSameVersionIsRefusedByName) {
    package("com.acme.a", "1.0", random_bytes(5000, 1));
    package("com.acme.b", "1.0", random_bytes(5000, 2));
    publish("2");
    const std::string before = read_text(data_.repository("com.acme.suite", "2") / "Updates.xml");
    package("com.acme.b", "1.0", random_bytes(5000, 9));
    try {
        publish("2");
        FAIL() << "expected a refusal";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::conflict);
        EXPECT_NE(std::string(e.what()).find("com.acme.b (published 1.0, now 1.0)"),
                  std::string::npos)
            << e.what();
        EXPECT_EQ(std::string(e.what()).find("com.acme.a"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_text(data_.repository("com.acme.suite", "2") / "Updates.xml"), before);
    EXPECT_EQ(catalog_->find_major("com.acme.suite", "2")->latest_revision, 1);
}

TEST_F(MarketPublisher, ANewMajorLeavesTheOldOneAsItWas) {
    package("com.acme.a", "1.0", random_bytes(5000, 1));
    publish("1");
    const std::string one = read_text(data_.repository("com.acme.suite", "1") / "Updates.xml");
    package("com.acme.a", "2.0", random_bytes(5000, 2));
    const PublishResult two = publish("2");
    EXPECT_EQ(two.revision.number, 1);
    EXPECT_EQ(read_text(data_.repository("com.acme.suite", "1") / "Updates.xml"), one);
    EXPECT_EQ(catalog_->list_majors("com.acme.suite").size(), 2u);
}

TEST_F(MarketPublisher, RefusesBadKeysPathsAndFilesThatWereNotUploaded) {
    package("com.acme.a", "1.0", random_bytes(5000, 1));
    const fs::path built = scratch_.path() / "built";
    repo::GenerateOptions options;
    options.packages = {scratch_.path() / "packages"};
    repo::generate_repository(built, options);
    RepositoryFiles files = read_repository_files(built);
    App app;
    app.key = "com.acme.suite";
    auto status_of = [&](PublishRequest request) {
        try {
            publisher_.publish(request);
        } catch (const Error& e) {
            return std::make_pair(server::http_status(e.kind()), std::string(e.what()));
        }
        return std::make_pair(0, std::string());
    };
    EXPECT_EQ(status_of({app, "../2", files.updates_xml, files.files, ""}).first, 400);
    EXPECT_EQ(status_of({app, std::string(200, '2'), files.updates_xml, files.files, ""}),
              std::make_pair(400, std::string("major version is 200 characters long (at most "
                                              "128)")));
    App bad = app;
    bad.key = "com/acme";
    EXPECT_EQ(status_of({bad, "2", files.updates_xml, files.files, ""}).first, 400);
    EXPECT_EQ(status_of({app, "2", "<Updates>", files.files, ""}).first, 400);
    auto escaping = files.files;
    escaping.push_back({"../outside", files.files[0].sha256, files.files[0].size});
    EXPECT_EQ(status_of({app, "2", files.updates_xml, escaping, ""}).first, 400);
    // A path in another form than its clean one would be a second name of one file.
    auto unclean = files.files;
    unclean.push_back({"com.acme.a//x", files.files[0].sha256, files.files[0].size});
    const auto [unclean_status, unclean_message] =
        status_of({app, "2", files.updates_xml, unclean, ""});
    EXPECT_EQ(unclean_status, 400);
    EXPECT_NE(unclean_message.find("\"com.acme.a//x\" is not in its clean form"), std::string::npos)
        << unclean_message;
    const auto [status, message] = status_of({app, "2", files.updates_xml, files.files, ""});
    EXPECT_EQ(status, 409);
    EXPECT_NE(message.find("not uploaded"), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(data_.repository("com.acme.suite", "2") / "Updates.xml"));
    EXPECT_FALSE(catalog_->find_major("com.acme.suite", "2").has_value());
}

TEST_F(MarketPublisher, TheBlobStoreTakesOnlyWhatWasAnnounced) {
    const std::string content = random_bytes(3000, 5);
    const std::string sha = core::sha256_hex(content);
    {
        BlobWriter writer(data_, sha, content.size());
        writer.write(content.data(), 1000);
        // Destroyed before finish: nothing is stored.
    }
    EXPECT_FALSE(data_.has_blob(sha, content.size()));
    EXPECT_TRUE(fs::is_empty(data_.uploads()));
    {
        BlobWriter writer(data_, sha, content.size());
        std::string tampered = content;
        tampered[10] ^= 1;
        writer.write(tampered.data(), tampered.size());
        EXPECT_NE(error_of([&] { writer.finish(); }).find("SHA-256 is"), std::string::npos);
    }
    EXPECT_FALSE(data_.has_blob(sha, content.size()));
    BlobWriter writer(data_, sha, content.size());
    EXPECT_NE(error_of([&] { writer.write(content.data(), content.size() + 1); }).find("more data"),
              std::string::npos);
    writer.write(content.data(), content.size());
    writer.finish();
    EXPECT_TRUE(data_.has_blob(sha, content.size()));
    EXPECT_THROW(BlobWriter(data_, "../../etc/passwd", 1), Error);
}

TEST_F(MarketPublisher, ARevisionWrittenButNotRecordedIsRecordedAtStart) {
    package("com.acme.a", "1.0", random_bytes(5000, 1));
    publish("2");
    package("com.acme.a", "1.1", random_bytes(5000, 2));
    publish("2");
    // As if the process had died after writing revision 2's Updates.xml: a catalog that only
    // knows revision 1.
    const fs::path other = scratch_.path() / "other.db";
    auto old_catalog = open_sqlite_catalog(other);
    old_catalog->save_app(*catalog_->find_app("com.acme.suite"));
    old_catalog->commit_revision(*catalog_->find_revision("com.acme.suite", "2", 1));
    Publisher restarted(data_, *old_catalog);
    EXPECT_EQ(restarted.reconcile(), 1);
    const auto recorded = old_catalog->find_revision("com.acme.suite", "2", 2);
    ASSERT_TRUE(recorded.has_value());
    EXPECT_EQ(recorded->components, catalog_->find_revision("com.acme.suite", "2", 2)->components);
    EXPECT_EQ(restarted.reconcile(), 0);
}

// The failure a refused publish ends in: its status and message (0 and "" when it passes).
std::pair<int, std::string> refusal_of(const std::function<void()>& publish) {
    try {
        publish();
    } catch (const Error& e) {
        return {server::http_status(e.kind()), e.what()};
    }
    return {0, ""};
}

TEST_F(MarketPublisher, AnIndexThatDoesNotDescribeItsBlobsIsRefusedNamingTheFile) {
    package("com.acme.a", "1.0", random_bytes(5000, 1));
    package("com.acme.b", "1.0", random_bytes(7000, 2));
    const RepositoryFiles files = build_and_upload();
    const std::string a = "com.acme.a/1.0content.7z";
    const std::string b = "com.acme.b/1.0content.7z";
    auto file_of = [&](const std::string& path) {
        return *std::find_if(files.files.begin(), files.files.end(),
                             [&](const RepositoryFile& f) { return f.path == path; });
    };

    // a's archive announced with b's blob: both are in the store, but not what the index says.
    RepositoryFiles swapped = files;
    for (RepositoryFile& file : swapped.files) {
        if (file.path == a) {
            file.sha256 = file_of(b).sha256;
            file.size = file_of(b).size;
        }
    }
    auto [status, message] = refusal_of([&] { publish("2", swapped); });
    EXPECT_EQ(status, 400);
    EXPECT_THAT(message, ::testing::HasSubstr(a + " (the index records"));
    EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr(b + " (")));

    // An index whose record of a's archive was altered.
    RepositoryFiles altered = files;
    const std::size_t at = altered.updates_xml.find(file_of(a).sha256);
    ASSERT_NE(at, std::string::npos);
    altered.updates_xml.replace(at, 64, std::string(64, 'f'));
    std::tie(status, message) = refusal_of([&] { publish("2", altered); });
    EXPECT_EQ(status, 400);
    EXPECT_THAT(message, ::testing::HasSubstr(a + " (the index records"));
    EXPECT_THAT(message, ::testing::HasSubstr(std::string(64, 'f')));

    EXPECT_FALSE(catalog_->find_major("com.acme.suite", "2").has_value());
    EXPECT_FALSE(fs::exists(data_.repository("com.acme.suite", "2") / "Updates.xml"));
    EXPECT_EQ(publish("2", files).revision.number, 1) << "the honest index is published";
}

TEST_F(MarketPublisher, ARevisionAClientCouldNotResolveIsRefused) {
    package("com.acme.a", "1.0", random_bytes(5000, 1),
            " <Dependencies>com.acme.missing</Dependencies>\n");
    auto [status, message] = refusal_of([&] { publish("2"); });
    EXPECT_EQ(status, 400);
    EXPECT_THAT(message, ::testing::HasSubstr("a client could not install this revision"));
    EXPECT_THAT(message, ::testing::HasSubstr("com.acme.missing"));

    package("com.acme.a", "1.0", random_bytes(5000, 1),
            " <Dependencies>com.acme.b</Dependencies>\n");
    package("com.acme.b", "1.0", random_bytes(5000, 2),
            " <Dependencies>com.acme.a</Dependencies>\n");
    std::tie(status, message) = refusal_of([&] { publish("2"); });
    EXPECT_EQ(status, 400);
    EXPECT_THAT(message, ::testing::HasSubstr("circular dependency"));

    package("com.acme.a", "1.0", random_bytes(5000, 1),
            " <Dependencies>com.acme.b:>=2.0</Dependencies>\n");
    package("com.acme.b", "1.0", random_bytes(5000, 2));
    std::tie(status, message) = refusal_of([&] { publish("2"); });
    EXPECT_EQ(status, 400);
    EXPECT_THAT(message, ::testing::HasSubstr("com.acme.b:>=2.0"));
    EXPECT_FALSE(catalog_->find_major("com.acme.suite", "2").has_value());

    package("com.acme.b", "2.0", random_bytes(5000, 2));
    EXPECT_EQ(publish("2").revision.number, 1) << "the dependency is met now";
}

}  // namespace
}  // namespace ferry::market
