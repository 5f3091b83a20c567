// End-to-end: repogen never writes outside its repository and never leaves it broken, whatever
// the packages tree holds and however many runs there are at once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <future>

#include "core/file_lock.hpp"
#include "core/hash.hpp"
#include "e2e/e2e_support.hpp"
#include "formats/updates_xml.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;

formats::RepositoryIndex read_index(const fs::path& repository) {
    return formats::parse_updates_xml(read_text(repository / "Updates.xml"), "Updates.xml");
}

class RepogenHardening : public FerryTest {};

TEST_F(RepogenHardening, VersionsThatAreNoFileNamesAreRefusedNamingThePackageFile) {
    const fs::path packages = root() / "work" / "packages";
    for (const std::string version : {"../../OUTSIDE", "1/2", "1 0", "1\n0"}) {
        make_package(packages, "a", version, {{"x.txt", "x"}});
        auto r = ferry({"repogen", "-p", packages.string(), (root() / "work" / "repo").string()});
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_THAT(r.err, HasSubstr("a/meta/package.xml:"));
        EXPECT_THAT(r.err, HasSubstr("Version \"" + version + "\""));
        EXPECT_FALSE(fs::exists(root() / "work" / "repo"));
        EXPECT_FALSE(fs::exists(root() / "OUTSIDEcontent.7z"));
        EXPECT_FALSE(fs::exists(root() / "work" / "OUTSIDEcontent.7z"));
    }
}

TEST_F(RepogenHardening, DataDirectoryWhoseNameIsNoArchiveNameIsRefused) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"my files/x.txt", "x"}});
    auto r = ferry({"repogen", "-p", packages.string(), "repo"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("archive name \"my files.7z\" contains a space"));
    EXPECT_THAT(r.err, HasSubstr("a/data"));
}

// The repository's lock is held by another process (here the test itself): a run fails at once,
// naming the repository and the holder, and changes nothing.
TEST_F(RepogenHardening, ARepositoryBeingUpdatedIsRefusedNamingTheHoldersPid) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"a.txt", "a"}});
    make_repository(packages, root() / "repo");
    const auto before = snapshot_tree(root() / "repo");
    std::string holder;
    auto lock = core::FileLock::try_lock(root() / ".repo.ferry-lock", holder);
    ASSERT_TRUE(lock.has_value()) << "held by " << holder;

    make_package(packages, "a", "2.0", {{"a.txt", "a2"}});
    auto r = ferry({"repogen", "--update", "-p", packages.string(), "repo"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("repository " + (root() / "repo").string() +
                                 " is being updated by pid " + std::to_string(::getpid())));
    EXPECT_EQ(snapshot_tree(root() / "repo"), before);

    lock.reset();
    r = ferry({"repogen", "--update", "-p", packages.string(), "repo"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

// Several `repogen --update` at once, round after round: each either updates the repository or
// is refused because another one is, and the repository verifies after every round.
TEST_F(RepogenHardening, ConcurrentUpdatesLeaveAValidRepository) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"a.bin", random_bytes(1 << 20, 1)}});
    make_package(packages, "b", "1.0", {{"b.bin", random_bytes(1 << 20, 2)}});
    make_repository(packages, root() / "repo");
    for (int round = 1; round <= 4; ++round) {
        const std::string version = "1." + std::to_string(round);
        make_package(packages, "a", version, {{"a.bin", random_bytes(1 << 20, 10 + round)}});
        make_package(packages, "b", version, {{"b.bin", random_bytes(1 << 20, 20 + round)}});
        std::vector<std::future<CommandResult>> runs;
        for (int i = 0; i < 3; ++i) {
            runs.push_back(std::async(std::launch::async, [&] {
                return ferry({"repogen", "--update", "--keep", "0", "-p", packages.string(),
                              "repo"});
            }));
        }
        int succeeded = 0;
        for (auto& run : runs) {
            const CommandResult r = run.get();
            if (r.exit_code == 0) {
                ++succeeded;
            } else {
                EXPECT_EQ(r.exit_code, 1) << describe(r);
                // "by pid N", or "by another process" in the instant before the holder wrote its pid.
                EXPECT_THAT(r.err, HasSubstr("is being updated by")) << describe(r);
            }
        }
        EXPECT_GE(succeeded, 1) << "round " << round;
        const auto verify = ferry({"repo", "verify", "repo"});
        ASSERT_EQ(verify.exit_code, 0) << "round " << round << "\n" << describe(verify);
        EXPECT_EQ(read_index(root() / "repo").find("a")->component.version, version);
        for (const auto& entry : fs::directory_iterator(root() / "repo")) {
            EXPECT_FALSE(entry.path().filename().string().starts_with(".ferry-staging-"))
                << entry.path();
        }
    }
}

// 10,240 zero bytes are what an empty tar looks like, but they are a file like any other.
TEST_F(RepogenHardening, AFileOfZerosIsDataNotAPrebuiltArchive) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"zeros.bin", std::string(10240, '\0')}});
    auto r = ferry({"repogen", "-p", packages.string(), "repo"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const auto index = read_index(root() / "repo");
    const auto* a = index.find("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->component.downloadable_archives, std::vector<std::string>{"content.7z"});
    const auto listing = run({"/usr/bin/bsdtar", "-tf", (root() / "repo/a/1.0content.7z").string()});
    EXPECT_THAT(listing.out, HasSubstr("zeros.bin"));
}

// A damaged archive of an unchanged component is built again, never published under the hashes
// of the intact one.
TEST_F(RepogenHardening, ADamagedArchiveIsBuiltAgainRatherThanReused) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"bin/tool", random_bytes(4096, 3)}});
    make_repository(packages, root() / "repo");
    const fs::path archive = root() / "repo/a/1.0bin.7z";
    const std::string intact = read_text(archive);
    std::string damaged = intact;
    damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x01);
    fs::remove(archive);  // a new inode: the old repository's hard links stay as they were
    write_text(archive, damaged);

    auto r = ferry({"repogen", "-r", "-p", packages.string(), "repo"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("1.0bin.7z: does not match the size and SHA-256"));
    EXPECT_EQ(read_text(archive), intact) << "rebuilt, reproducibly";
    EXPECT_EQ(ferry({"repo", "verify", "repo"}).exit_code, 0);
}

TEST_F(RepogenHardening, OutputInsideThePackagesTreeIsRefused) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"a.txt", "a"}});
    for (const fs::path& output : {packages / "repo", packages / "a" / "data" / "repo", packages}) {
        auto r = ferry({"repogen", "-p", packages.string(), output.string()});
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_THAT(r.err, HasSubstr("inside the packages directory"));
    }
    EXPECT_FALSE(fs::exists(packages / "repo"));
    EXPECT_FALSE(fs::exists(packages / "a" / "data" / "repo"));

    // A packages tree inside the repository would go with it on -r.
    make_repository(packages, root() / "repo");
    fs::copy(packages, root() / "repo" / "packages", fs::copy_options::recursive);
    auto r = ferry({"repogen", "-r", "-p", (root() / "repo" / "packages").string(), "repo"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("is inside the repository"));
    EXPECT_TRUE(fs::exists(root() / "repo" / "packages" / "a" / "meta" / "package.xml"));
}

// Without SOURCE_DATE_EPOCH, the files in the archives carry the component's ReleaseDate.
TEST_F(RepogenHardening, ArchiveEntriesCarryTheReleaseDate) {
    const fs::path packages = root() / "packages";
    write_text(packages / "a" / "meta" / "package.xml",
               "<Package><Version>1.0</Version><ReleaseDate>2024-02-29</ReleaseDate></Package>");
    write_text(packages / "a" / "data" / "a.txt", "a");
    auto r = ferry({"repogen", "-p", packages.string(), "repo"}, {{"SOURCE_DATE_EPOCH", ""}});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    fs::create_directories(root() / "out");
    ASSERT_EQ(run({"/usr/bin/bsdtar", "-xf", (root() / "repo/a/1.0content.7z").string(), "-C",
                   (root() / "out").string()})
                  .exit_code,
              0);
    const auto written = fs::last_write_time(root() / "out" / "a.txt");
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::file_clock::to_sys(written).time_since_epoch());
    EXPECT_EQ(seconds.count(), 1709164800) << "2024-02-29T00:00:00Z";

    r = ferry({"repogen", "-p", packages.string(), "other"}, {{"SOURCE_DATE_EPOCH", "garbage"}});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("SOURCE_DATE_EPOCH \"garbage\""));
    EXPECT_FALSE(fs::exists(root() / "other"));
}

TEST_F(RepogenHardening, ReplacingNamesTheFilesThatWereNotPartOfTheRepository) {
    const fs::path packages = root() / "packages";
    make_package(packages, "a", "1.0", {{"a.txt", "a"}});
    make_repository(packages, root() / "repo");
    write_text(root() / "repo" / "README.txt", "mine");
    write_text(root() / "repo" / "a" / "0.9content.7z", "stray");
    auto r = ferry({"repogen", "-r", "-p", packages.string(), "repo"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("Removed README.txt"));
    EXPECT_THAT(r.out, HasSubstr("Removed a/0.9content.7z"));
    EXPECT_FALSE(fs::exists(root() / "repo" / "README.txt"));
}

}  // namespace
}  // namespace ferry::testing
