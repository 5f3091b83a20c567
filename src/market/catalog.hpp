// The market's catalog behind one narrow interface: apps and plugins, their major versions and
// revisions (with the component versions of each), API tokens and jobs. SQLite is the embedded
// default; a PostgreSQL backend implements the same interface so that several stateless
// servers can share one catalog. Repository files live beside it in the data directory, never
// in the catalog.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace ferry::market {

// A market item. Apps and plugins are published, synced, exported and imported the same way and
// listed apart (a plugin is an add-on installed into an existing installation of another app).
struct App {
    enum class Kind { app, plugin };
    enum class Source { published, upstream, imported };
    std::string key;  // [a-z0-9][a-z0-9._-]*, at most 128 characters
    Kind kind = Kind::app;
    std::string name;
    std::string description;
    std::string publisher;
    std::string icon;  // URL or data: URI; empty when none
    bool official = false;
    Source source = Source::published;
    std::string upstream_url;  // for Source::upstream: the market it was pulled from
    // Export formats the publisher allows ("rainbond-app", "docker-compose", "bundle", ...).
    std::vector<std::string> export_formats;
    std::string created_at;  // RFC 3339, UTC; set by the catalog
    std::string updated_at;  // RFC 3339, UTC; set by the catalog
    bool operator==(const App&) const = default;
};

// One component of a revision as the catalog lists it (the repository holds the rest).
struct RevisionComponent {
    std::string name;
    std::string version;
    // SHA-256 over the component's archives and metadata as published; equal digests mean an
    // unchanged component.
    std::string content_sha256;
    bool operator==(const RevisionComponent&) const = default;
};

// A file of a revision's repository: what a publisher announces and a puller fetches.
struct RepositoryFile {
    std::string path;  // repository-relative, '/'-separated
    std::string sha256;
    std::uint64_t size = 0;
    bool operator==(const RepositoryFile&) const = default;
};

// A revision of a major version: the seed's minor version, +1 on every re-publish.
struct Revision {
    std::string app_key;
    std::string major;
    int number = 0;  // 1 for the first publish of a major
    std::string notes;
    std::string created_at;
    std::vector<RevisionComponent> components;  // sorted by name
    std::vector<RepositoryFile> files;          // every file its Updates.xml needs, by path
    bool operator==(const Revision&) const = default;
};

// A major version with its latest revision number. Majors are history: each stays installable.
struct Major {
    std::string app_key;
    std::string major;
    int latest_revision = 0;
    std::string created_at;
    std::string updated_at;
    bool operator==(const Major&) const = default;
};

struct Token {
    enum class Role { publish, admin };
    std::string id;           // short public identifier, shown in listings
    std::string secret_hash;  // SHA-256 (hex) of the secret; the secret itself is never stored
    Role role = Role::publish;
    std::string description;
    std::string created_at;
    // RFC 3339, UTC, to the minute at best (recorded at most once a minute); empty: never used.
    std::string last_used_at;
    bool operator==(const Token&) const = default;
};

// Long work (an upstream pull, an export, an import batch) with status and progress, visible
// through the API.
struct Job {
    enum class State { queued, running, success, failed };
    std::string id;
    std::string kind;    // "pull", "export", "import"
    std::string target;  // what it works on, e.g. "com.acme.app@2"
    State state = State::queued;
    std::string error;  // for failed: the reason
    std::uint64_t done = 0;
    std::uint64_t total = 0;
    std::string created_at;
    std::string updated_at;
    std::string detail;  // JSON: what the job made or met (an export's file, a batch's files)
    bool operator==(const Job&) const = default;
};

struct AppQuery {
    std::optional<App::Kind> kind;
    std::string search;  // substring of key, name or description (case-insensitive); empty: all
    std::size_t offset = 0;
    std::size_t limit = 100;
};

class Catalog {
  public:
    virtual ~Catalog() = default;

    // The schema version this catalog is at (after migrations).
    virtual int schema_version() = 0;
    // A number that changes whenever the catalog's content changes, by this process or another;
    // answers computed from the catalog stay right while it stays the same.
    virtual std::uint64_t generation() = 0;

    // Apps. save_app inserts or updates by key; created_at/updated_at are kept/set by it.
    virtual std::vector<App> list_apps(const AppQuery& query) = 0;
    virtual std::size_t count_apps(const AppQuery& query) = 0;
    virtual std::optional<App> find_app(std::string_view key) = 0;
    virtual App save_app(const App& app) = 0;

    // Majors and revisions.
    virtual std::vector<Major> list_majors(std::string_view app_key) = 0;  // oldest first
    virtual std::optional<Major> find_major(std::string_view app_key, std::string_view major) = 0;
    virtual std::optional<Revision> find_revision(std::string_view app_key, std::string_view major,
                                                  int number) = 0;
    // Records revision.number as the major's new latest revision, atomically, only if the
    // major's latest revision is still `after` (0 for a new major: the major is created) and
    // revision.number is above it; otherwise (a commit that lost a race) throws a ferry::Error of
    // kind conflict naming the app, the major and both numbers. The app must exist. A publish
    // commits after number - 1; an import keeps its source's numbering, which may leave a gap.
    virtual void commit_revision(const Revision& revision, int after) = 0;
    void commit_revision(const Revision& revision) {
        commit_revision(revision, revision.number - 1);
    }

    // Tokens.
    virtual void add_token(const Token& token) = 0;
    virtual std::optional<Token> find_token_by_hash(std::string_view secret_hash) = 0;
    virtual std::vector<Token> list_tokens() = 0;            // oldest first
    virtual bool remove_token(std::string_view id) = 0;      // false when there was none
    virtual void record_token_use(std::string_view id) = 0;  // last_used_at = now

    // Jobs.
    virtual void save_job(const Job& job) = 0;  // insert or update by id; sets the timestamps
    virtual std::optional<Job> find_job(std::string_view id) = 0;
    virtual std::vector<Job> list_jobs(std::size_t limit) = 0;  // newest first
};

// The SQLite catalog in file (created when missing), in WAL mode, migrated to this ferry's
// schema. A file written by a newer ferry (a higher schema version) is refused with an error
// that names the file and both versions.
std::unique_ptr<Catalog> open_sqlite_catalog(const std::filesystem::path& file);

// The schema version this build of ferry writes.
int current_schema_version();

// "2026-11-21T08:30:00Z".
std::string to_rfc3339(std::chrono::system_clock::time_point time);

std::string_view to_string(App::Kind kind);
std::string_view to_string(App::Source source);
std::string_view to_string(Token::Role role);
std::string_view to_string(Job::State state);
// Parsers of the same names; throw ferry::Error naming the text.
App::Kind parse_app_kind(std::string_view text);
App::Source parse_app_source(std::string_view text);
Token::Role parse_token_role(std::string_view text);
Job::State parse_job_state(std::string_view text);

// Whether text is a valid app key / major version string (the rule and its reasons:
// market/names.hpp).
bool is_valid_key(std::string_view text);

}  // namespace ferry::market
