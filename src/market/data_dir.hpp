// A market's data directory: the catalog, the blob store (every published file once, named by
// its SHA-256) and the repositories served as plain static files, so that any web server or CDN
// can serve repo/ too.
//
//   <data>/catalog.db                    the SQLite catalog (market/catalog.hpp)
//   <data>/serve.lock                    held by the running `ferry serve` (ServeLock)
//   <data>/blobs/sha256/<ab>/<sha256>    published files, content-addressed
//   <data>/uploads/                      uploads in progress (never served)
//   <data>/repo/<app-key>/<major>/       one IFW repository per major version: hard links to
//                                        blobs, Updates.xml written last
//   <data>/exports/<format>/             exported files, for download (market/bundle_jobs.hpp)
//   <data>/import/                       files to import (market/import_folder.hpp)
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/file_descriptor.hpp"
#include "core/hash.hpp"

namespace ferry::market {

namespace fs = std::filesystem;

class DataDir {
  public:
    // Creates the layout below root when missing.
    explicit DataDir(fs::path root);

    const fs::path& root() const { return root_; }
    fs::path catalog_file() const { return root_ / "catalog.db"; }
    fs::path repositories() const { return root_ / "repo"; }
    fs::path repository(std::string_view app_key, std::string_view major) const;
    fs::path uploads() const { return root_ / "uploads"; }
    fs::path exports() const { return root_ / "exports"; }
    fs::path import_folder() const { return root_ / "import"; }
    // Where the blob with that SH-256 (lowercase hex) lives; it may not exist.
    fs::path blob(std::string_view sha256) const;
    // Whether the store has that blob with that size.
    bool has_blob(std::string_view sha256, std::uint64_t size) const;
    // Removes uploads that a stopped or killed server left half-written; the .part files of
    // pulls stay, so that the next pull resumes them. For a server starting up.
    void remove_stale_uploads() const;

  private:
    fs::path root_;
};

// Held by the one `ferry serve` that may run on a data directory: an flock on <data>/serve.lock
// (released by the kernel when the process dies, so a killed server leaves no stale lock), with
// the holder's pid in the file for the message of the next one. Several servers will share a
// catalog through PostgreSQL, never through one SQLite file.
class ServeLock {
  public:
    // Takes the lock, or throws an error (conflict) naming the directory and the holder's pid.
    explicit ServeLock(const DataDir& data);

  private:
    core::FileDescriptor fd_;
};

// Streams one upload into the blob store: nothing is visible under blobs/ until finish() has
// checked the size and the SHA-256 against what the uploader announced; a writer destroyed
// before that removes its temporary file.
class BlobWriter {
  public:
    BlobWriter(const DataDir& data, std::string sha256, std::uint64_t size);
    ~BlobWriter();
    BlobWriter(const BlobWriter&) = delete;
    BlobWriter& operator=(const BlobWriter&) = delete;

    // Refuses data beyond the announced size (ferry::Error).
    void write(const char* data, std::size_t size);
    // Checks and moves the blob into place; an error names the blob and what did not match.
    void finish();

  private:
    const DataDir& data_;
    std::string sha256_;
    std::uint64_t expected_size_;
    std::uint64_t written_ = 0;
    std::uint64_t written_back_ = 0;  // the bytes whose write-back to disk has been started
    fs::path temporary_;
    core::FileDescriptor fd_;
    core::Hasher hasher_;
    bool finished_ = false;
};

// Moves a downloaded file into the blob store once its size and SHA-256 are the expected ones;
// otherwise removes it and throws an error naming it and what did not match.
void adopt_blob(const DataDir& data, const fs::path& file, std::string_view sha256,
                std::uint64_t size);

// Whether text is a SHA-256 as the store names blobs: 64 lowercase hex digits.
bool is_blob_name(std::string_view text);

}  // namespace ferry::market
