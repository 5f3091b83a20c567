// End-to-end: the client under faults on the target: archives that try to escape, a full disk,
// a file size limit, an unwritable file and a process killed at every step of a transaction.
// Each test checks that the installation is exactly as before (or wholly new) and that
// `ferry verify` passes afterwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <archive.h>
#include <archive_entry.h>

#include "e2e/client_faults_support.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;

// --- An archive entry that leads outside the target. ---

TEST_F(ClientFaults, SymlinkLeadingOutsideIsRefused) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    set_package("com.x", "2.0", v2_);
    fs::create_symlink("../../outside", packages() / "com.x/data/escape");
    publish();
    const Files before = installation_state(target());
    std::vector<std::string> top_before;
    for (const auto& entry : fs::directory_iterator(root())) {
        top_before.push_back(entry.path().filename());
    }

    auto r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("\"escape\""));
    EXPECT_THAT(r.err, HasSubstr("com.x/2.0/content.7z"));
    EXPECT_EQ(installation_state(target()), before);
    std::vector<std::string> top_after;
    for (const auto& entry : fs::directory_iterator(root())) {
        top_after.push_back(entry.path().filename());
    }
    std::sort(top_before.begin(), top_before.end());
    std::sort(top_after.begin(), top_after.end());
    EXPECT_EQ(top_after, top_before) << "nothing written beside the target";
    EXPECT_FALSE(fs::exists(fs::symlink_status(target() / "escape")));
    expect_verifies(target());
    expect_no_staging_left(target());
}

// A pax tar (the extractor reads tar as well as 7z) with the files, written by hand so that it
// may hold names no packages tree can.
void craft_tar(const fs::path& out, const Files& files) {
    std::unique_ptr<struct archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                          &archive_write_free);
    struct archive* a = writer.get();
    archive_write_set_format_pax_restricted(a);
    ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK) << archive_error_string(a);
    for (const auto& [name, content] : files) {
        std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(
            archive_entry_new(), &archive_entry_free);
        archive_entry_set_pathname(entry.get(), name.c_str());
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_perm(entry.get(), 0644);
        archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
        ASSERT_EQ(archive_write_header(a, entry.get()), ARCHIVE_OK) << archive_error_string(a);
        ASSERT_EQ(archive_write_data(a, content.data(), content.size()),
                  static_cast<la_ssize_t>(content.size()));
    }
    ASSERT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
}

TEST_F(ClientFaults, ArchiveEntryWithDotDotIsRefused) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    set_package("com.x", "2.0", v2_);
    publish();
    // The archive is replaced by one with "../evil", and its sidecar and FerryArchive record
    // follow, so that only the extraction can catch it.
    const fs::path archive = repo() / "com.x" / "2.0content.7z";
    craft_tar(archive, {{"readme.txt", "readme 2.0\n"}, {"../evil", "evil\n"}});
    const core::FileDigest digest = core::digest_file(archive);
    write_text(archive.string() + ".sha1", digest.sha1);
    std::string index = read_text(repo() / "Updates.xml");
    const std::regex record(
        "(<FerryArchive name=\"content.7z\") size=\"[0-9]+\" sha1=\"[0-9a-f]+\" "
        "sha256=\"[0-9a-f]+\"");
    ASSERT_TRUE(std::regex_search(index, record)) << index;
    index = std::regex_replace(index, record,
                               "$1 size=\"" + std::to_string(digest.size) + "\" sha1=\"" +
                                   digest.sha1 + "\" sha256=\"" + digest.sha256 + "\"");
    write_text(repo() / "Updates.xml", index);
    const Files before = installation_state(target());

    auto r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("\"../evil\""));
    EXPECT_THAT(r.err, HasSubstr("com.x/2.0/content.7z"));
    EXPECT_EQ(installation_state(target()), before);
    EXPECT_FALSE(fs::exists(target().parent_path() / "evil"));
    expect_verifies(target());
    expect_no_staging_left(target());
}

// --- Resources running out. ---

TEST_F(ClientFaults, FullDiskLeavesTheEarlierVersion) {
    set_package("com.x", "1.0", v1_);
    publish();
    fs::create_directories(target());
    if (::mount("tmpfs", target().c_str(), "tmpfs", 0, "size=1m") != 0) {
        GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    }
    struct Unmount {
        fs::path at;
        ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
    } unmount{target()};
    install(repo_url(), {"com.x"});
    // The archive (stored: random data does not compress) fits beside the installation, its
    // extracted copy does not.
    Files v2 = v2_;
    v2["big.bin"] = random_bytes(700 << 10, 8);
    set_package("com.x", "2.0", v2);
    publish();
    const Files before = installation_state(target());

    auto r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("No space left on device"));
    EXPECT_EQ(installation_state(target()), before);
    EXPECT_EQ(recorded_version(target(), "com.x"), "1.0");
    expect_verifies(target());
    expect_no_staging_left(target());

    // An archive larger than the whole disk fails while downloading, with the same cause.
    Files v3 = v2_;
    v3["big.bin"] = random_bytes(1536 << 10, 9);
    set_package("com.x", "3.0", v3);
    publish();
    r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("3.0content.7z"));
    EXPECT_THAT(r.err, HasSubstr("No space left on device"));
    EXPECT_EQ(installation_state(target()), before);
    expect_verifies(target());
    expect_no_staging_left(target());
}

// A file size limit (which needs no privilege to set) makes writes beyond it fail with EFBIG.
TEST_F(ClientFaults, FileSizeLimitLeavesTheEarlierVersion) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    const auto limited_update = [&] {
        return run({"/usr/bin/prlimit", "--fsize=" + std::to_string(400 << 10), FERRY_BINARY,
                    "update", "--root", target().string()},
                   {{"SOURCE_DATE_EPOCH", "1767225600"}}, root());
    };
    const Files before = installation_state(target());

    // Compressible: the archive is small, the extracted file is over the limit.
    Files v2 = v2_;
    v2["big.bin"] = std::string(700 << 10, 'x');
    set_package("com.x", "2.0", v2);
    publish();
    ASSERT_LT(fs::file_size(repo() / "com.x/2.0content.7z"), 400u << 10);
    auto r = limited_update();
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("File too large"));
    EXPECT_EQ(installation_state(target()), before);
    expect_verifies(target());
    expect_no_staging_left(target());

    // Incompressible: the download itself is over the limit.
    v2["big.bin"] = random_bytes(700 << 10, 10);
    set_package("com.x", "3.0", v2);
    publish();
    r = limited_update();
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("3.0content.7z"));
    EXPECT_THAT(r.err, HasSubstr("File too large"));
    EXPECT_EQ(installation_state(target()), before);
    expect_verifies(target());
    expect_no_staging_left(target());
}

TEST_F(ClientFaults, ImmutableFileFailsTheUpdateAndEverythingIsPutBack) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    set_package("com.x", "2.0", v2_);
    publish();
    const fs::path locked = target() / "tool.sh";
    const auto chattr = [&](const char* flag) {
        return run({"/usr/bin/chattr", flag, locked.string()}).exit_code;
    };
    if (chattr("+i") != 0) {
        GTEST_SKIP() << "the file system does not support chattr +i";
    }
    struct Unlock {
        std::function<void()> undo;
        ~Unlock() { undo(); }
    } unlock{[&] { chattr("-i"); }};
    const Files before = installation_state(target());

    auto r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(locked.string()));
    EXPECT_THAT(r.err, HasSubstr("put back"));
    EXPECT_EQ(installation_state(target()), before);
    EXPECT_EQ(recorded_version(target(), "com.x"), "1.0");
    expect_verifies(target());

    ASSERT_EQ(chattr("-i"), 0);
    r = ferry({"update", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(recorded_version(target(), "com.x"), "2.0");
    expect_files_of(target(), v2_, v1_, "after chattr -i");
    expect_verifies(target());
}

// --- kill -9 at every step of a transaction: each component ends wholly old or wholly new. ---

class ClientFaultsCrash : public ClientFaults {
  protected:
    Files a1_, a2_, b1_, b2_;

    void SetUp() override {
        for (int i = 0; i < 10; ++i) {
            a1_["f" + std::to_string(i) + ".txt"] = "a f" + std::to_string(i) + " 1.0\n";
        }
        a1_["doc/guide.txt"] = "guide 1.0\n";
        a2_ = a1_;
        for (int i = 0; i < 4; ++i) {
            a2_["f" + std::to_string(i) + ".txt"] = "a f" + std::to_string(i) + " 2.0\n";
        }
        for (int i = 7; i < 10; ++i) {
            a2_.erase("f" + std::to_string(i) + ".txt");
        }
        for (int i = 0; i < 3; ++i) {
            a2_["new" + std::to_string(i) + ".txt"] = "a new" + std::to_string(i) + " 2.0\n";
        }
        a2_["doc/guide.txt"] = "guide 2.0\n";
        b1_ = {{"b/one.txt", "b one 1.0\n"}, {"b-two.txt", "b two 1.0\n"}};
        b2_ = {{"b/one.txt", "b one 2.0\n"}, {"b-two.txt", "b two 1.0\n"}};
    }

    void reset_target(const fs::path& pristine) {
        fs::remove_all(target());
        fs::copy(pristine, target(), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    }

    // Each component at one version, all of its files of that version; absent ones have none.
    void expect_whole(const std::string& label) {
        for (const auto& [name, one, two] :
             {std::tuple{"com.a", &a1_, &a2_}, std::tuple{"com.b", &b1_, &b2_}}) {
            const std::string version = recorded_version(target(), name);
            const std::string what = label + ", " + name + " at \"" + version + "\"";
            if (version == "1.0") {
                expect_files_of(target(), *one, *two, what);
            } else if (version == "2.0") {
                expect_files_of(target(), *two, *one, what);
            } else {
                ASSERT_EQ(version, "") << what;
                expect_files_of(target(), {}, *one, what);
            }
        }
    }

    // Runs the command with FERRY_CRASH_AT=1, 2, ... from the pristine target until a run is
    // not killed; returns the number of killed runs.
    int crash_at_every_step(const std::vector<std::string>& command, const fs::path& pristine) {
        int killed = 0;
        for (int n = 1; n <= 200; ++n) {
            reset_target(pristine);
            auto r = ferry(command, {{"FERRY_CRASH_AT", std::to_string(n)}});
            const std::string label = command.front() + " killed at step " + std::to_string(n);
            if (r.exit_code == 0) {
                expect_whole(label + " (not killed)");
                return killed;
            }
            EXPECT_EQ(r.exit_code, kKilled) << label << "\n" << describe(r);
            if (r.exit_code != kKilled) {
                return killed;
            }
            ++killed;
            auto v = ferry({"verify", "--root", target().string()});
            EXPECT_EQ(v.exit_code, 0) << label << "\n" << describe(v);
            EXPECT_THAT(v.err, HasSubstr("an interrupted transaction on")) << label;
            expect_whole(label);
            expect_no_staging_left(target());
            if (::testing::Test::HasFailure()) {
                return killed;
            }
        }
        ADD_FAILURE() << "still killed after 200 steps";
        return killed;
    }
};

TEST_F(ClientFaultsCrash, UpdateRemoveAndRollbackSurviveKillAtEveryStep) {
    set_package("com.a", "1.0", a1_);
    set_package("com.b", "1.0", b1_);
    publish();
    install(repo_url(), {"com.a", "com.b"});
    const fs::path pristine_v1 = root() / "pristine-v1";
    fs::copy(target(), pristine_v1, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    set_package("com.a", "2.0", a2_);
    set_package("com.b", "2.0", b2_);
    publish();

    const int update_kills =
        crash_at_every_step({"update", "--root", target().string()}, pristine_v1);
    EXPECT_GE(update_kills, 20);
    ASSERT_FALSE(HasFailure());
    EXPECT_EQ(recorded_version(target(), "com.a"), "2.0");
    EXPECT_EQ(recorded_version(target(), "com.b"), "2.0");
    const fs::path pristine_v2 = root() / "pristine-v2";
    fs::copy(target(), pristine_v2, fs::copy_options::recursive | fs::copy_options::copy_symlinks);

    const int remove_kills =
        crash_at_every_step({"remove", "--root", target().string(), "com.b"}, pristine_v1);
    EXPECT_GE(remove_kills, 3);
    EXPECT_EQ(recorded_version(target(), "com.b"), "");
    EXPECT_EQ(recorded_version(target(), "com.a"), "1.0");

    const int rollback_kills =
        crash_at_every_step({"rollback", "--root", target().string()}, pristine_v2);
    EXPECT_GE(rollback_kills, 3);
    EXPECT_EQ(recorded_version(target(), "com.a"), "1.0");
    EXPECT_EQ(recorded_version(target(), "com.b"), "1.0");
    expect_verifies(target());
}

}  // namespace
}  // namespace ferry::testing
