// End-to-end: `ferry publish` keeps its builds in a cache directory and a re-publish takes the
// archives of unchanged components from the previous build instead of compressing them again,
// without ever letting the cache change what is published.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "e2e/e2e_support.hpp"
#include "support/market_server.hpp"

namespace ferry::testing {
namespace {

using Json = nlohmann::json;

class PublishCache : public FerryTest {
  protected:
    PublishCache()
        : market_(FERRY_BINARY, root() / "data"),
          token_(create_token(FERRY_BINARY, root() / "data")) {
        make_package(packages_, "com.acme.core", "1.0", {{"core.bin", random_bytes(200000, 1)}},
                     " <Default>true</Default>\n");
        make_package(packages_, "com.acme.tools", "1.0", {{"tools.txt", "tools 1.0"}},
                     " <Default>true</Default>\n");
    }

    Json publish(std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {
            "publish", packages_.string(), "--server",  market_.url(), "--token", token_,
            "--app",   "com.acme.suite",   "--version", "1",           "--json"};
        args.insert(args.end(), extra.begin(), extra.end());
        const CommandResult r = ferry(args);
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return r.exit_code == 0 ? Json::parse(r.out) : Json{};
    }

    // The one build directory of the packages tree in the cache.
    fs::path cached_repository() const {
        std::vector<fs::path> builds;
        if (fs::exists(root() / "cache" / "publish")) {
            for (const auto& entry : fs::directory_iterator(root() / "cache" / "publish")) {
                builds.push_back(entry.path() / "repository");
            }
        }
        EXPECT_EQ(builds.size(), 1u);
        return builds.empty() ? fs::path() : builds.front();
    }

    static ino_t inode(const fs::path& file) {
        struct stat st {};
        EXPECT_EQ(::stat(file.c_str(), &st), 0) << file;
        return st.st_ino;
    }

    fs::path packages_ = root() / "packages";
    MarketServer market_;
    std::string token_;
};

TEST_F(PublishCache, ARepublishReusesTheArchivesOfUnchangedComponents) {
    publish();
    const fs::path core_archive = cached_repository() / "com.acme.core" / "1.0content.7z";
    ASSERT_TRUE(fs::exists(core_archive));
    const ino_t core_before = inode(core_archive);

    make_package(packages_, "com.acme.tools", "1.1", {{"tools.txt", "tools 1.1"}},
                 " <Default>true</Default>\n");
    const Json second = publish();
    EXPECT_EQ(second.at("revision"), 2);
    EXPECT_EQ(second.at("changed"), Json::array({"com.acme.tools"}));
    EXPECT_EQ(inode(core_archive), core_before) << "the unchanged archive was built again";
    EXPECT_TRUE(fs::exists(cached_repository() / "com.acme.tools" / "1.1content.7z"));
}

// The cache is a build directory replaced by each build, not a repository updated in place: a
// component removed from the packages tree is gone from the next revision.
TEST_F(PublishCache, AComponentRemovedFromThePackagesIsNotPublishedAgain) {
    publish();
    fs::remove_all(packages_ / "com.acme.tools");
    const Json second = publish();
    EXPECT_EQ(second.at("revision"), 2);
    httplib::Client client("127.0.0.1", market_.port());
    const auto served = client.Get("/repo/com.acme.suite/1/Updates.xml");
    ASSERT_TRUE(served && served->status == 200);
    EXPECT_NE(served->body.find("com.acme.core"), std::string::npos);
    EXPECT_EQ(served->body.find("com.acme.tools"), std::string::npos) << served->body;
}

// A damaged cached archive (its size no longer what the build recorded) is built again, so the
// market sees the same bytes as before: nothing to publish.
TEST_F(PublishCache, ADamagedCachedArchiveIsBuiltAgain) {
    publish();
    const fs::path core_archive = cached_repository() / "com.acme.core" / "1.0content.7z";
    write_text(core_archive, "damaged");
    const Json second = publish();
    EXPECT_TRUE(second.value("unchanged", false)) << second.dump(2);
    EXPECT_EQ(second.at("uploaded_files"), 0);
    EXPECT_GT(fs::file_size(core_archive), 1000u);
}

TEST_F(PublishCache, NoCacheBuildsInATemporaryDirectory) {
    publish({"--no-cache"});
    EXPECT_FALSE(fs::exists(root() / "cache" / "publish"));
}

}  // namespace
}  // namespace ferry::testing
