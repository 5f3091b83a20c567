// The SQLite catalog's schema, as the ordered list of migrations that builds it.
#include "market/sqlite_catalog_internal.hpp"

namespace ferry::market {

namespace {

// Never edit a step once released: files in the field are at some prefix of this list. Add a
// new step instead; its index + 1 is the schema version it produces.
constexpr const char* migrations[] = {
    // 1: apps with their majors, revisions and the components of each revision.
    R"sql(
CREATE TABLE apps (
    key TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    publisher TEXT NOT NULL,
    icon TEXT NOT NULL,
    official INTEGER NOT NULL,
    source TEXT NOT NULL,
    upstream_url TEXT NOT NULL,
    export_formats TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX apps_by_kind ON apps (kind, key);
CREATE TABLE majors (
    app_key TEXT NOT NULL REFERENCES apps (key),
    major TEXT NOT NULL,
    latest_revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (app_key, major)
);
CREATE TABLE revisions (
    app_key TEXT NOT NULL,
    major TEXT NOT NULL,
    number INTEGER NOT NULL,
    notes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (app_key, major, number),
    FOREIGN KEY (app_key, major) REFERENCES majors (app_key, major)
);
CREATE TABLE revision_components (
    app_key TEXT NOT NULL,
    major TEXT NOT NULL,
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    PRIMARY KEY (app_key, major, number, name),
    FOREIGN KEY (app_key, major, number) REFERENCES revisions (app_key, major, number)
);
)sql",
    // 2: API tokens and jobs, for the server.
    R"sql(
CREATE TABLE tokens (
    id TEXT PRIMARY KEY NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT NOT NULL,
    done INTEGER NOT NULL,
    total INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX jobs_by_creation ON jobs (created_at);
)sql",
    // 3: the files of each revision, for pulls from another market.
    R"sql(
CREATE TABLE revision_files (
    app_key TEXT NOT NULL,
    major TEXT NOT NULL,
    number INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (app_key, major, number, path),
    FOREIGN KEY (app_key, major, number) REFERENCES revisions (app_key, major, number)
);
)sql",
    // 4: when each token was last used, for `ferry token list`.
    R"sql(
ALTER TABLE tokens ADD COLUMN last_used_at TEXT NOT NULL DEFAULT '';
)sql",
    // 5: what a job made or met beyond its state (an export's file, a batch's files), as JSON.
    R"sql(
ALTER TABLE jobs ADD COLUMN detail TEXT NOT NULL DEFAULT '';
)sql",
};

}  // namespace

std::span<const char* const> sqlite_migrations() {
    return migrations;
}

}  // namespace ferry::market
