// Publishing into a market: the files of a repository built by `ferry publish` (or pulled from
// an upstream market) become a new revision of an app's major version. Every file is checked
// against its SHA-256 and size before the revision becomes visible; Updates.xml is written
// last and atomically; the previous revision's files stay for one more revision.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "formats/updates_xml.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"

namespace ferry::market {

struct PublishRequest {
    App app;  // key, kind, name, description, publisher, ...; created when new, else updated
    std::string major;
    std::string updates_xml;            // the repository's index
    std::vector<RepositoryFile> files;  // every file the index references
    std::string notes;
    // 0: the next revision. Else the revision to record (an import keeps its source's numbers):
    // it must be above the latest, unless the content is the latest's (then nothing changes).
    int number = 0;
};

struct PublishResult {
    bool unchanged = false;            // nothing differs from the latest revision: no new revision
    Revision revision;                 // the new revision, or the latest one when unchanged
    std::vector<std::string> changed;  // components new or changed in this revision
    std::vector<std::string> unchanged_components;
};

// The digest that decides whether a component changed between revisions: its description as
// the index carries it (without Version and ReleaseDate) and the SHA-256 of each of its files
// (named without the version prefix). files maps repository paths to SHA-256s.
std::string component_digest(const formats::PackageUpdate& package, bool checksum,
                             const std::map<std::string, std::string>& files);

// The components of a revision as the catalog records them (sorted by name, each with its
// component_digest), from its index and its files.
std::vector<RevisionComponent> revision_components(const formats::RepositoryIndex& index,
                                                   const std::vector<RepositoryFile>& files);

// A repository directory as `ferry repogen` wrote it, ready to publish: its Updates.xml and
// the SHA-256 and size of every file the index references (files of earlier versions that the
// index retains are left out: the market keeps its own).
struct RepositoryFiles {
    std::string updates_xml;
    std::vector<RepositoryFile> files;  // sorted by path
};
RepositoryFiles read_repository_files(const fs::path& dir);

// Copies a local file into the blob store through a BlobWriter (checked like an upload).
void store_blob(const DataDir& data, const fs::path& file, const RepositoryFile& announced);

// Stores the files of the repository directory dir that the market lacks (each checked like an
// upload, each SHA-256 once); how many it stored.
std::size_t store_missing_blobs(const DataDir& data, const fs::path& dir,
                                const std::vector<RepositoryFile>& files);

// The blobs of files the market does not have yet (each SHA-256 once, in request order).
std::vector<std::string> missing_blobs(const DataDir& data,
                                       const std::vector<RepositoryFile>& files);

class Publisher {
  public:
    Publisher(const DataDir& data, Catalog& catalog) : data_(data), catalog_(catalog) {}

    // Publishes a revision. Refuses (ferry::Error) an invalid key or major (market/names.hpp), a
    // malformed index, a path leaving the repository, a file the index needs that is not
    // announced, an index whose recorded size or SHA-256 of a file is not the announced blob's,
    // and a revision a client could not resolve (a missing or too old dependency, a cycle:
    // client::check_resolvable) as invalid input; a file not in the blob store with that size and a
    // component whose content changed while its version did not grow, naming them, as a
    // conflict. Publishes of one app are serialised; a revision committed by another server
    // meanwhile is a conflict too.
    PublishResult publish(const PublishRequest& request);

    // After a crash between writing a repository's Updates.xml and recording its revision:
    // records every revision the repositories show but the catalog lacks. Returns how many.
    int reconcile();

  private:
    std::mutex& lock_for(const std::string& app_key);

    const DataDir& data_;
    Catalog& catalog_;
    std::mutex locks_mutex_;
    std::map<std::string, std::mutex> locks_;
};

}  // namespace ferry::market
