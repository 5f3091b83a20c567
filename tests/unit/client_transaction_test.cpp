// The installation's file records and transactions, in process: what an install, update,
// rollback and remove leave on disk, what verify finds, and that a failure halfway through puts
// every file back.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>

#include "client/file_record.hpp"
#include "client/installation.hpp"
#include "client/transaction.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "support/test_support.hpp"

namespace ferry::client {
namespace {

using testing::read_text;
using testing::snapshot_tree;
using testing::write_text;
using Files = std::map<std::string, std::string>;

class ClientTransaction : public ::testing::Test {
  protected:
    ClientTransaction()
        : installation_(Installation::open(scratch_.path() / "target", true)),
          lock_(installation_.paths()) {}

    const fs::path& root() const { return installation_.root(); }

    // Stages files the way an install does and returns the change that installs them.
    ComponentChange stage(const std::string& name, const std::string& version, const Files& files,
                          ComponentChange::Kind kind) {
        const fs::path source = new_staging_dir(installation_.paths()) / name;
        std::vector<archive::ExtractedEntry> entries;
        for (const auto& [path, content] : files) {
            write_text(source / path, content);
            entries.push_back({path, archive::ExtractedEntry::Type::file, content.size(), false,
                               core::sha256_hex(content), ""});
        }
        FileRecord record = record_extraction(name, version, entries);
        formats::InstalledComponent entry;
        entry.name = name;
        entry.version = version;
        return {kind, name, source, record, entry};
    }

    void install(const std::string& name, const std::string& version, const Files& files,
                 bool overwrite = false) {
        auto state = installation_.components();
        const bool installed = state.find(name) != nullptr;
        ComponentChange change =
            stage(name, version, files,
                  installed ? ComponentChange::Kind::update : ComponentChange::Kind::install);
        change.overwrite = overwrite;
        std::erase_if(state.components, [&](const auto& c) { return c.name == name; });
        state.components.push_back(*change.new_entry);
        // The staging area of the new files is the caller's to remove, as the operations do.
        const fs::path area = change.source.parent_path();
        try {
            run_transaction(installation_, {change}, state);
        } catch (...) {
            fs::remove_all(area);
            throw;
        }
        fs::remove_all(area);
    }

    Files user_files() const {
        Files files = snapshot_tree(root());
        std::erase_if(files, [](const auto& item) {
            return item.first.starts_with(".ferry/") || item.first == "components.xml";
        });
        return files;
    }

    std::vector<FileProblem> verify_all() const {
        std::vector<FileProblem> problems;
        for (const auto& component : installation_.components().components) {
            auto found = verify_record(root(), installation_.record(component.name).value());
            problems.insert(problems.end(), found.begin(), found.end());
        }
        return problems;
    }

    core::ScratchDir scratch_;
    Installation installation_;
    TargetLock lock_;
};

TEST_F(ClientTransaction, InstallPutsTheFilesInPlaceAndRecordsThem) {
    install("com.a", "1.0", {{"bin/a", "a1"}, {"share/a/doc.txt", "doc"}});
    EXPECT_EQ(user_files(), (Files{{"bin/a", "a1"}, {"share/a/doc.txt", "doc"}}));
    EXPECT_EQ(installation_.components().find("com.a")->version, "1.0");
    const FileRecord record = installation_.record("com.a").value();
    ASSERT_NE(record.find("share/a"), nullptr) << "parent directories are recorded";
    EXPECT_EQ(record.find("share/a")->type, InstalledFile::Type::directory);
    EXPECT_EQ(record.find("bin/a")->sha256, core::sha256_hex("a1"));
    EXPECT_TRUE(verify_all().empty());
    EXPECT_TRUE(fs::is_empty(installation_.paths().staging()));
    EXPECT_FALSE(fs::exists(installation_.paths().journal()));
}

TEST_F(ClientTransaction, UpdateReplacesAndDropsFilesAndKeepsThePreviousVersion) {
    install("com.a", "1.0", {{"bin/a", "a1"}, {"old/only.txt", "gone soon"}});
    install("com.a", "2.0", {{"bin/a", "a2"}, {"new/file.txt", "new"}});
    EXPECT_EQ(user_files(), (Files{{"bin/a", "a2"}, {"new/file.txt", "new"}}));
    EXPECT_FALSE(fs::exists(root() / "old")) << "a directory only the old version had is gone";
    EXPECT_EQ(installation_.rollback_names(), std::vector<std::string>{"com.a"});
    EXPECT_EQ(installation_.rollback_entry("com.a")->version, "1.0");
    EXPECT_TRUE(verify_all().empty());
}

TEST_F(ClientTransaction, RollbackSwapsTheKeptVersionBackIn) {
    install("com.a", "1.0", {{"bin/a", "a1"}});
    install("com.a", "2.0", {{"bin/a", "a2"}, {"extra", "x"}});
    const fs::path kept = installation_.paths().rollback_of("com.a");
    ComponentChange change{ComponentChange::Kind::rollback, "com.a", kept_files(kept),
                           parse_file_record(read_text(kept_record(kept)), "kept"),
                           *installation_.rollback_entry("com.a")};
    auto state = installation_.components();
    state.components = {*change.new_entry};
    run_transaction(installation_, {change}, state);
    EXPECT_EQ(user_files(), (Files{{"bin/a", "a1"}}));
    EXPECT_EQ(installation_.components().find("com.a")->version, "1.0");
    EXPECT_EQ(installation_.rollback_entry("com.a")->version, "2.0");
    EXPECT_TRUE(verify_all().empty());
}

TEST_F(ClientTransaction, RemoveDeletesExactlyWhatWasInstalled) {
    install("com.a", "1.0", {{"share/a.txt", "a"}, {"lib/a.so", "so"}});
    install("com.b", "1.0", {{"share/b.txt", "b"}});
    write_text(root() / "lib/user-notes.txt", "mine");
    auto state = installation_.components();
    std::erase_if(state.components, [](const auto& c) { return c.name == "com.a"; });
    run_transaction(installation_,
                    {{ComponentChange::Kind::remove, "com.a", {}, std::nullopt, std::nullopt}},
                    state);
    EXPECT_EQ(user_files(), (Files{{"lib/user-notes.txt", "mine"}, {"share/b.txt", "b"}}));
    EXPECT_FALSE(installation_.record("com.a").has_value());
    EXPECT_EQ(installation_.components().find("com.a"), nullptr);
}

TEST_F(ClientTransaction, AComponentCannotTakeAnotherComponentsFile) {
    install("com.a", "1.0", {{"bin/tool", "a"}});
    const Files before = user_files();
    try {
        install("com.b", "1.0", {{"bin/tool", "b"}});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(e.describe().find("com.a"), std::string::npos) << e.describe();
        EXPECT_NE(e.describe().find("bin/tool"), std::string::npos) << e.describe();
    }
    EXPECT_EQ(user_files(), before);
    EXPECT_TRUE(fs::is_empty(installation_.paths().staging()));
}

TEST_F(ClientTransaction, AFileNobodyInstalledIsKeptUnlessOverwriteIsAsked) {
    write_text(root() / "README.txt", "the user's notes");
    const std::string message =
        testing::error_of([&] { install("com.a", "1.0", {{"README.txt", "a's readme"}}); });
    EXPECT_NE(message.find("README.txt"), std::string::npos) << message;
    EXPECT_NE(message.find("--overwrite"), std::string::npos) << message;
    EXPECT_EQ(user_files(), (Files{{"README.txt", "the user's notes"}}));
    EXPECT_EQ(installation_.components().find("com.a"), nullptr);

    install("com.a", "1.0", {{"README.txt", "a's readme"}}, true);
    EXPECT_EQ(user_files(), (Files{{"README.txt", "a's readme"}}));
    EXPECT_TRUE(verify_all().empty());
}

TEST_F(ClientTransaction, TwoComponentsOfOneTransactionCannotShareAFile) {
    ComponentChange a = stage("com.a", "1.0", {{"share/same.txt", "a"}}, ComponentChange::Kind::install);
    ComponentChange b = stage("com.b", "1.0", {{"share/same.txt", "b"}}, ComponentChange::Kind::install);
    auto state = installation_.components();
    state.components = {*a.new_entry, *b.new_entry};
    const std::string message =
        testing::error_of([&] { run_transaction(installation_, {a, b}, state); });
    EXPECT_NE(message.find("com.a and com.b both install share/same.txt"), std::string::npos)
        << message;
    EXPECT_TRUE(user_files().empty());
    EXPECT_FALSE(fs::exists(installation_.paths().components_xml()));
}

TEST_F(ClientTransaction, ARecordNamingAPathOutsideIsRefused) {
    install("com.a", "1.0", {{"a.txt", "a"}});
    write_text(root().parent_path() / "SENTINEL", "keep me");
    for (const char* path : {"../SENTINEL", "/etc/hostname", ".ferry/journal.json",
                             "components.xml"}) {
        write_text(installation_.paths().record("com.a"),
                   std::string("{\"component\": \"com.a\", \"version\": \"1.0\", \"files\": "
                               "[{\"path\": \"") +
                       path + "\", \"type\": \"file\", \"size\": 1, \"sha256\": \"\"}]}");
        const std::string message = testing::error_of([&] { installation_.record("com.a"); });
        EXPECT_NE(message.find("files/com.a.json"), std::string::npos) << message;
        EXPECT_NE(message.find(path), std::string::npos) << message;
    }
    EXPECT_EQ(read_text(root().parent_path() / "SENTINEL"), "keep me");
}

TEST_F(ClientTransaction, AJournalNamingAPathOutsideIsRefusedBeforeAnythingMoves) {
    write_text(root().parent_path() / "VICTIM", "keep me");
    write_text(root() / "mine.txt", "mine");
    const std::string entry =
        "{\"id\": \"tx\", \"state\": \"applying\", \"changes\": [{\"kind\": \"install\", "
        "\"name\": \"com.a\", \"source\": \"staging/tx/com.a\", \"backup\": "
        "\"staging/tx/com.a.old\", \"keep\": false, \"create_dirs\": [], \"remove_dirs\": [], ";
    for (const std::string lists : {"\"move_out\": [\"../VICTIM\"], \"move_in\": []",
                                     "\"move_out\": [], \"move_in\": [\"../VICTIM\"]",
                                     "\"move_out\": [\"mine.txt\"], \"move_in\": [\"components.xml\"]"}) {
        write_text(installation_.paths().journal(), entry + lists + "}]}");
        const std::string message = testing::error_of([&] { recover(installation_); });
        EXPECT_NE(message.find("journal.json: the transaction journal is damaged"),
                  std::string::npos)
            << message;
    }
    EXPECT_EQ(read_text(root().parent_path() / "VICTIM"), "keep me");
    EXPECT_EQ(read_text(root() / "mine.txt"), "mine");
}

TEST_F(ClientTransaction, AFailureHalfwayPutsEveryFileBack) {
    install("com.a", "1.0", {{"a/1", "one"}, {"b/2", "two"}, {"c/3", "three"}});
    // An immutable directory: renaming its file away fails even for root, after other files of
    // the update have moved already.
    ASSERT_EQ(std::system(("chattr +i " + (root() / "c").string()).c_str()), 0);
    const Files before = user_files();
    const std::string before_xml = read_text(installation_.paths().components_xml());
    try {
        install("com.a", "2.0", {{"a/1", "ONE"}, {"b/2", "TWO"}, {"c/3", "THREE"}});
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(e.describe().find("c/3"), std::string::npos) << e.describe();
        EXPECT_NE(e.describe().find("put back"), std::string::npos) << e.describe();
    }
    std::system(("chattr -i " + (root() / "c").string()).c_str());
    EXPECT_EQ(user_files(), before);
    EXPECT_EQ(read_text(installation_.paths().components_xml()), before_xml);
    EXPECT_TRUE(verify_all().empty());
    EXPECT_FALSE(fs::exists(installation_.paths().journal()));
    EXPECT_EQ(recover(installation_), Recovery::nothing);
}

TEST_F(ClientTransaction, RecoverRemovesStagingLeftByADeadProcess) {
    write_text(new_staging_dir(installation_.paths()) / "com.a/bin/a", "half extracted");
    EXPECT_EQ(recover(installation_), Recovery::nothing);
    EXPECT_TRUE(fs::is_empty(installation_.paths().staging()));
}

TEST_F(ClientTransaction, ASecondProcessIsToldWhoHoldsTheLock) {
    try {
        TargetLock second(installation_.paths());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("another ferry process"), std::string::npos) << message;
        EXPECT_NE(message.find(std::to_string(::getpid())), std::string::npos) << message;
    }
}

TEST(FileRecord, VerifyFindsMissingModifiedAndRetypedFiles) {
    core::ScratchDir dir;
    write_text(dir.path() / "same", "same");
    write_text(dir.path() / "edited", "edited!");
    write_text(dir.path() / "longer", "much longer now");
    fs::create_directories(dir.path() / "was-a-file");
    fs::create_symlink("elsewhere", dir.path() / "link");
    auto entry = [](std::string path, std::string content) {
        return archive::ExtractedEntry{path,  archive::ExtractedEntry::Type::file, content.size(),
                                       false, core::sha256_hex(content),           ""};
    };
    FileRecord record =
        record_extraction("com.x", "1",
                          {entry("same", "same"),
                           entry("edited", "edited."),
                           entry("longer", "short"),
                           entry("was-a-file", "x"),
                           entry("missing", "m"),
                           {"link", archive::ExtractedEntry::Type::symlink, 0, false, "", "same"}});
    std::map<std::string, FileProblem::Kind> found;
    for (const auto& problem : verify_record(dir.path(), record)) {
        found[problem.path] = problem.kind;
    }
    EXPECT_EQ(found, (std::map<std::string, FileProblem::Kind>{
                         {"edited", FileProblem::Kind::modified},
                         {"link", FileProblem::Kind::modified},
                         {"longer", FileProblem::Kind::modified},
                         {"missing", FileProblem::Kind::missing},
                         {"was-a-file", FileProblem::Kind::wrong_type}}));
}

TEST(FileRecord, RoundTripsThroughJsonAndRecordsHardlinksAsTheirTarget) {
    FileRecord record = record_extraction(
        "com.x", "1.2",
        {{"bin/tool", archive::ExtractedEntry::Type::file, 3, true, core::sha256_hex("abc"), ""},
         {"bin/alias", archive::ExtractedEntry::Type::hardlink, 0, false, "", "bin/tool"},
         {"current", archive::ExtractedEntry::Type::symlink, 0, false, "", "bin/tool"}});
    ASSERT_NE(record.find("bin/alias"), nullptr);
    EXPECT_EQ(record.find("bin/alias")->sha256, core::sha256_hex("abc"));
    EXPECT_TRUE(record.find("bin/alias")->executable);
    EXPECT_EQ(parse_file_record(write_file_record(record), "record.json"), record);
    EXPECT_THROW(parse_file_record("{\"component\": 1}", "record.json"), Error);
}

}  // namespace
}  // namespace ferry::client
