// The SQLite catalog as the market server uses it: apps, majors and revisions (with conflicts
// between concurrent publishers), tokens, jobs, schema migrations and refusals, and the key rule.
#include "market/catalog.hpp"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <latch>
#include <map>
#include <thread>

#include "core/error.hpp"
#include "core/files.hpp"
#include "market/sqlite_catalog_internal.hpp"
#include "support/test_support.hpp"

namespace ferry::market {
namespace {

namespace fs = std::filesystem;

// Runs SQL on the file through a connection of its own, as another tool would.
void raw_exec(const fs::path& file, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    EXPECT_EQ(rc, SQLITE_OK) << (message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
}

// The first column of the first row of a query, as text.
std::string raw_query(const fs::path& file, const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
        value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    } else {
        ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
}

std::string now_utc() {
    std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

App make_app(std::string key, App::Kind kind, std::string name, std::string description) {
    App app;
    app.key = std::move(key);
    app.kind = kind;
    app.name = std::move(name);
    app.description = std::move(description);
    app.publisher = "Acme";
    return app;
}

Revision make_revision(std::string app_key, std::string major, int number,
                       std::vector<RevisionComponent> components = {}) {
    Revision revision;
    revision.app_key = std::move(app_key);
    revision.major = std::move(major);
    revision.number = number;
    revision.notes = "revision " + std::to_string(number);
    revision.components = std::move(components);
    return revision;
}

AppQuery filter(std::optional<App::Kind> kind, std::string search = "", std::size_t offset = 0,
                std::size_t limit = 100) {
    AppQuery query;
    query.kind = kind;
    query.search = std::move(search);
    query.offset = offset;
    query.limit = limit;
    return query;
}

Job make_job(std::string id, std::string target) {
    Job job;
    job.id = std::move(id);
    job.kind = "pull";
    job.target = std::move(target);
    return job;
}

std::vector<std::string> keys_of(const std::vector<App>& apps) {
    std::vector<std::string> keys;
    for (const App& app : apps) {
        keys.push_back(app.key);
    }
    return keys;
}

class MarketCatalog : public ::testing::Test {
  protected:
    core::ScratchDir dir;
    fs::path file = dir.path() / "catalog.db";
    std::unique_ptr<Catalog> catalog = open_sqlite_catalog(file);
};

TEST_F(MarketCatalog, SaveFindAndUpdateKeepsCreatedAt) {
    App app = make_app("com.acme.editor", App::Kind::app, "Editor", "Edits text");
    app.icon = "https://acme.example/editor.png";
    app.official = true;
    app.source = App::Source::upstream;
    app.upstream_url = "https://market.example";
    app.export_formats = {"rainbond-app", "bundle"};
    app.created_at = "1999-01-01T00:00:00Z";  // the catalog's to set, not the caller's

    const std::string before = now_utc();
    App saved = catalog->save_app(app);
    const std::string after = now_utc();
    EXPECT_LE(before, saved.created_at);
    EXPECT_GE(after, saved.created_at);
    EXPECT_EQ(saved.updated_at, saved.created_at);
    App expected = app;
    expected.created_at = saved.created_at;
    expected.updated_at = saved.updated_at;
    EXPECT_EQ(saved, expected);
    EXPECT_EQ(catalog->find_app("com.acme.editor"), saved);
    EXPECT_EQ(catalog->find_app("com.acme.other"), std::nullopt);

    // Date the row in the past, then update it: created_at stays, updated_at moves.
    raw_exec(file,
             "UPDATE apps SET created_at = '2020-01-01T00:00:00Z', updated_at = "
             "'2020-01-01T00:00:00Z'");
    app.name = "Editor Pro";
    app.export_formats = {"docker-compose"};
    App updated = catalog->save_app(app);
    EXPECT_EQ(updated.created_at, "2020-01-01T00:00:00Z");
    EXPECT_LE(before, updated.updated_at);
    EXPECT_EQ(updated.name, "Editor Pro");
    EXPECT_EQ(updated.export_formats, std::vector<std::string>{"docker-compose"});
    EXPECT_EQ(catalog->find_app("com.acme.editor"), updated);
    EXPECT_EQ(catalog->count_apps({}), 1u);
}

TEST_F(MarketCatalog, SaveRefusesAnInvalidKey) {
    std::string message =
        testing::error_of([&] { catalog->save_app(make_app("../x", App::Kind::app, "X", "")); });
    EXPECT_NE(message.find("app key \"../x\" starts with '.'"), std::string::npos) << message;
    EXPECT_EQ(catalog->count_apps({}), 0u);
}

TEST_F(MarketCatalog, ListAndCountFilterByKindAndSearchAndPage) {
    catalog->save_app(make_app("org.zeta.viewer", App::Kind::app, "Viewer", "Shows images"));
    catalog->save_app(make_app("com.acme.editor", App::Kind::app, "Editor", "Edits text"));
    catalog->save_app(
        make_app("com.acme.spell", App::Kind::plugin, "Spell Checker", "Checks the EDITOR's text"));
    catalog->save_app(make_app("net.sure", App::Kind::app, "100% Sure", "Certain_ly"));

    EXPECT_EQ(keys_of(catalog->list_apps({})),
              (std::vector<std::string>{"com.acme.editor", "com.acme.spell", "net.sure",
                                        "org.zeta.viewer"}));
    EXPECT_EQ(catalog->count_apps({}), 4u);

    AppQuery plugins = filter(App::Kind::plugin);
    EXPECT_EQ(keys_of(catalog->list_apps(plugins)), std::vector<std::string>{"com.acme.spell"});
    EXPECT_EQ(catalog->count_apps(plugins), 1u);

    // Case-insensitive, over key, name and description.
    AppQuery edit = filter(std::nullopt, "EdIt");
    EXPECT_EQ(keys_of(catalog->list_apps(edit)),
              (std::vector<std::string>{"com.acme.editor", "com.acme.spell"}));
    EXPECT_EQ(catalog->count_apps(edit), 2u);
    AppQuery edit_apps = filter(App::Kind::app, "edit");
    EXPECT_EQ(keys_of(catalog->list_apps(edit_apps)), std::vector<std::string>{"com.acme.editor"});
    EXPECT_EQ(catalog->count_apps(edit_apps), 1u);
    AppQuery by_key = filter(std::nullopt, "zeta");
    EXPECT_EQ(keys_of(catalog->list_apps(by_key)), std::vector<std::string>{"org.zeta.viewer"});

    // Pattern characters are searched for literally.
    EXPECT_EQ(keys_of(catalog->list_apps(filter(std::nullopt, "%"))),
              std::vector<std::string>{"net.sure"});
    EXPECT_EQ(keys_of(catalog->list_apps(filter(std::nullopt, "e_t"))), std::vector<std::string>{});
    EXPECT_EQ(catalog->count_apps(filter(std::nullopt, "_")), 1u);

    AppQuery page = filter(std::nullopt, "", 1, 2);
    EXPECT_EQ(keys_of(catalog->list_apps(page)),
              (std::vector<std::string>{"com.acme.spell", "net.sure"}));
    EXPECT_EQ(catalog->count_apps(page), 4u);  // the total, for paging
    EXPECT_EQ(keys_of(catalog->list_apps(filter(std::nullopt, "", 4))), std::vector<std::string>{});
}

TEST_F(MarketCatalog, MajorsAndRevisionsRoundTripWithComponents) {
    catalog->save_app(make_app("com.acme.app", App::Kind::app, "App", ""));
    const std::string before = now_utc();
    catalog->commit_revision(make_revision(
        "com.acme.app", "2", 1, {{"com.acme.b", "2.1.0", "bb"}, {"com.acme.a", "2.1.0", "aa"}}));
    catalog->commit_revision(
        make_revision("com.acme.app", "2", 2, {{"com.acme.a", "2.2.0", "a2"}}));
    catalog->commit_revision(make_revision("com.acme.app", "3", 1));

    std::optional<Revision> first = catalog->find_revision("com.acme.app", "2", 1);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->notes, "revision 1");
    EXPECT_LE(before, first->created_at);
    EXPECT_EQ(first->components, (std::vector<RevisionComponent>{{"com.acme.a", "2.1.0", "aa"},
                                                                 {"com.acme.b", "2.1.0", "bb"}}));
    std::optional<Revision> second = catalog->find_revision("com.acme.app", "2", 2);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->components, (std::vector<RevisionComponent>{{"com.acme.a", "2.2.0", "a2"}}));
    EXPECT_EQ(catalog->find_revision("com.acme.app", "2", 3), std::nullopt);
    EXPECT_EQ(catalog->find_revision("com.acme.app", "4", 1), std::nullopt);

    std::optional<Major> two = catalog->find_major("com.acme.app", "2");
    ASSERT_TRUE(two);
    EXPECT_EQ(two->latest_revision, 2);
    EXPECT_LE(before, two->created_at);
    EXPECT_LE(two->created_at, two->updated_at);
    std::vector<Major> majors = catalog->list_majors("com.acme.app");
    ASSERT_EQ(majors.size(), 2u);
    EXPECT_EQ(majors[0], *two);
    EXPECT_EQ(majors[1].major, "3");
    EXPECT_EQ(majors[1].latest_revision, 1);
    EXPECT_TRUE(catalog->list_majors("com.acme.other").empty());
}

TEST_F(MarketCatalog, CommitNeedsTheApp) {
    std::string message = testing::error_of(
        [&] { catalog->commit_revision(make_revision("com.acme.ghost", "1", 1)); });
    EXPECT_NE(message.find("no app \"com.acme.ghost\""), std::string::npos) << message;
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_EQ(catalog->find_major("com.acme.ghost", "1"), std::nullopt);
}

TEST_F(MarketCatalog, CommitOfAnUnexpectedNumberIsAConflict) {
    catalog->save_app(make_app("com.acme.app", App::Kind::app, "App", ""));
    catalog->commit_revision(make_revision("com.acme.app", "2", 1, {{"c", "1", "first"}}));

    auto conflict_of = [&](const Revision& revision) -> std::string {
        try {
            catalog->commit_revision(revision);
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::conflict) << e.what();
            return e.what();
        }
        ADD_FAILURE() << "expected a conflict for revision " << revision.number;
        return {};
    };
    EXPECT_EQ(conflict_of(make_revision("com.acme.app", "2", 1, {{"c", "1", "second"}})),
              "com.acme.app@2: revision 1 was expected next, but the latest is 1 (another "
              "publish came first)");
    EXPECT_EQ(conflict_of(make_revision("com.acme.app", "2", 3)),
              "com.acme.app@2: revision 3 was expected next, but the latest is 1 (another "
              "publish came first)");
    EXPECT_EQ(conflict_of(make_revision("com.acme.app", "5", 2)),
              "com.acme.app@5: revision 2 was expected next, but the latest is 0 (another "
              "publish came first)");

    // The losers left nothing behind.
    EXPECT_EQ(catalog->find_major("com.acme.app", "2")->latest_revision, 1);
    EXPECT_EQ(catalog->find_revision("com.acme.app", "2", 1)->components,
              (std::vector<RevisionComponent>{{"c", "1", "first"}}));
    EXPECT_EQ(catalog->find_major("com.acme.app", "5"), std::nullopt);
}

TEST_F(MarketCatalog, ConcurrentCommitsOfOneNumberHaveOneWinner) {
    catalog->save_app(make_app("com.acme.app", App::Kind::app, "App", ""));
    constexpr int publishers = 4;
    std::vector<std::unique_ptr<Catalog>> catalogs;
    for (int i = 0; i < publishers; ++i) {
        catalogs.push_back(open_sqlite_catalog(file));  // one connection each, as processes
    }
    std::atomic<int> wins{0}, conflicts{0}, other_errors{0};
    std::latch start(publishers);
    std::vector<std::thread> threads;
    for (int i = 0; i < publishers; ++i) {
        threads.emplace_back([&, i] {
            Revision revision = make_revision("com.acme.app", "2", 1);
            revision.notes = "publisher " + std::to_string(i);
            start.arrive_and_wait();
            try {
                catalogs[i]->commit_revision(revision);
                ++wins;
            } catch (const Error& e) {
                ++(e.kind() == ErrorKind::conflict ? conflicts : other_errors);
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(wins, 1);
    EXPECT_EQ(conflicts, publishers - 1);
    EXPECT_EQ(other_errors, 0);
    EXPECT_EQ(catalog->find_major("com.acme.app", "2")->latest_revision, 1);
}

TEST_F(MarketCatalog, ConcurrentPublishersGetConsecutiveRevisions) {
    catalog->save_app(make_app("com.acme.app", App::Kind::app, "App", ""));
    constexpr int publishers = 4;
    constexpr int each = 8;
    std::vector<std::unique_ptr<Catalog>> catalogs;
    for (int i = 0; i < publishers; ++i) {
        catalogs.push_back(open_sqlite_catalog(file));
    }
    std::atomic<int> other_errors{0};
    std::latch start(publishers);
    std::vector<std::thread> threads;
    for (int i = 0; i < publishers; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            int published = 0;
            while (published < each && other_errors == 0) {
                // Read the latest, then try the next: losing a race means reading again.
                std::optional<Major> major = catalogs[i]->find_major("com.acme.app", "2");
                Revision revision =
                    make_revision("com.acme.app", "2", major ? major->latest_revision + 1 : 1);
                revision.notes = "publisher " + std::to_string(i);
                try {
                    catalogs[i]->commit_revision(revision);
                    ++published;
                } catch (const Error& e) {
                    if (e.kind() != ErrorKind::conflict) {
                        ADD_FAILURE() << e.what();
                        ++other_errors;
                    }
                }
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    ASSERT_EQ(other_errors, 0);
    EXPECT_EQ(catalog->find_major("com.acme.app", "2")->latest_revision, publishers * each);
    std::map<std::string, int> by_publisher;
    for (int number = 1; number <= publishers * each; ++number) {
        std::optional<Revision> revision = catalog->find_revision("com.acme.app", "2", number);
        ASSERT_TRUE(revision) << number;
        ++by_publisher[revision->notes];
    }
    EXPECT_EQ(by_publisher.size(), std::size_t{publishers});
    for (const auto& [notes, count] : by_publisher) {
        EXPECT_EQ(count, each) << notes;
    }
}

TEST_F(MarketCatalog, TokensAddFindListRemove) {
    Token ci{.id = "t1",
             .secret_hash = std::string(64, 'a'),
             .role = Token::Role::publish,
             .description = "CI",
             .created_at = "",
             .last_used_at = ""};
    Token admin{.id = "t2",
                .secret_hash = std::string(64, 'b'),
                .role = Token::Role::admin,
                .description = "operator",
                .created_at = "",
                .last_used_at = ""};
    const std::string before = now_utc();
    catalog->add_token(ci);
    catalog->add_token(admin);

    std::optional<Token> found = catalog->find_token_by_hash(std::string(64, 'b'));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, "t2");
    EXPECT_EQ(found->role, Token::Role::admin);
    EXPECT_EQ(found->description, "operator");
    EXPECT_LE(before, found->created_at);
    EXPECT_EQ(catalog->find_token_by_hash(std::string(64, 'c')), std::nullopt);

    std::vector<Token> tokens = catalog->list_tokens();
    ASSERT_EQ(tokens.size(), 2u);
    EXPECT_EQ(tokens[0].id, "t1");
    EXPECT_EQ(tokens[1], *found);

    // The same secret twice would make a token ambiguous.
    Token copy = ci;
    copy.id = "t3";
    std::string message = testing::error_of([&] { catalog->add_token(copy); });
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("UNIQUE constraint failed: tokens.secret_hash"), std::string::npos)
        << message;

    EXPECT_EQ(catalog->list_tokens()[1].last_used_at, "") << "never used";
    catalog->record_token_use("t2");
    EXPECT_GE(catalog->list_tokens()[1].last_used_at, before);
    EXPECT_EQ(catalog->list_tokens()[0].last_used_at, "");

    EXPECT_TRUE(catalog->remove_token("t1"));
    EXPECT_FALSE(catalog->remove_token("t1"));
    EXPECT_EQ(catalog->find_token_by_hash(std::string(64, 'a')), std::nullopt);
    ASSERT_EQ(catalog->list_tokens().size(), 1u);
    EXPECT_EQ(catalog->list_tokens()[0].id, "t2");
}

TEST_F(MarketCatalog, JobsSaveUpdateAndListNewestFirst) {
    Job pull = make_job("j1", "com.acme.app@2");
    catalog->save_job(pull);
    catalog->save_job(make_job("j2", "com.acme.app@3"));
    catalog->save_job(make_job("j3", "com.acme.other@1"));
    const std::string created = catalog->find_job("j1")->created_at;

    pull.state = Job::State::failed;
    pull.error = "upstream answered 503";
    pull.done = 5;
    pull.total = 10'000'000'000;  // beyond 32 bits
    catalog->save_job(pull);
    std::optional<Job> found = catalog->find_job("j1");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->state, Job::State::failed);
    EXPECT_EQ(found->error, "upstream answered 503");
    EXPECT_EQ(found->done, 5u);
    EXPECT_EQ(found->total, 10'000'000'000u);
    EXPECT_EQ(found->created_at, created);
    EXPECT_LE(found->created_at, found->updated_at);
    EXPECT_EQ(catalog->find_job("j9"), std::nullopt);

    std::vector<Job> jobs = catalog->list_jobs(10);
    ASSERT_EQ(jobs.size(), 3u);
    EXPECT_EQ(jobs[0].id, "j3");
    EXPECT_EQ(jobs[1].id, "j2");
    EXPECT_EQ(jobs[2], *found);
    std::vector<Job> newest = catalog->list_jobs(2);
    ASSERT_EQ(newest.size(), 2u);
    EXPECT_EQ(newest[0].id, "j3");
    EXPECT_EQ(newest[1].id, "j2");
}

TEST_F(MarketCatalog, EverythingPersistsAcrossReopen) {
    App app = catalog->save_app(make_app("com.acme.app", App::Kind::plugin, "App", "Kept"));
    catalog->commit_revision(make_revision("com.acme.app", "1", 1, {{"c", "1.1", "d"}}));
    catalog->add_token({.id = "t1",
                        .secret_hash = "h",
                        .role = Token::Role::admin,
                        .description = "",
                        .created_at = "",
                        .last_used_at = ""});
    catalog->save_job(make_job("j1", "com.acme.app@1"));
    std::optional<Revision> revision = catalog->find_revision("com.acme.app", "1", 1);
    catalog.reset();

    std::unique_ptr<Catalog> reopened = open_sqlite_catalog(file);
    EXPECT_EQ(reopened->find_app("com.acme.app"), app);
    EXPECT_EQ(reopened->find_revision("com.acme.app", "1", 1), revision);
    EXPECT_EQ(reopened->find_major("com.acme.app", "1")->latest_revision, 1);
    EXPECT_EQ(reopened->find_token_by_hash("h")->id, "t1");
    EXPECT_EQ(reopened->find_job("j1")->target, "com.acme.app@1");
}

// The market's answer cache trusts the generation: it must move with every change, whether
// made through this catalog or by another connection (another process, the sqlite3 tool).
TEST_F(MarketCatalog, GenerationChangesWithEveryWriteFromAnywhere) {
    const std::uint64_t start = catalog->generation();
    EXPECT_EQ(catalog->generation(), start) << "reads do not change it";
    catalog->list_apps({});

    catalog->save_app(make_app("com.acme.app", App::Kind::app, "App", "One"));
    const std::uint64_t after_save = catalog->generation();
    EXPECT_NE(after_save, start);

    catalog->commit_revision(make_revision("com.acme.app", "1", 1));
    const std::uint64_t after_commit = catalog->generation();
    EXPECT_NE(after_commit, after_save);

    raw_exec(file, "UPDATE apps SET name = 'Renamed' WHERE key = 'com.acme.app'");
    EXPECT_NE(catalog->generation(), after_commit);
    EXPECT_EQ(catalog->find_app("com.acme.app")->name, "Renamed");
}

TEST(MarketCatalogSchema, NewFileIsAtTheCurrentVersionInWalMode) {
    core::ScratchDir dir;
    const fs::path file = dir.path() / "catalog.db";
    ASSERT_GE(current_schema_version(), 2);
    EXPECT_EQ(open_sqlite_catalog(file)->schema_version(), current_schema_version());
    EXPECT_EQ(raw_query(file, "PRAGMA user_version"), std::to_string(current_schema_version()));
    EXPECT_EQ(raw_query(file, "PRAGMA journal_mode"), "wal");
}

TEST(MarketCatalogSchema, UpgradesAVersion1File) {
    core::ScratchDir dir;
    const fs::path file = dir.path() / "catalog.db";
    {
        std::unique_ptr<Catalog> old = open_sqlite_catalog_at_version(file, 1);
        EXPECT_EQ(old->schema_version(), 1);
        old->save_app(make_app("com.acme.app", App::Kind::app, "Old", ""));
        old->commit_revision(make_revision("com.acme.app", "1", 1));
        // Tokens came later: at version 1 there is no table for them.
        std::string message = testing::error_of([&] { old->list_tokens(); });
        EXPECT_NE(message.find("no such table: tokens"), std::string::npos) << message;
    }
    std::unique_ptr<Catalog> catalog = open_sqlite_catalog(file);
    EXPECT_EQ(catalog->schema_version(), current_schema_version());
    EXPECT_EQ(catalog->find_app("com.acme.app")->name, "Old");
    EXPECT_EQ(catalog->find_major("com.acme.app", "1")->latest_revision, 1);
    catalog->add_token({.id = "t1",
                        .secret_hash = "h",
                        .role = Token::Role::publish,
                        .description = "",
                        .created_at = "",
                        .last_used_at = ""});
    EXPECT_EQ(catalog->list_tokens().size(), 1u);
}

TEST(MarketCatalogSchema, RefusesAFileOfANewerFerry) {
    core::ScratchDir dir;
    const fs::path file = dir.path() / "catalog.db";
    open_sqlite_catalog(file)->save_app(make_app("com.acme.app", App::Kind::app, "App", ""));
    const int newer = current_schema_version() + 3;
    raw_exec(file, "PRAGMA user_version = " + std::to_string(newer));

    EXPECT_EQ(testing::error_of([&] { open_sqlite_catalog(file); }),
              fmt::format("{}: the catalog was written by a newer ferry (schema version {}; this "
                          "ferry knows up to {}); upgrade ferry or use another --data directory",
                          file.string(), newer, current_schema_version()));
    EXPECT_EQ(raw_query(file, "PRAGMA user_version"), std::to_string(newer));  // left alone
}

TEST(MarketCatalogSchema, NotADatabaseIsAnErrorNamingTheFile) {
    core::ScratchDir dir;
    const fs::path file = dir.path() / "catalog.db";
    testing::write_text(file, std::string(4096, 'x') + "\nthis is a text file\n");
    std::string message = testing::error_of([&] { open_sqlite_catalog(file); });
    EXPECT_EQ(message.rfind(file.string() + ": ", 0), 0u) << message;
    EXPECT_NE(message.find("file is not a database"), std::string::npos) << message;
}

TEST(MarketCatalogKeys, ValidKeys) {
    for (std::string_view key : {"com.acme.app", "2", "v1.2-beta_3", "A", "a..b"}) {
        EXPECT_TRUE(is_valid_key(key)) << key;
    }
    EXPECT_TRUE(is_valid_key(std::string(128, 'a')));
    for (std::string_view key : {"", "../x", "a/b", "a b", ".hidden", "x.", "-x", "_x", "a\\b",
                                 "a%20b", "a?b", "\xc3\xa9t\xc3\xa9", "caf\xc3\xa9"}) {
        EXPECT_FALSE(is_valid_key(key)) << key;
    }
    EXPECT_FALSE(is_valid_key(std::string(129, 'a')));
    EXPECT_FALSE(is_valid_key(std::string_view("a\0b", 3)));
}

TEST(MarketCatalogNames, RoundTripAndRefusal) {
    for (App::Kind kind : {App::Kind::app, App::Kind::plugin}) {
        EXPECT_EQ(parse_app_kind(to_string(kind)), kind);
    }
    for (App::Source source :
         {App::Source::published, App::Source::upstream, App::Source::imported}) {
        EXPECT_EQ(parse_app_source(to_string(source)), source);
    }
    for (Token::Role role : {Token::Role::publish, Token::Role::admin}) {
        EXPECT_EQ(parse_token_role(to_string(role)), role);
    }
    for (Job::State state :
         {Job::State::queued, Job::State::running, Job::State::success, Job::State::failed}) {
        EXPECT_EQ(parse_job_state(to_string(state)), state);
    }
    EXPECT_EQ(to_string(App::Kind::plugin), "plugin");
    EXPECT_EQ(to_string(Job::State::success), "success");
    std::string message = testing::error_of([] { parse_job_state("done"); });
    EXPECT_NE(message.find("\"done\""), std::string::npos) << message;
    EXPECT_NE(message.find("queued, running, success, failed"), std::string::npos) << message;
}

}  // namespace
}  // namespace ferry::market
