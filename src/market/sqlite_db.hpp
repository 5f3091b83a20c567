// A thin RAII layer over the SQLite3 C API for the catalog: one connection, prepared statements
// with bound parameters, and IMMEDIATE transactions. Every SQLite failure becomes a ferry::Error
// that names the database file and carries sqlite3_errmsg.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace ferry::market {

class SqliteDb;

// A prepared statement; parameters are 1-based, columns 0-based (as in SQLite).
class SqliteStatement {
  public:
    SqliteStatement(SqliteDb& db, std::string_view sql);
    ~SqliteStatement();
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    SqliteStatement& bind(int index, std::string_view text);
    SqliteStatement& bind(int index, const char* text) {
        return bind(index, std::string_view(text));
    }
    SqliteStatement& bind(int index, std::int64_t value);
    SqliteStatement& bind(int index, int value) { return bind(index, std::int64_t{value}); }
    SqliteStatement& bind(int index, bool value) {
        return bind(index, std::int64_t{value ? 1 : 0});
    }
    SqliteStatement& bind_null(int index);
    template <typename T>
    SqliteStatement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    // Binds the arguments to parameters 1, 2, ... in order.
    template <typename... Args>
    SqliteStatement& bind_all(const Args&... args) {
        int index = 0;
        (bind(++index, args), ...);
        return *this;
    }

    // Advances; true while there is a row to read.
    bool step();
    // Runs a statement that returns no rows (or whose rows do not matter).
    void run();
    // Back to before the first step, for a statement that is kept and run again.
    void reset();

    std::string text(int column);
    std::int64_t integer(int column);
    bool is_null(int column);

  private:
    SqliteDb& db_;
    sqlite3_stmt* statement_ = nullptr;
};

// One connection to a database file.
class SqliteDb {
  public:
    // Opens (creating when missing) file with foreign keys on and a busy timeout, so that other
    // connections holding the write lock are waited for rather than failed.
    SqliteDb(const std::filesystem::path& file, int busy_timeout_ms);
    ~SqliteDb();
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;

    const std::filesystem::path& file() const { return file_; }
    sqlite3* handle() { return db_; }

    // Runs SQL without parameters (pragmas, migration scripts; may hold several statements).
    void exec(std::string_view sql, std::string_view doing);

    // Rows changed by the last INSERT, UPDATE or DELETE.
    int changes();
    // Rows changed through this connection since it was opened.
    std::int64_t total_changes();

    // Throws the error of the last failed call: "<file>: <doing>: <sqlite3_errmsg>".
    [[noreturn]] void fail(std::string_view doing);

  private:
    std::filesystem::path file_;
    sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE on construction: the write lock is taken up front, so that a transaction that
// reads then writes never has to upgrade its lock (which WAL mode cannot wait for). Rolled back
// when destroyed uncommitted (an exception left the transaction).
class SqliteTransaction {
  public:
    explicit SqliteTransaction(SqliteDb& db);
    ~SqliteTransaction();
    SqliteTransaction(const SqliteTransaction&) = delete;
    SqliteTransaction& operator=(const SqliteTransaction&) = delete;

    void commit();

  private:
    SqliteDb& db_;
    bool open_ = true;
};

}  // namespace ferry::market
