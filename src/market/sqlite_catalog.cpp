// The SQLite catalog: one connection per Catalog object, serialized by a mutex, on a file in WAL
// mode so that several processes and threads can share it. The schema is versioned with
// PRAGMA user_version and built by an ordered list of migrations, one transaction each.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>
#include <mutex>

#include <nlohmann/json.hpp>

#include "core/json_error.hpp"
#include "market/catalog.hpp"
#include "market/names.hpp"
#include "market/sqlite_catalog_internal.hpp"
#include "market/sqlite_db.hpp"

namespace ferry::market {

namespace {

constexpr int busy_timeout_ms = 5000;

constexpr std::string_view app_columns =
    "key, kind, name, description, publisher, icon, official, source, upstream_url, "
    "export_formats, created_at, updated_at";
constexpr std::string_view job_columns =
    "id, kind, target, state, error, done, total, created_at, updated_at, detail";
constexpr std::string_view token_columns =
    "id, secret_hash, role, description, created_at, last_used_at";

std::string now_rfc3339() {
    return to_rfc3339(std::chrono::system_clock::now());
}

std::int64_t to_sql_count(std::size_t n) {
    return static_cast<std::int64_t>(
        std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max()));
}

std::string lower_ascii(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

void require_key(std::string_view key, std::string_view what) {
    check_key(key, what);
}

class SqliteCatalog final : public Catalog {
  public:
    explicit SqliteCatalog(const std::filesystem::path& file) : db_(file, busy_timeout_ms) {}

    // Switches to WAL mode and applies the migrations up to target_version.
    void prepare(int target_version);

    int schema_version() override {
        std::lock_guard lock(mutex_);
        return user_version();
    }

    // data_version changes with every commit of another connection (other processes included),
    // total_changes with every change made through this one.
    std::uint64_t generation() override {
        std::lock_guard lock(mutex_);
        // Asked before every cached answer: the statement is prepared once.
        if (!data_version_)
            data_version_.emplace(db_, "PRAGMA data_version");
        data_version_->step();
        const auto version = static_cast<std::uint64_t>(data_version_->integer(0));
        // An active statement would keep its read transaction, and with it an old snapshot.
        data_version_->reset();
        return (static_cast<std::uint64_t>(db_.total_changes()) << 32) ^ version;
    }

    std::vector<App> list_apps(const AppQuery& query) override;
    std::size_t count_apps(const AppQuery& query) override;
    std::optional<App> find_app(std::string_view key) override;
    App save_app(const App& app) override;

    std::vector<Major> list_majors(std::string_view app_key) override;
    std::optional<Major> find_major(std::string_view app_key, std::string_view major) override;
    std::optional<Revision> find_revision(std::string_view app_key, std::string_view major,
                                          int number) override;
    using Catalog::commit_revision;
    void commit_revision(const Revision& revision, int after) override;

    void add_token(const Token& token) override;
    std::optional<Token> find_token_by_hash(std::string_view secret_hash) override;
    std::vector<Token> list_tokens() override;
    bool remove_token(std::string_view id) override;
    void record_token_use(std::string_view id) override;

    void save_job(const Job& job) override;
    std::optional<Job> find_job(std::string_view id) override;
    std::vector<Job> list_jobs(std::size_t limit) override;

  private:
    int user_version();
    [[noreturn]] void refuse_newer(int version, int known);

    // Runs fn, which decodes stored text; its errors name the file and the row.
    template <typename Fn>
    decltype(auto) decode(std::string_view row, Fn&& fn) {
        try {
            return fn();
        } catch (const Error& e) {
            throw Error::format(ErrorKind::storage, "{}: {}: {}", db_.file().string(), row,
                                e.what());
        } catch (const nlohmann::json::exception& e) {
            throw Error::format(ErrorKind::storage, "{}: {}: {}", db_.file().string(), row,
                                core::json_error_text(e));
        }
    }

    App read_app(SqliteStatement& statement);
    Major read_major(SqliteStatement& statement);
    Token read_token(SqliteStatement& statement);
    Job read_job(SqliteStatement& statement);
    std::optional<App> find_app_locked(std::string_view key);
    std::optional<Major> find_major_locked(std::string_view app_key, std::string_view major);
    std::optional<Job> find_job_locked(std::string_view id);

    std::mutex mutex_;
    SqliteDb db_;
    std::optional<SqliteStatement> data_version_;  // after db_: finalized before it closes
};

int SqliteCatalog::user_version() {
    SqliteStatement statement(db_, "PRAGMA user_version");
    return statement.step() ? static_cast<int>(statement.integer(0)) : 0;
}

void SqliteCatalog::refuse_newer(int version, int known) {
    throw Error::format(
        ErrorKind::storage,
        "{}: the catalog was written by a newer ferry (schema version {}; this ferry knows up to "
        "{}); upgrade ferry or use another --data directory",
        db_.file().string(), version, known);
}

void SqliteCatalog::prepare(int target_version) {
    std::lock_guard lock(mutex_);
    // Read first: this is what fails on a file that is not an SQLite database, and a newer
    // catalog is refused before anything (even the journal mode) is changed in it.
    int version = user_version();
    if (version > target_version) {
        refuse_newer(version, target_version);
    }
    {
        SqliteStatement wal(db_, "PRAGMA journal_mode = WAL");
        std::string mode = wal.step() ? lower_ascii(wal.text(0)) : std::string();
        if (mode != "wal") {
            throw Error::format(ErrorKind::storage,
                                "{}: cannot switch the catalog to WAL mode (the mode stays \"{}\")",
                                db_.file().string(), mode);
        }
    }
    while (version < target_version) {
        SqliteTransaction transaction(db_);
        // Another process may have migrated since the read above; the write lock is held now.
        version = user_version();
        if (version > target_version) {
            refuse_newer(version, target_version);
        }
        if (version < target_version) {
            db_.exec(sqlite_migrations()[static_cast<std::size_t>(version)],
                     fmt::format("cannot migrate the catalog to schema version {}", version + 1));
            // PRAGMA takes no bound parameters; the value is our own integer.
            db_.exec(fmt::format("PRAGMA user_version = {}", version + 1),
                     "cannot record the schema version");
            ++version;
        }
        transaction.commit();
    }
}

App SqliteCatalog::read_app(SqliteStatement& s) {
    App app;
    app.key = s.text(0);
    return decode(fmt::format("app \"{}\"", app.key), [&] {
        app.kind = parse_app_kind(s.text(1));
        app.name = s.text(2);
        app.description = s.text(3);
        app.publisher = s.text(4);
        app.icon = s.text(5);
        app.official = s.integer(6) != 0;
        app.source = parse_app_source(s.text(7));
        app.upstream_url = s.text(8);
        app.export_formats = nlohmann::json::parse(s.text(9)).get<std::vector<std::string>>();
        app.created_at = s.text(10);
        app.updated_at = s.text(11);
        return app;
    });
}

std::vector<App> SqliteCatalog::list_apps(const AppQuery& query) {
    std::lock_guard lock(mutex_);
    // instr rather than LIKE: the search text needs no escaping of '%' and '_'.
    SqliteStatement s(db_, fmt::format("SELECT {} FROM apps WHERE (?1 IS NULL OR kind = ?1) AND "
                                       "(?2 = '' OR instr(lower(key), ?2) OR instr(lower(name), "
                                       "?2) OR instr(lower(description), ?2)) "
                                       "ORDER BY key LIMIT ?3 OFFSET ?4",
                                       app_columns));
    std::optional<std::string_view> kind;
    if (query.kind) {
        kind = to_string(*query.kind);
    }
    s.bind_all(kind, lower_ascii(query.search), to_sql_count(query.limit),
               to_sql_count(query.offset));
    std::vector<App> apps;
    while (s.step()) {
        apps.push_back(read_app(s));
    }
    return apps;
}

std::size_t SqliteCatalog::count_apps(const AppQuery& query) {
    std::lock_guard lock(mutex_);
    SqliteStatement s(db_,
                      "SELECT count(*) FROM apps WHERE (?1 IS NULL OR kind = ?1) AND "
                      "(?2 = '' OR instr(lower(key), ?2) OR instr(lower(name), ?2) OR "
                      "instr(lower(description), ?2))");
    std::optional<std::string_view> kind;
    if (query.kind) {
        kind = to_string(*query.kind);
    }
    s.bind_all(kind, lower_ascii(query.search));
    return s.step() ? static_cast<std::size_t>(s.integer(0)) : 0;
}

std::optional<App> SqliteCatalog::find_app_locked(std::string_view key) {
    SqliteStatement s(db_, fmt::format("SELECT {} FROM apps WHERE key = ?1", app_columns));
    s.bind_all(key);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_app(s);
}

std::optional<App> SqliteCatalog::find_app(std::string_view key) {
    std::lock_guard lock(mutex_);
    return find_app_locked(key);
}

App SqliteCatalog::save_app(const App& app) {
    require_key(app.key, "app key");
    std::lock_guard lock(mutex_);
    SqliteTransaction transaction(db_);
    const std::string now = now_rfc3339();
    SqliteStatement s(
        db_, fmt::format("INSERT INTO apps ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                         "?11, ?11) ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, name = "
                         "excluded.name, description = excluded.description, publisher = "
                         "excluded.publisher, icon = excluded.icon, official = excluded.official, "
                         "source = excluded.source, upstream_url = excluded.upstream_url, "
                         "export_formats = excluded.export_formats, updated_at = "
                         "excluded.updated_at",
                         app_columns));
    s.bind_all(app.key, to_string(app.kind), app.name, app.description, app.publisher, app.icon,
               app.official, to_string(app.source), app.upstream_url,
               nlohmann::json(app.export_formats).dump(), now);
    s.run();
    App saved = *find_app_locked(app.key);
    transaction.commit();
    return saved;
}

Major SqliteCatalog::read_major(SqliteStatement& s) {
    return Major{.app_key = s.text(0),
                 .major = s.text(1),
                 .latest_revision = static_cast<int>(s.integer(2)),
                 .created_at = s.text(3),
                 .updated_at = s.text(4)};
}

std::vector<Major> SqliteCatalog::list_majors(std::string_view app_key) {
    std::lock_guard lock(mutex_);
    SqliteStatement s(db_,
                      "SELECT app_key, major, latest_revision, created_at, updated_at FROM majors "
                      "WHERE app_key = ?1 ORDER BY created_at, rowid");
    s.bind_all(app_key);
    std::vector<Major> majors;
    while (s.step()) {
        majors.push_back(read_major(s));
    }
    return majors;
}

std::optional<Major> SqliteCatalog::find_major_locked(std::string_view app_key,
                                                      std::string_view major) {
    SqliteStatement s(db_,
                      "SELECT app_key, major, latest_revision, created_at, updated_at FROM majors "
                      "WHERE app_key = ?1 AND major = ?2");
    s.bind_all(app_key, major);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_major(s);
}

std::optional<Major> SqliteCatalog::find_major(std::string_view app_key, std::string_view major) {
    std::lock_guard lock(mutex_);
    return find_major_locked(app_key, major);
}

std::optional<Revision> SqliteCatalog::find_revision(std::string_view app_key,
                                                     std::string_view major, int number) {
    std::lock_guard lock(mutex_);
    SqliteStatement s(db_,
                      "SELECT notes, created_at FROM revisions WHERE app_key = ?1 AND major = ?2 "
                      "AND number = ?3");
    s.bind_all(app_key, major, number);
    if (!s.step()) {
        return std::nullopt;
    }
    Revision revision{.app_key = std::string(app_key),
                      .major = std::string(major),
                      .number = number,
                      .notes = s.text(0),
                      .created_at = s.text(1),
                      .components = {},
                      .files = {}};
    SqliteStatement c(db_,
                      "SELECT name, version, content_sha256 FROM revision_components WHERE "
                      "app_key = ?1 AND major = ?2 AND number = ?3 ORDER BY name");
    c.bind_all(app_key, major, number);
    while (c.step()) {
        revision.components.push_back(RevisionComponent{
            .name = c.text(0), .version = c.text(1), .content_sha256 = c.text(2)});
    }
    SqliteStatement f(db_,
                      "SELECT path, sha256, size FROM revision_files WHERE app_key = ?1 AND "
                      "major = ?2 AND number = ?3 ORDER BY path");
    f.bind_all(app_key, major, number);
    while (f.step()) {
        revision.files.push_back(RepositoryFile{.path = f.text(0),
                                                .sha256 = f.text(1),
                                                .size = static_cast<std::uint64_t>(f.integer(2))});
    }
    return revision;
}

void SqliteCatalog::commit_revision(const Revision& revision, int after) {
    require_key(revision.app_key, "app key");
    require_key(revision.major, "major version");
    if (revision.number < 1) {
        throw Error::format("{}@{}: revision numbers start at 1, not {}", revision.app_key,
                            revision.major, revision.number);
    }
    std::lock_guard lock(mutex_);
    // IMMEDIATE: the check of the latest revision and the writes below happen under the write
    // lock, so two publishers (threads or processes) cannot both see the same latest revision.
    SqliteTransaction transaction(db_);
    if (!find_app_locked(revision.app_key)) {
        throw Error::format(ErrorKind::not_found,
                            "{}: there is no app \"{}\" to record {}@{} revision {} for",
                            db_.file().string(), revision.app_key, revision.app_key, revision.major,
                            revision.number);
    }
    std::optional<Major> major = find_major_locked(revision.app_key, revision.major);
    const int latest = major ? major->latest_revision : 0;
    if (latest != after || revision.number <= after) {
        throw Error::format(ErrorKind::conflict,
                            "{}@{}: revision {} was expected next, but the latest is {} (another "
                            "publish came first)",
                            revision.app_key, revision.major, revision.number, latest);
    }
    const std::string now = now_rfc3339();
    SqliteStatement m(db_,
                      "INSERT INTO majors (app_key, major, latest_revision, created_at, "
                      "updated_at) VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (app_key, major) DO "
                      "UPDATE SET latest_revision = excluded.latest_revision, updated_at = "
                      "excluded.updated_at");
    m.bind_all(revision.app_key, revision.major, revision.number, now);
    m.run();
    SqliteStatement r(db_,
                      "INSERT INTO revisions (app_key, major, number, notes, created_at) VALUES "
                      "(?1, ?2, ?3, ?4, ?5)");
    r.bind_all(revision.app_key, revision.major, revision.number, revision.notes, now);
    r.run();
    for (const RevisionComponent& component : revision.components) {
        SqliteStatement c(db_,
                          "INSERT INTO revision_components (app_key, major, number, name, "
                          "version, content_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        c.bind_all(revision.app_key, revision.major, revision.number, component.name,
                   component.version, component.content_sha256);
        c.run();
    }
    for (const RepositoryFile& file : revision.files) {
        SqliteStatement f(db_,
                          "INSERT INTO revision_files (app_key, major, number, path, sha256, "
                          "size) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        f.bind_all(revision.app_key, revision.major, revision.number, file.path, file.sha256,
                   static_cast<std::int64_t>(file.size));
        f.run();
    }
    transaction.commit();
}

Token SqliteCatalog::read_token(SqliteStatement& s) {
    Token token;
    token.id = s.text(0);
    return decode(fmt::format("token \"{}\"", token.id), [&] {
        token.secret_hash = s.text(1);
        token.role = parse_token_role(s.text(2));
        token.description = s.text(3);
        token.created_at = s.text(4);
        token.last_used_at = s.text(5);
        return token;
    });
}

void SqliteCatalog::add_token(const Token& token) {
    std::lock_guard lock(mutex_);
    SqliteTransaction transaction(db_);
    SqliteStatement s(
        db_, fmt::format("INSERT INTO tokens ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", token_columns));
    // A given created_at is kept (a token carried over from elsewhere keeps its date).
    s.bind_all(token.id, token.secret_hash, to_string(token.role), token.description,
               token.created_at.empty() ? now_rfc3339() : token.created_at, token.last_used_at);
    s.run();
    transaction.commit();
}

std::optional<Token> SqliteCatalog::find_token_by_hash(std::string_view secret_hash) {
    std::lock_guard lock(mutex_);
    SqliteStatement s(db_,
                      fmt::format("SELECT {} FROM tokens WHERE secret_hash = ?1", token_columns));
    s.bind_all(secret_hash);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_token(s);
}

std::vector<Token> SqliteCatalog::list_tokens() {
    std::lock_guard lock(mutex_);
    SqliteStatement s(
        db_, fmt::format("SELECT {} FROM tokens ORDER BY created_at, rowid", token_columns));
    std::vector<Token> tokens;
    while (s.step()) {
        tokens.push_back(read_token(s));
    }
    return tokens;
}

bool SqliteCatalog::remove_token(std::string_view id) {
    std::lock_guard lock(mutex_);
    SqliteTransaction transaction(db_);
    SqliteStatement s(db_, "DELETE FROM tokens WHERE id = ?1");
    s.bind_all(id);
    s.run();
    const bool removed = db_.changes() > 0;
    transaction.commit();
    return removed;
}

void SqliteCatalog::record_token_use(std::string_view id) {
    std::lock_guard lock(mutex_);
    SqliteStatement s(db_, "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1");
    s.bind_all(id, now_rfc3339());
    s.run();
}

Job SqliteCatalog::read_job(SqliteStatement& s) {
    Job job;
    job.id = s.text(0);
    return decode(fmt::format("job \"{}\"", job.id), [&] {
        job.kind = s.text(1);
        job.target = s.text(2);
        job.state = parse_job_state(s.text(3));
        job.error = s.text(4);
        job.done = static_cast<std::uint64_t>(s.integer(5));
        job.total = static_cast<std::uint64_t>(s.integer(6));
        job.created_at = s.text(7);
        job.updated_at = s.text(8);
        job.detail = s.text(9);
        return job;
    });
}

void SqliteCatalog::save_job(const Job& job) {
    std::lock_guard lock(mutex_);
    SqliteTransaction transaction(db_);
    SqliteStatement s(
        db_, fmt::format("INSERT INTO jobs ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9) "
                         "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, target = "
                         "excluded.target, state = excluded.state, error = excluded.error, done = "
                         "excluded.done, total = excluded.total, updated_at = "
                         "excluded.updated_at, detail = excluded.detail",
                         job_columns));
    s.bind_all(job.id, job.kind, job.target, to_string(job.state), job.error,
               static_cast<std::int64_t>(job.done), static_cast<std::int64_t>(job.total),
               now_rfc3339(), job.detail);
    s.run();
    transaction.commit();
}

std::optional<Job> SqliteCatalog::find_job_locked(std::string_view id) {
    SqliteStatement s(db_, fmt::format("SELECT {} FROM jobs WHERE id = ?1", job_columns));
    s.bind_all(id);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_job(s);
}

std::optional<Job> SqliteCatalog::find_job(std::string_view id) {
    std::lock_guard lock(mutex_);
    return find_job_locked(id);
}

std::vector<Job> SqliteCatalog::list_jobs(std::size_t limit) {
    std::lock_guard lock(mutex_);
    // rowid breaks ties between jobs created in the same second; an update keeps it.
    SqliteStatement s(
        db_, fmt::format("SELECT {} FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?1",
                         job_columns));
    s.bind_all(to_sql_count(limit));
    std::vector<Job> jobs;
    while (s.step()) {
        jobs.push_back(read_job(s));
    }
    return jobs;
}

}  // namespace

int current_schema_version() {
    return static_cast<int>(sqlite_migrations().size());
}

std::unique_ptr<Catalog> open_sqlite_catalog_at_version(const std::filesystem::path& file,
                                                        int version) {
    if (version < 0 || version > current_schema_version()) {
        throw Error::format("{}: there is no schema version {} (this ferry knows 0 to {})",
                            file.string(), version, current_schema_version());
    }
    auto catalog = std::make_unique<SqliteCatalog>(file);
    catalog->prepare(version);
    return catalog;
}

std::unique_ptr<Catalog> open_sqlite_catalog(const std::filesystem::path& file) {
    return open_sqlite_catalog_at_version(file, current_schema_version());
}

}  // namespace ferry::market
