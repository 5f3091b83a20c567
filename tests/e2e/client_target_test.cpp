// End-to-end: the target directory is never turned against its owner. Archives cannot write
// ferry's state, records and journals cannot name paths outside the target or reach through a
// symlink, a user's file in the way is not silently replaced, two components cannot own one
// path, and an unreadable state file is an error rather than "nothing installed".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/client_faults_support.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TargetOwner : public ClientFaults {
  protected:
    fs::path beside_target() const { return target().parent_path(); }

    CommandResult run_ferry(const std::string& command, std::vector<std::string> args = {}) {
        args.insert(args.begin(), {command, "--root", target().string()});
        return ferry(args);
    }
};

TEST_F(TargetOwner, AnArchiveCannotWriteFerrysState) {
    write_text(beside_target() / "SENTINEL", "keep me\n");
    set_package("com.victim", "1.0", {{"victim.txt", "victim\n"}});
    // A prebuilt archive holding a record for the victim that names a file beside the target.
    set_package("com.evil", "1.0", {{"evil.txt", "evil\n"}});
    const fs::path payload = root() / "payload";
    write_text(payload / ".ferry/files/com.victim.json",
               R"({"component": "com.victim", "version": "1.0", "files": [)"
               R"({"path": "../SENTINEL", "type": "file", "size": 8, "sha256": ""}]})");
    auto tar = run({"/usr/bin/tar", "-cf", (packages() / "com.evil/data/payload.tar").string(),
                    "-C", payload.string(), ".ferry/files/com.victim.json"});
    ASSERT_EQ(tar.exit_code, 0) << describe(tar);
    publish();

    auto r = run_ferry("install", {"--repo", repo_url(), "com.victim", "com.evil"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("com.evil"));
    EXPECT_THAT(r.err, HasSubstr("payload.tar"));
    EXPECT_THAT(r.err, HasSubstr("\".ferry/files/com.victim.json\""));
    EXPECT_FALSE(fs::exists(target() / "components.xml")) << "nothing was installed";

    install(repo_url(), {"com.victim"});
    r = run_ferry("install", {"com.evil"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    r = run_ferry("remove", {"com.victim"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(beside_target() / "SENTINEL"), "keep me\n");
    EXPECT_FALSE(fs::exists(target() / "victim.txt"));
}

TEST_F(TargetOwner, AnArchiveCannotReplaceComponentsXml) {
    set_package("com.evil", "1.0", {{"components.xml", "<Packages/>\n"}});
    publish();
    auto r = run_ferry("install", {"--repo", repo_url(), "com.evil"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("entry \"components.xml\""));
    EXPECT_FALSE(fs::exists(target() / "components.xml"));
}

TEST_F(TargetOwner, ARecordNamingAFileOutsideDeletesNothing) {
    write_text(beside_target() / "SENTINEL", "keep me\n");
    set_package("com.victim", "1.0", {{"victim.txt", "victim\n"}});
    publish();
    install(repo_url(), {"com.victim"});
    const fs::path record = target() / ".ferry/files/com.victim.json";
    std::string text = read_text(record);
    text.replace(text.find("victim.txt"), std::string("victim.txt").size(), "../SENTINEL");
    write_text(record, text);

    auto r = run_ferry("remove", {"com.victim"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(".ferry/files/com.victim.json"));
    EXPECT_THAT(r.err, HasSubstr("\"../SENTINEL\""));
    EXPECT_EQ(read_text(beside_target() / "SENTINEL"), "keep me\n");
    EXPECT_EQ(recorded_version(target(), "com.victim"), "1.0");
}

TEST_F(TargetOwner, AJournalNamingAFileOutsideMovesNothing) {
    write_text(beside_target() / "VICTIM", "keep me\n");
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    write_text(target() / ".ferry/journal.json",
               R"({"id": "tx-1", "state": "applying", "changes": [{"kind": "update",)"
               R"( "name": "com.x", "source": "staging/tx-1/com.x", "backup":)"
               R"( "staging/tx-1/com.x.old", "keep": true, "move_out": ["../VICTIM"],)"
               R"( "create_dirs": [], "move_in": [], "remove_dirs": []}]})");

    auto r = run_ferry("list");
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(".ferry/journal.json: the transaction journal is damaged"));
    EXPECT_THAT(r.err, HasSubstr("\"../VICTIM\""));
    EXPECT_EQ(read_text(beside_target() / "VICTIM"), "keep me\n");
    EXPECT_EQ(read_text(target() / "readme.txt"), v1_.at("readme.txt"));
}

TEST_F(TargetOwner, RemoveNeverReachesThroughASymlinkedDirectory) {
    set_package("com.x", "1.0", {{"sub/file.txt", "installed\n"}});
    publish();
    install(repo_url(), {"com.x"});
    // Someone replaced the installed directory by a symlink to a directory of their own.
    const fs::path elsewhere = root() / "elsewhere";
    write_text(elsewhere / "file.txt", "not ferry's\n");
    fs::remove_all(target() / "sub");
    fs::create_directory_symlink(elsewhere, target() / "sub");

    auto r = run_ferry("remove", {"com.x"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("symlink"));
    EXPECT_EQ(read_text(elsewhere / "file.txt"), "not ferry's\n");
    EXPECT_EQ(recorded_version(target(), "com.x"), "1.0");
    expect_no_staging_left(target());
}

TEST_F(TargetOwner, AUsersFileInTheWayIsKeptUnlessOverwriteIsAsked) {
    write_text(target() / "README.txt", "my own notes\n");
    set_package("com.x", "1.0", {{"README.txt", "the component's readme\n"}, {"x.txt", "x\n"}});
    publish();

    auto r = run_ferry("install", {"--repo", repo_url(), "com.x"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("README.txt"));
    EXPECT_THAT(r.err, HasSubstr("--overwrite"));
    EXPECT_EQ(read_text(target() / "README.txt"), "my own notes\n");
    EXPECT_FALSE(fs::exists(target() / "x.txt"));

    r = run_ferry("install", {"--repo", repo_url(), "--overwrite", "com.x"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target() / "README.txt"), "the component's readme\n");
    expect_verifies(target());
}

TEST_F(TargetOwner, TwoComponentsCannotInstallOnePath) {
    set_package("com.a", "1.0", {{"share/same.txt", "a\n"}, {"a.txt", "a\n"}});
    set_package("com.b", "1.0", {{"share/same.txt", "b\n"}, {"b.txt", "b\n"}});
    publish();

    auto r = run_ferry("install", {"--repo", repo_url(), "com.a", "com.b"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("com.a and com.b both install share/same.txt"));
    EXPECT_FALSE(fs::exists(target() / "share/same.txt"));
    EXPECT_FALSE(fs::exists(target() / "components.xml"));

    install(repo_url(), {"com.a"});
    r = run_ferry("install", {"com.b"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("share/same.txt belongs to the installed component com.a"));
    EXPECT_THAT(r.err, HasSubstr("com.b"));
    EXPECT_EQ(read_text(target() / "share/same.txt"), "a\n");
    expect_verifies(target());
}

TEST_F(TargetOwner, AnUnreadableRecordIsAnErrorNotAComponentWithoutFiles) {
    set_package("com.x", "1.0", v1_);
    publish();
    install(repo_url(), {"com.x"});
    // An unprivileged owner of the target, for whom a mode-000 directory really is unreadable.
    fs::permissions(root(), fs::perms::all, fs::perm_options::add);
    ASSERT_EQ(run({"/usr/bin/chown", "-R", "65534:65534", target().string()}).exit_code, 0);
    fs::permissions(target() / ".ferry/files", fs::perms::none);
    auto as_owner = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                   "--clear-groups", FERRY_BINARY});
        return run(args, {{"SOURCE_DATE_EPOCH", "1767225600"}}, root());
    };

    for (const char* command : {"verify", "remove"}) {
        std::vector<std::string> args{command, "--root", target().string()};
        if (std::string(command) == "remove") {
            args.push_back("com.x");
        }
        auto r = as_owner(args);
        EXPECT_EQ(r.exit_code, 1) << command << ": " << describe(r);
        EXPECT_THAT(r.err, HasSubstr(".ferry/files/com.x.json")) << command;
        EXPECT_THAT(r.err, HasSubstr("Permission denied")) << command;
    }
    fs::permissions(target() / ".ferry/files", fs::perms::owner_all);
    EXPECT_EQ(recorded_version(target(), "com.x"), "1.0");
    EXPECT_EQ(read_text(target() / "readme.txt"), v1_.at("readme.txt"));
}

}  // namespace
}  // namespace ferry::testing
