// End-to-end: publishing into the market. A real `ferry serve` runs as a child process on a
// free port; apps are published into it with `ferry publish`, read back through the JSON API and
// the served repositories, and installed and updated from it with the client commands, checked
// the way a user would: exit codes, messages, API answers, served files and the data directory.
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

// 1. A first publish, read back through the API, verified and installed.

TEST_F(Market, PublishesAThreeComponentApp) {
    start();
    write_three(packages());
    const Json result = published(packages(), "1", {"--name", "Test App"});
    EXPECT_EQ(result.value("revision", 0), 1) << result;
    EXPECT_EQ(result.value("unchanged", true), false) << result;
    EXPECT_EQ(result.value("changed", Json()),
              Json::array({"com.test.a", "com.test.b", "com.test.c"}));

    const Answer apps = get("/api/v1/apps");
    ASSERT_EQ(apps.status, 200) << describe(apps);
    ASSERT_EQ(apps.json().at("apps").size(), 1u) << describe(apps);
    EXPECT_EQ(apps.json()["apps"][0].at("key"), kApp);
    EXPECT_EQ(apps.json()["apps"][0].at("name"), "Test App");
    EXPECT_EQ(get("/api/v1/apps?offset=0&limit=1").json().at("apps").size(), 1u);
    EXPECT_THAT(get("/api/v1/apps?offset=1").json().at("apps"), IsEmpty());

    EXPECT_EQ(latest_revision("1"), 1);
    EXPECT_EQ(component_versions("1"),
              (std::map<std::string, std::string>{
                  {"com.test.a", "1.0"}, {"com.test.b", "1.0"}, {"com.test.c", "1.0"}}));

    const std::string repo_url = server().url("/repo/") + kApp + "/1";
    auto verify_repo = ferry({"repo", "verify", repo_url});
    EXPECT_EQ(verify_repo.exit_code, 0) << testing::describe(verify_repo);

    const fs::path target = root() / "target";
    auto install = ferry({"install", "--root", target.string(), "--repo", repo_url});
    ASSERT_EQ(install.exit_code, 0) << testing::describe(install);
    EXPECT_EQ(read_text(target / "a.txt"), "a 1.0\n");
    EXPECT_EQ(read_text(target / "b.txt"), "b 1.0\n");
    EXPECT_EQ(read_text(target / "c.txt"), "c 1.0\n");
    auto verify = ferry({"verify", "--root", target.string()});
    EXPECT_EQ(verify.exit_code, 0) << testing::describe(verify);
}

// 2. Publishing the same content again changes nothing and uploads nothing.

TEST_F(Market, RepublishingUnchangedContentIsANoOp) {
    start();
    write_three(packages());
    published(packages(), "1");
    const std::string index = read_text(repository() / "Updates.xml");

    const Json again = published(packages(), "1");
    EXPECT_EQ(again.value("unchanged", false), true) << again;
    EXPECT_EQ(again.value("revision", 0), 1) << again;
    EXPECT_EQ(again.value("uploaded_files", -1), 0) << again;
    EXPECT_EQ(again.value("uploaded_bytes", -1), 0) << again;
    EXPECT_EQ(latest_revision("1"), 1);
    EXPECT_EQ(read_text(repository() / "Updates.xml"), index);
}

// 3. One changed component: only its files travel; the previous revision's files stay one
// revision longer.

TEST_F(Market, ChangedComponentUploadsOnlyItsFilesAndOldFilesLastOneRevision) {
    start();
    write_three(packages());
    published(packages(), "1");
    // The files of com.test.b 1.0 as revision 1 serves them.
    std::map<std::string, std::string> old_files;
    for (const auto& file : files_below(repository())) {
        if (file.starts_with("com.test.b/") && file.find("1.0") != std::string::npos) {
            old_files[file] = read_text(repository() / file);
        }
    }
    ASSERT_FALSE(old_files.empty()) << "revision 1 serves no files of com.test.b 1.0";

    const std::set<std::string> blobs_before = blob_names(data());
    write_component(packages(), "b", "2.0", "b 2.0, changed\n");
    const Json second = published(packages(), "1");
    EXPECT_EQ(second.value("revision", 0), 2) << second;
    EXPECT_EQ(second.value("changed", Json()), Json::array({"com.test.b"})) << second;
    EXPECT_EQ(second.value("unchanged_components", Json()),
              Json::array({"com.test.a", "com.test.c"}))
        << second;

    // What was uploaded: the blobs the store did not have before, found in the repository.
    std::vector<std::string> new_blobs;
    for (const auto& blob : blob_names(data())) {
        if (blobs_before.count(blob) == 0) {
            new_blobs.push_back(blob);
        }
    }
    EXPECT_EQ(second.value("uploaded_files", -1), static_cast<int>(new_blobs.size())) << second;
    EXPECT_GE(new_blobs.size(), 1u);
    EXPECT_LE(new_blobs.size(), 6u) << "archive(s), sidecar(s), meta and united metadata only";
    for (const auto& blob : new_blobs) {
        const auto names =
            links_to(repository(), data() / "blobs" / "sha256" / blob.substr(0, 2) / blob);
        ASSERT_FALSE(names.empty()) << blob << " is uploaded but not in the repository";
        for (const auto& name : names) {
            EXPECT_TRUE(name.find("com.test.b") != std::string::npos ||
                        name.find("_meta") != std::string::npos)
                << name << " was uploaded though only com.test.b changed";
        }
    }
    EXPECT_EQ(component_versions("1").at("com.test.b"), "2.0");

    // Revision 1's files are still served, for clients holding its Updates.xml.
    for (const auto& [file, content] : old_files) {
        const Answer a = get("/repo/" + std::string(kApp) + "/1/" + file);
        EXPECT_EQ(a.status, 200) << file;
        EXPECT_EQ(a.body, content) << file;
    }

    write_component(packages(), "c", "2.0", "c 2.0, changed\n");
    const Json third = published(packages(), "1");
    EXPECT_EQ(third.value("revision", 0), 3) << third;
    for (const auto& [file, content] : old_files) {
        EXPECT_EQ(get("/repo/" + std::string(kApp) + "/1/" + file).status, 404)
            << file << " is still served two revisions later";
    }
}

// 4. Content changed while the version stayed: refused, unless --bump raises it.

TEST_F(Market, ChangedContentWithTheSameVersionNeedsBump) {
    start();
    write_three(packages());
    published(packages(), "1");
    write_component(packages(), "b", "1.0", "b 1.0, but different\n");

    const CommandResult refused = publish(packages(), "1");
    EXPECT_EQ(refused.exit_code, 1) << testing::describe(refused);
    EXPECT_THAT(refused.err, HasSubstr("com.test.b"));
    EXPECT_THAT(refused.err, HasSubstr("--bump"));
    EXPECT_THAT(refused.err, Not(HasSubstr("com.test.a ("))) << "a did not change";
    EXPECT_EQ(latest_revision("1"), 1);
    EXPECT_EQ(component_versions("1").at("com.test.b"), "1.0");

    const Json bumped = published(packages(), "1", {"--bump"});
    EXPECT_EQ(bumped.value("revision", 0), 2) << bumped;
    EXPECT_EQ(bumped.value("changed", Json()), Json::array({"com.test.b"})) << bumped;
    const auto versions = component_versions("1");
    EXPECT_EQ(versions.at("com.test.a"), "1.0");
    EXPECT_EQ(versions.at("com.test.b"), "1.1");
    EXPECT_THAT(read_text(packages() / "com.test.b" / "meta" / "package.xml"),
                HasSubstr("<Version>1.0</Version>"))
        << "--bump leaves the packages directory alone";
}

// 5. A new major version is a repository of its own.

TEST_F(Market, NewMajorLeavesTheOldOneAlone) {
    start();
    write_three(packages());
    published(packages(), "1");
    const Answer before = get("/repo/" + std::string(kApp) + "/1/Updates.xml");
    ASSERT_EQ(before.status, 200);

    const fs::path next = root() / "packages-2";
    for (const std::string name : {"a", "b", "c"}) {
        write_component(next, name, "2.0", name + " 2.0\n");
    }
    const Json result = published(next, "2");
    EXPECT_EQ(result.value("revision", 0), 1) << result;

    const Answer after = get("/repo/" + std::string(kApp) + "/1/Updates.xml");
    EXPECT_EQ(after.status, 200);
    EXPECT_EQ(after.body, before.body) << "the old major's Updates.xml changed";
    EXPECT_EQ(get("/repo/" + std::string(kApp) + "/2/Updates.xml").status, 200);

    const Answer app = get("/api/v1/apps/" + std::string(kApp));
    ASSERT_EQ(app.status, 200) << describe(app);
    std::vector<std::string> majors;
    const Json body = app.json();
    for (const auto& major : body.at("majors")) {
        majors.push_back(major.at("major").get<std::string>());
    }
    EXPECT_THAT(majors, ::testing::UnorderedElementsAre("1", "2"));
    EXPECT_EQ(component_versions("1").at("com.test.a"), "1.0");
    EXPECT_EQ(component_versions("2").at("com.test.a"), "2.0");
}

// 6. From the market to an installation and on to its update.

TEST_F(Market, InstalledTargetUpdatesToTheNextRevision) {
    start();
    write_three(packages());
    published(packages(), "1");
    const fs::path target = root() / "target";
    const std::string repo_url = server().url("/repo/") + kApp + "/1";
    auto install = ferry({"install", "--root", target.string(), "--repo", repo_url});
    ASSERT_EQ(install.exit_code, 0) << testing::describe(install);

    write_component(packages(), "b", "2.0", "b 2.0\n");
    EXPECT_EQ(published(packages(), "1").value("revision", 0), 2);

    auto check = ferry({"check-updates", "--root", target.string(), "--json"});
    ASSERT_EQ(check.exit_code, 0) << testing::describe(check);
    const Json updates = Json::parse(check.out).at("updates");
    ASSERT_EQ(updates.size(), 1u) << check.out;
    EXPECT_EQ(updates[0].at("name"), "com.test.b");
    EXPECT_EQ(updates[0].at("installed_version"), "1.0");
    EXPECT_EQ(updates[0].at("new_version"), "2.0");

    auto update = ferry({"update", "--root", target.string()});
    ASSERT_EQ(update.exit_code, 0) << testing::describe(update);
    EXPECT_EQ(read_text(target / "b.txt"), "b 2.0\n");
    EXPECT_EQ(read_text(target / "a.txt"), "a 1.0\n");
    auto verify = ferry({"verify", "--root", target.string()});
    EXPECT_EQ(verify.exit_code, 0) << testing::describe(verify);
    auto again = ferry({"check-updates", "--root", target.string(), "--json"});
    EXPECT_THAT(Json::parse(again.out).at("updates"), IsEmpty()) << again.out;
}

}  // namespace
}  // namespace ferry::testing
