// The SQLite3 C API behind RAII objects, with errors that name the database file.
#include "market/sqlite_db.hpp"

#include <sqlite3.h>

#include "core/error.hpp"

namespace ferry::market {

SqliteDb::SqliteDb(const std::filesystem::path& file, int busy_timeout_ms) : file_(file) {
    // NOMUTEX: the catalog serializes the use of a connection itself.
    int rc =
        sqlite3_open_v2(file.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error::format(ErrorKind::storage, "{}: cannot open the catalog: {}", file_.string(),
                            message);
    }
    try {
        if (sqlite3_busy_timeout(db_, busy_timeout_ms) != SQLITE_OK) {
            fail("cannot set the busy timeout");
        }
        exec("PRAGMA foreign_keys = ON", "cannot enable foreign keys");
    } catch (...) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

SqliteDb::~SqliteDb() {
    // Statements are finalized before (their owners go first), so close cannot be refused.
    sqlite3_close(db_);
}

void SqliteDb::exec(std::string_view sql, std::string_view doing) {
    std::string text(sql);
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
        fail(doing);
    }
}

int SqliteDb::changes() {
    return sqlite3_changes(db_);
}

std::int64_t SqliteDb::total_changes() {
    return sqlite3_total_changes64(db_);
}

namespace {

// A constraint is a clash with a stored row; a statement SQLite cannot run is ferry's bug;
// everything else (busy, full, read-only, I/O, corrupt) is the storage failing.
ErrorKind kind_of(int code) {
    switch (code & 0xff) {
        case SQLITE_CONSTRAINT:
            return ErrorKind::conflict;
        case SQLITE_ERROR:
        case SQLITE_MISUSE:
        case SQLITE_RANGE:
            return ErrorKind::internal;
        default:
            return ErrorKind::storage;
    }
}

}  // namespace

void SqliteDb::fail(std::string_view doing) {
    throw Error::format(kind_of(sqlite3_extended_errcode(db_)), "{}: {}: {}", file_.string(), doing,
                        sqlite3_errmsg(db_));
}

SqliteStatement::SqliteStatement(SqliteDb& db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &statement_,
                           nullptr) != SQLITE_OK) {
        db_.fail(fmt::format("cannot prepare \"{}\"", sql));
    }
}

SqliteStatement::~SqliteStatement() {
    sqlite3_finalize(statement_);
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view text) {
    if (sqlite3_bind_text64(statement_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                            SQLITE_UTF8) != SQLITE_OK) {
        db_.fail("cannot bind a parameter");
    }
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(statement_, index, value) != SQLITE_OK) {
        db_.fail("cannot bind a parameter");
    }
    return *this;
}

SqliteStatement& SqliteStatement::bind_null(int index) {
    if (sqlite3_bind_null(statement_, index) != SQLITE_OK) {
        db_.fail("cannot bind a parameter");
    }
    return *this;
}

bool SqliteStatement::step() {
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    db_.fail(fmt::format("cannot run \"{}\"", sqlite3_sql(statement_)));
}

void SqliteStatement::run() {
    while (step()) {
    }
}

void SqliteStatement::reset() {
    sqlite3_reset(statement_);
}

std::string SqliteStatement::text(int column) {
    const auto* data = sqlite3_column_text(statement_, column);
    int size = sqlite3_column_bytes(statement_, column);
    return data ? std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size))
                : std::string();
}

std::int64_t SqliteStatement::integer(int column) {
    return sqlite3_column_int64(statement_, column);
}

bool SqliteStatement::is_null(int column) {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

SqliteTransaction::SqliteTransaction(SqliteDb& db) : db_(db) {
    db_.exec("BEGIN IMMEDIATE", "cannot begin a transaction");
}

SqliteTransaction::~SqliteTransaction() {
    if (open_) {
        // Already failing: a rollback error would only hide the first one.
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void SqliteTransaction::commit() {
    db_.exec("COMMIT", "cannot commit a transaction");
    open_ = false;
}

}  // namespace ferry::market
