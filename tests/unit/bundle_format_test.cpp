// ferry's offline bundle format (bundle/ferry_bundle.hpp) and its import into a market's data
// directory (market/bundles.hpp): a round trip that carries a shared file once, differential
// bundles, an export that refuses a file that is not what its revision says, every kind of
// damaged or hostile bundle a reader must refuse, and imports into a real data directory.
#include "bundle/ferry_bundle.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "archive/archive.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "formats/updates_xml.hpp"
#include "market/bundles.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/publisher.hpp"
#include "repo/generator.hpp"
#include "support/test_support.hpp"

namespace ferry::bundle {
namespace {

using core::ScratchDir;
using testing::error_of;
using ::testing::HasSubstr;
using testing::random_bytes;
using testing::read_text;
using testing::write_text;

constexpr const char* kCreatedAt = "2026-03-04T05:06:07Z";
constexpr const char* kSourceMarket = "https://market.example";

std::string blob_entry(const std::string& sha256) {
    return "blobs/sha256/" + sha256;
}

BundleBlob blob_of(const std::string& content) {
    return {core::sha256_hex(content), content.size()};
}

// One entry of a tar as a reader sees it.
struct Entry {
    enum class Kind { file, directory, symlink, hardlink };
    std::string name;
    std::string data;  // a file's content; a link's target
    Kind kind = Kind::file;
};

std::vector<std::string> names_of(const std::vector<Entry>& entries) {
    std::vector<std::string> names;
    for (const Entry& entry : entries) {
        names.push_back(entry.name);
    }
    return names;
}

// Every entry of a tar, in order, with the content of its regular files.
std::vector<Entry> entries_of(const fs::path& tar) {
    std::unique_ptr<struct archive, decltype(&archive_read_free)> reader(archive_read_new(),
                                                                         &archive_read_free);
    archive_read_support_format_tar(reader.get());
    std::vector<Entry> entries;
    if (archive_read_open_filename(reader.get(), tar.c_str(), 10240) != ARCHIVE_OK) {
        ADD_FAILURE() << tar << ": " << archive_error_string(reader.get());
        return entries;
    }
    struct archive_entry* e = nullptr;
    int status = ARCHIVE_OK;
    while ((status = archive_read_next_header(reader.get(), &e)) == ARCHIVE_OK) {
        Entry entry;
        entry.name = archive_entry_pathname(e);
        if (archive_entry_hardlink(e) != nullptr) {
            entry.kind = Entry::Kind::hardlink;
            entry.data = archive_entry_hardlink(e);
        } else if (archive_entry_filetype(e) == AE_IFLNK) {
            entry.kind = Entry::Kind::symlink;
            entry.data = archive_entry_symlink(e);
        } else if (archive_entry_filetype(e) == AE_IFDIR) {
            entry.kind = Entry::Kind::directory;
        } else {
            EXPECT_EQ(archive_entry_filetype(e), AE_IFREG) << entry.name;
            char buffer[65536];
            for (la_ssize_t n; (n = archive_read_data(reader.get(), buffer, sizeof buffer)) > 0;) {
                entry.data.append(buffer, static_cast<std::size_t>(n));
            }
        }
        entries.push_back(std::move(entry));
    }
    EXPECT_EQ(status, ARCHIVE_EOF) << tar << ": " << archive_error_string(reader.get());
    return entries;
}

// A tar of regular files in the given order, written the way write_bundle writes a bundle.
void write_tar(const fs::path& out, const std::vector<Entry>& entries) {
    std::vector<archive::ArchiveInput> inputs;
    for (const Entry& entry : entries) {
        auto& input = inputs.emplace_back();
        input.entry_name = entry.name;
        input.size = entry.data.size();
        input.produce = [data = entry.data](const core::ByteSink& sink) {
            sink(data.data(), data.size());
        };
    }
    archive::WriteOptions options;
    options.format = archive::ArchiveFormat::tar;
    options.level = 0;
    options.keep_order = true;
    archive::write_archive(out, std::move(inputs), options);
}

// An archive of another kind holding one metadata.json (a Rainbond package, say).
void write_tar_like(const fs::path& out, const std::string& metadata,
                    const archive::WriteOptions& options) {
    std::vector<archive::ArchiveInput> inputs(1);
    inputs[0].entry_name = "metadata.json";
    inputs[0].size = metadata.size();
    inputs[0].produce = [&](const core::ByteSink& sink) { sink(metadata.data(), metadata.size()); };
    archive::write_archive(out, std::move(inputs), options);
}

// A tar written with libarchive directly: any name, links and directories (what write_archive
// refuses to make).
void craft_tar(const fs::path& out, const std::vector<Entry>& entries) {
    std::unique_ptr<struct archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                          &archive_write_free);
    struct archive* a = writer.get();
    archive_write_set_format_pax_restricted(a);
    ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK) << archive_error_string(a);
    for (const Entry& spec : entries) {
        std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(
            archive_entry_new(), &archive_entry_free);
        struct archive_entry* e = entry.get();
        archive_entry_set_pathname(e, spec.name.c_str());
        archive_entry_set_mtime(e, 1700000000, 0);
        switch (spec.kind) {
            case Entry::Kind::file:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, static_cast<la_int64_t>(spec.data.size()));
                break;
            case Entry::Kind::directory:
                archive_entry_set_filetype(e, AE_IFDIR);
                archive_entry_set_perm(e, 0755);
                break;
            case Entry::Kind::symlink:
                archive_entry_set_filetype(e, AE_IFLNK);
                archive_entry_set_perm(e, 0777);
                archive_entry_set_symlink(e, spec.data.c_str());
                break;
            case Entry::Kind::hardlink:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_hardlink(e, spec.data.c_str());
                break;
        }
        ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK)
            << spec.name << ": " << archive_error_string(a);
        if (spec.kind == Entry::Kind::file && !spec.data.empty()) {
            ASSERT_EQ(archive_write_data(a, spec.data.data(), spec.data.size()),
                      static_cast<la_ssize_t>(spec.data.size()));
        }
    }
    ASSERT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
}

// Collects what read_bundle hands over: the manifest, and each blob's bytes once its sink has
// been finished (that is, once the reader has checked them).
class Collector final : public BundleVisitor {
  public:
    std::optional<BundleManifest> manifest_seen;
    std::vector<std::string> asked;                 // the blobs asked for, in order
    std::map<std::string, std::string> finished;    // SHA-256 -> bytes, after finish()
    std::map<std::string, std::string> unfinished;  // bytes of sinks never finished
    std::set<std::string> skip;                     // blobs to answer with no sink

    void manifest(const BundleManifest& manifest) override { manifest_seen = manifest; }

    std::unique_ptr<BlobSink> blob(const BundleBlob& blob) override {
        asked.push_back(blob.sha256);
        if (skip.contains(blob.sha256)) {
            return nullptr;
        }
        return std::make_unique<Sink>(*this, blob.sha256);
    }

  private:
    class Sink final : public BlobSink {
      public:
        Sink(Collector& owner, std::string sha256) : owner_(owner), sha256_(std::move(sha256)) {}
        ~Sink() override {
            if (!done_) {
                owner_.unfinished[sha256_] = bytes_;
            }
        }
        void write(const char* data, std::size_t size) override { bytes_.append(data, size); }
        void finish() override {
            done_ = true;
            owner_.finished[sha256_] = bytes_;
        }

      private:
        Collector& owner_;
        std::string sha256_;
        std::string bytes_;
        bool done_ = false;
    };
};

// The ferry::Error fn throws (a test failure when it throws none).
std::optional<Error> error_from(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "expected a ferry::Error";
    return std::nullopt;
}

// Every regular file below root, relative.
std::vector<std::string> files_below(const fs::path& root) {
    std::vector<std::string> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_directory()) {
            files.push_back(it->path().lexically_relative(root).generic_string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

void expect_same_app(const BundleApp& actual, const BundleApp& expected) {
    EXPECT_EQ(actual.app.key, expected.app.key);
    EXPECT_EQ(actual.app.kind, expected.app.kind);
    EXPECT_EQ(actual.app.name, expected.app.name);
    EXPECT_EQ(actual.app.description, expected.app.description);
    EXPECT_EQ(actual.app.publisher, expected.app.publisher);
    EXPECT_EQ(actual.app.icon, expected.app.icon);
    EXPECT_EQ(actual.app.official, expected.app.official);
    EXPECT_EQ(actual.app.export_formats, expected.app.export_formats);
    EXPECT_EQ(actual.major, expected.major);
    EXPECT_EQ(actual.revision, expected.revision);
    EXPECT_EQ(actual.notes, expected.notes);
    EXPECT_EQ(actual.components, expected.components);
    EXPECT_EQ(actual.updates_xml, expected.updates_xml);
    EXPECT_EQ(actual.files, expected.files);
}

// A market's data directory with its catalog and publisher.
struct Market {
    explicit Market(const fs::path& root)
        : data(root),
          catalog(market::open_sqlite_catalog(data.catalog_file())),
          publisher(data, *catalog) {}

    // What an import that failed must not have left: a stored blob, an upload, an app.
    void expect_untouched(const std::vector<std::string>& keys) const {
        EXPECT_THAT(files_below(data.root() / "blobs"), ::testing::IsEmpty());
        EXPECT_THAT(files_below(data.uploads()), ::testing::IsEmpty());
        EXPECT_THAT(files_below(data.repositories()), ::testing::IsEmpty());
        for (const std::string& key : keys) {
            EXPECT_EQ(catalog->find_app(key), std::nullopt) << key;
        }
    }

    market::DataDir data;
    std::unique_ptr<market::Catalog> catalog;
    market::Publisher publisher;
};

class BundleFormat : public ::testing::Test {
  protected:
    // An app version whose files are plain files in a directory of their own.
    BundleSource make_source(const std::string& key, const std::string& major, int revision,
                             const std::string& updates_xml,
                             const std::vector<std::pair<std::string, std::string>>& files) {
        const fs::path dir = scratch_.path() / "repos" / key / major;
        BundleSource source;
        source.app.app.key = key;
        source.app.app.name = "App " + key;
        source.app.app.description = "what " + key + " does";
        source.app.app.publisher = "Acme";
        source.app.app.export_formats = {"bundle"};
        source.app.major = major;
        source.app.revision = revision;
        source.app.notes = "notes of " + key;
        source.app.components = {
            {key + ".core", "1.0." + std::to_string(revision), core::sha256_hex(key)}};
        for (const auto& [path, content] : files) {
            write_text(dir / path, content);
            const core::FileDigest digest = core::digest_file(dir / path);
            source.app.files.push_back({path, digest.sha256, digest.size});
        }
        source.updates_xml = updates_xml;
        source.file = [dir](const market::RepositoryFile& file) { return dir / file.path; };
        return source;
    }

    // Two app versions that share one file (under another path in each).
    std::vector<BundleSource> two_apps() {
        std::vector<BundleSource> sources;
        sources.push_back(make_source("com.acme.one", "1", 2, kIndexOne,
                                      {{"shared/lib.bin", shared_}, {"one/data.bin", one_data_}}));
        sources.push_back(make_source("com.acme.two", "3", 1, kIndexTwo,
                                      {{"lib/shared.bin", shared_}, {"two/data.bin", two_data_}}));
        sources.back().app.app.kind = market::App::Kind::plugin;
        sources.back().app.app.official = true;
        sources.back().app.app.icon = "https://acme.example/two.png";
        return sources;
    }

    static WriteBundleOptions options(std::set<std::string> have = {}) {
        WriteBundleOptions options;
        options.created_at = kCreatedAt;
        options.source_market = kSourceMarket;
        options.have = std::move(have);
        return options;
    }

    // A valid bundle of two_apps(), written once.
    const fs::path& valid_bundle() {
        if (valid_.empty()) {
            valid_ = scratch_.path() / "valid.bundle.tar";
            write_bundle(valid_, two_apps(), options());
        }
        return valid_;
    }
    // valid_bundle()'s entries, for making bad ones of it.
    std::vector<Entry> valid_entries() { return entries_of(valid_bundle()); }
    nlohmann::json valid_manifest_json() {
        return nlohmann::json::parse(valid_entries().at(0).data);
    }

    fs::path bad_path(const std::string& name) const {
        return scratch_.path() / "bad" / (name + ".bundle.tar");
    }
    // read_bundle's error for a bundle made of entries (written the way ferry writes them).
    std::string read_error(const std::string& name, const std::vector<Entry>& entries) {
        const fs::path file = bad_path(name);
        fs::create_directories(file.parent_path());
        write_tar(file, entries);
        return read_error(file);
    }
    static std::string read_error(const fs::path& file) {
        Collector collector;
        return error_of([&] { read_bundle(file, collector); });
    }

    const std::string kIndexOne = "<Updates><!-- one --></Updates>\n";
    const std::string kIndexTwo = "<Updates><!-- two --></Updates>\n";
    const std::string shared_ = random_bytes(3000, 1);
    const std::string one_data_ = random_bytes(200000, 2);
    const std::string two_data_ = random_bytes(5000, 3);
    ScratchDir scratch_;
    fs::path valid_;
};

TEST_F(BundleFormat, RoundTripCarriesASharedFileOnceAndReadsBackEveryFile) {
    const fs::path out = scratch_.path() / "two.bundle.tar";
    std::uint64_t last_done = 0;
    std::uint64_t last_total = 0;
    WriteBundleOptions write = options();
    write.progress = [&](std::uint64_t done, std::uint64_t total) {
        EXPECT_GE(done, last_done);
        last_done = done;
        last_total = total;
    };
    const std::vector<BundleSource> sources = two_apps();
    const WriteBundleResult result = write_bundle(out, sources, write);
    ASSERT_TRUE(fs::is_regular_file(out));
    EXPECT_EQ(result.bytes, fs::file_size(out));

    const BundleManifest& manifest = result.manifest;
    EXPECT_EQ(manifest.format_version, kBundleFormatVersion);
    EXPECT_EQ(manifest.created_at, kCreatedAt);
    EXPECT_EQ(manifest.source_market, kSourceMarket);
    EXPECT_FALSE(manifest.differential());
    ASSERT_EQ(manifest.apps.size(), 2u);
    EXPECT_EQ(manifest.apps[0].updates_xml, blob_of(kIndexOne));
    EXPECT_EQ(manifest.apps[1].updates_xml, blob_of(kIndexTwo));
    EXPECT_EQ(manifest.apps[0].files, sources[0].app.files);
    EXPECT_EQ(manifest.apps[1].files, sources[1].app.files);
    // Each blob once, in the order the apps first name it: the shared file is not repeated.
    const std::vector<BundleBlob> blobs = {blob_of(kIndexOne), blob_of(shared_), blob_of(one_data_),
                                           blob_of(kIndexTwo), blob_of(two_data_)};
    EXPECT_EQ(manifest.blobs, blobs);
    EXPECT_TRUE(manifest.omitted.empty());
    std::uint64_t carried = 0;
    for (const BundleBlob& blob : blobs) {
        carried += blob.size;
    }
    EXPECT_EQ(last_done, carried);
    EXPECT_EQ(last_total, carried);

    // The tar: the manifest first, then each blob once, all regular files.
    const std::vector<Entry> entries = entries_of(out);
    std::vector<std::string> expected_names = {std::string(kBundleManifestName)};
    for (const BundleBlob& blob : blobs) {
        expected_names.push_back(blob_entry(blob.sha256));
    }
    EXPECT_EQ(names_of(entries), expected_names);
    const std::vector<std::string> names = names_of(entries);
    EXPECT_EQ(std::count(names.begin(), names.end(), blob_entry(core::sha256_hex(shared_))), 1);
    for (const Entry& entry : entries) {
        EXPECT_EQ(entry.kind, Entry::Kind::file) << entry.name;
    }
    EXPECT_EQ(nlohmann::json::parse(entries.at(0).data), manifest_json(manifest));

    // Reading it back hands over the checked manifest and exactly the files' bytes.
    Collector collector;
    read_bundle(out, collector);
    ASSERT_TRUE(collector.manifest_seen.has_value());
    EXPECT_EQ(manifest_json(*collector.manifest_seen), manifest_json(manifest));
    ASSERT_EQ(collector.manifest_seen->apps.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        expect_same_app(collector.manifest_seen->apps[i], manifest.apps[i]);
        EXPECT_EQ(collector.manifest_seen->apps[i].app.source, market::App::Source::imported);
    }
    const std::map<std::string, std::string> bytes = {{core::sha256_hex(kIndexOne), kIndexOne},
                                                      {core::sha256_hex(kIndexTwo), kIndexTwo},
                                                      {core::sha256_hex(shared_), shared_},
                                                      {core::sha256_hex(one_data_), one_data_},
                                                      {core::sha256_hex(two_data_), two_data_}};
    EXPECT_EQ(collector.finished, bytes);
    EXPECT_TRUE(collector.unfinished.empty());
    EXPECT_EQ(collector.asked.size(), blobs.size());

    // A listing reads the same manifest.
    const std::optional<BundleManifest> peeked = peek_manifest(out);
    ASSERT_TRUE(peeked.has_value());
    EXPECT_EQ(manifest_json(*peeked), manifest_json(manifest));
}

TEST_F(BundleFormat, ManifestJsonParsesBackToTheSameManifest) {
    const fs::path out = scratch_.path() / "diff.bundle.tar";
    const BundleManifest manifest =
        write_bundle(out, two_apps(), options({core::sha256_hex(two_data_)})).manifest;
    ASSERT_TRUE(manifest.differential());
    const BundleManifest parsed = parse_manifest(manifest_json(manifest).dump(), "test manifest");
    EXPECT_EQ(parsed.format_version, manifest.format_version);
    EXPECT_EQ(parsed.created_at, kCreatedAt);
    EXPECT_EQ(parsed.source_market, kSourceMarket);
    EXPECT_EQ(parsed.blobs, manifest.blobs);
    EXPECT_EQ(parsed.omitted, manifest.omitted);
    ASSERT_EQ(parsed.apps.size(), manifest.apps.size());
    for (std::size_t i = 0; i < parsed.apps.size(); ++i) {
        expect_same_app(parsed.apps[i], manifest.apps[i]);
    }
    EXPECT_EQ(manifest_json(parsed), manifest_json(manifest));
    // The market-local fields of an app are the importer's: none is carried.
    const nlohmann::json json = manifest_json(manifest);
    for (const auto& app : json.at("apps")) {
        for (const char* local : {"source", "upstream_url", "created_at", "updated_at"}) {
            EXPECT_FALSE(app.at("app").contains(local)) << local;
        }
    }
}

TEST_F(BundleFormat, TheSameInputWritesTheSameBytes) {
    write_bundle(scratch_.path() / "a.tar", two_apps(), options());
    write_bundle(scratch_.path() / "b.tar", two_apps(), options());
    EXPECT_EQ(read_text(scratch_.path() / "a.tar"), read_text(scratch_.path() / "b.tar"));
}

TEST_F(BundleFormat, ADifferentialBundleLeavesOutWhatTheTargetHas) {
    const WriteBundleResult whole =
        write_bundle(scratch_.path() / "whole.bundle.tar", two_apps(), options());
    const std::string left_out = core::sha256_hex(one_data_);
    const fs::path out = scratch_.path() / "diff.bundle.tar";
    const WriteBundleResult diff = write_bundle(out, two_apps(), options({left_out}));

    EXPECT_TRUE(diff.manifest.differential());
    EXPECT_EQ(diff.manifest.omitted, (std::vector<BundleBlob>{blob_of(one_data_)}));
    const std::vector<BundleBlob> carried = {blob_of(kIndexOne), blob_of(shared_),
                                             blob_of(kIndexTwo), blob_of(two_data_)};
    EXPECT_EQ(diff.manifest.blobs, carried);
    // The app still lists the file: the target has it.
    EXPECT_EQ(diff.manifest.apps.at(0).files, whole.manifest.apps.at(0).files);
    EXPECT_EQ(diff.bytes, fs::file_size(out));
    EXPECT_LT(diff.bytes, whole.bytes);
    // Smaller by about the file (a tar is padded to records of 10,240 bytes).
    EXPECT_GE(whole.bytes - diff.bytes, one_data_.size() - 10240);

    std::vector<std::string> names = names_of(entries_of(out));
    EXPECT_EQ(std::count(names.begin(), names.end(), blob_entry(left_out)), 0);
    EXPECT_EQ(names.size(), carried.size() + 1);

    Collector collector;
    read_bundle(out, collector);
    ASSERT_TRUE(collector.manifest_seen.has_value());
    EXPECT_TRUE(collector.manifest_seen->differential());
    EXPECT_EQ(collector.manifest_seen->omitted, diff.manifest.omitted);
    EXPECT_EQ(std::count(collector.asked.begin(), collector.asked.end(), left_out), 0);
    EXPECT_EQ(collector.finished.size(), carried.size());
    EXPECT_FALSE(collector.finished.contains(left_out));
}

TEST_F(BundleFormat, ASkippedBlobIsReadPastAndTheRestStillArrives) {
    Collector collector;
    collector.skip = {core::sha256_hex(one_data_)};
    read_bundle(valid_bundle(), collector);
    EXPECT_EQ(collector.asked.size(), 5u);
    EXPECT_FALSE(collector.finished.contains(core::sha256_hex(one_data_)));
    EXPECT_EQ(collector.finished.at(core::sha256_hex(two_data_)), two_data_);
    EXPECT_EQ(collector.finished.at(core::sha256_hex(kIndexTwo)), kIndexTwo);
}

TEST_F(BundleFormat, WriteRefusesAFileWhoseContentIsNotItsRevisions) {
    const fs::path out_dir = scratch_.path() / "out";
    fs::create_directories(out_dir);
    const fs::path out = out_dir / "bundle.tar";

    // Same size, other content than the revision's SHA-256.
    std::vector<BundleSource> sources = two_apps();
    const std::string declared = core::sha256_hex(random_bytes(one_data_.size(), 99));
    sources[0].app.files[1].sha256 = declared;
    const std::string message = error_of([&] { write_bundle(out, sources, options()); });
    EXPECT_THAT(message, HasSubstr("com.acme.one@1"));
    EXPECT_THAT(message, HasSubstr("one/data.bin"));
    EXPECT_THAT(message, HasSubstr("SHA-256"));
    EXPECT_THAT(message, HasSubstr(declared));
    EXPECT_FALSE(fs::exists(out));
    EXPECT_THAT(files_below(out_dir), ::testing::IsEmpty()) << "no temporary file stays";
}

TEST_F(BundleFormat, WriteRefusesAFileWhoseSizeIsNotItsRevisions) {
    const fs::path out_dir = scratch_.path() / "out";
    fs::create_directories(out_dir);
    const fs::path out = out_dir / "bundle.tar";
    for (const std::int64_t delta : {+1, -1}) {
        SCOPED_TRACE(delta);
        std::vector<BundleSource> sources = two_apps();
        market::RepositoryFile& file = sources[1].app.files[1];  // two/data.bin
        ASSERT_EQ(file.path, "two/data.bin");
        file.size = static_cast<std::uint64_t>(static_cast<std::int64_t>(file.size) + delta);
        const std::string message = error_of([&] { write_bundle(out, sources, options()); });
        EXPECT_THAT(message, HasSubstr("com.acme.two@3"));
        EXPECT_THAT(message, HasSubstr("two/data.bin"));
        EXPECT_THAT(message, HasSubstr(std::to_string(file.size)));
        EXPECT_FALSE(fs::exists(out));
        EXPECT_THAT(files_below(out_dir), ::testing::IsEmpty());
    }
}

TEST_F(BundleFormat, WriteRefusesAMissingFileNamingIt) {
    const fs::path out = scratch_.path() / "bundle.tar";
    std::vector<BundleSource> sources = two_apps();
    fs::remove(sources[1].file(sources[1].app.files[1]));
    const std::string message = error_of([&] { write_bundle(out, sources, options()); });
    EXPECT_THAT(message, HasSubstr("com.acme.two@3"));
    EXPECT_THAT(message, HasSubstr("two/data.bin"));
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(BundleFormat, ANewerFormatVersionIsRefusedNamingTheVersion) {
    nlohmann::json manifest = valid_manifest_json();
    manifest["format_version"] = 2;
    std::vector<Entry> entries = valid_entries();
    entries[0].data = manifest.dump();
    const std::string message = read_error("version-2", entries);
    EXPECT_THAT(message, HasSubstr(bad_path("version-2").string()));
    EXPECT_THAT(message, HasSubstr("ferry-bundle.json"));
    EXPECT_THAT(message, HasSubstr("format version 2"));

    const std::string parsed = error_of([&] { parse_manifest(manifest.dump(), "where.json"); });
    EXPECT_THAT(parsed, ::testing::StartsWith("where.json: "));
    EXPECT_THAT(parsed, HasSubstr("format version 2"));
    // A listing does not pass it off as a manifest either.
    EXPECT_THAT(error_of([&] { peek_manifest(bad_path("version-2")); }),
                HasSubstr("format version 2"));
}

TEST_F(BundleFormat, AManifestThatIsNotJsonIsRefused) {
    std::vector<Entry> entries = valid_entries();
    entries[0].data = "{\"format\": \"ferry-bundle\", oops";
    const std::string message = read_error("not-json", entries);
    EXPECT_THAT(message, HasSubstr(bad_path("not-json").string()));
    EXPECT_THAT(message, HasSubstr("ferry-bundle.json"));
    EXPECT_THAT(message, HasSubstr("parse error"));

    const std::string other = error_of([&] { parse_manifest("{\"format\": \"other\"}", "m"); });
    EXPECT_THAT(other, HasSubstr("not a ferry bundle manifest"));
}

TEST_F(BundleFormat, ATarWhoseFirstEntryIsNotTheManifestIsNotABundle) {
    const fs::path plain = bad_path("plain");
    fs::create_directories(plain.parent_path());
    write_tar(plain, {{"readme.txt", "just a tar\n"}});
    EXPECT_EQ(peek_manifest(plain), std::nullopt);
    const std::string message = read_error(plain);
    EXPECT_THAT(message, HasSubstr(plain.string()));
    EXPECT_THAT(message, HasSubstr("not a ferry bundle"));
    EXPECT_THAT(message, HasSubstr("readme.txt"));

    // The manifest, but not first.
    std::vector<Entry> entries = valid_entries();
    std::swap(entries[0], entries[1]);
    const std::string second = read_error("manifest-second", entries);
    EXPECT_THAT(second, HasSubstr("not a ferry bundle"));
    EXPECT_EQ(peek_manifest(bad_path("manifest-second")), std::nullopt);
}

// A listing (and `ferry import`, which tells a bundle from a Rainbond package by it) asks
// peek_manifest of files of every kind: anything that is not a bundle is nullopt, not an error.
TEST_F(BundleFormat, FilesOfOtherKindsAreNotBundles) {
    const fs::path dir = scratch_.path() / "others";
    write_text(dir / "notes.txt", "this is no tar at all, just some words in a file\n");
    write_text(dir / "empty.bin", "");
    const std::string metadata = "{\"apps\": [" + std::string(2000, ' ') + "]}\n";
    archive::WriteOptions write;
    write.level = 9;
    write.format = archive::ArchiveFormat::tar_gz;
    write_tar_like(dir / "app-1.0-ram.tar.gz", metadata, write);
    write.format = archive::ArchiveFormat::zip;
    write_tar_like(dir / "app.zip", metadata, write);
    for (const char* name : {"notes.txt", "empty.bin", "app-1.0-ram.tar.gz", "app.zip"}) {
        SCOPED_TRACE(name);
        const fs::path file = dir / name;
        std::optional<BundleManifest> peeked;
        try {
            peeked = peek_manifest(file);
        } catch (const Error& e) {
            ADD_FAILURE() << "peek_manifest threw instead of answering nullopt: " << e.what();
        }
        EXPECT_FALSE(peeked.has_value());
        EXPECT_THAT(read_error(file), HasSubstr(file.string()));
    }
}

TEST_F(BundleFormat, ATruncatedBundleIsRefused) {
    const std::string bytes = read_text(valid_bundle());
    const std::size_t at = bytes.find(one_data_.substr(0, 4096));
    ASSERT_NE(at, std::string::npos);
    const fs::path cut = bad_path("cut-in-a-blob");
    write_text(cut, bytes.substr(0, at + one_data_.size() / 2));
    Collector collector;
    const auto error = error_from([&] { read_bundle(cut, collector); });
    ASSERT_TRUE(error.has_value());
    const std::string message = error->what();
    EXPECT_THAT(message, HasSubstr(cut.string()));
    EXPECT_THAT(message, HasSubstr(blob_entry(core::sha256_hex(one_data_))));
    EXPECT_THAT(message, HasSubstr("truncated"));
    EXPECT_EQ(error->kind(), ErrorKind::invalid_input);
    // The blob's sink never heard it was complete.
    EXPECT_FALSE(collector.finished.contains(core::sha256_hex(one_data_)));
}

TEST_F(BundleFormat, ABundleCutBetweenEntriesIsRefused) {
    // Cut right before the last blob's header: what remains is a well-formed tar prefix.
    const std::string bytes = read_text(valid_bundle());
    const std::string last = blob_entry(core::sha256_hex(two_data_));
    std::size_t header = std::string::npos;
    for (std::size_t at = bytes.find(last); at != std::string::npos;
         at = bytes.find(last, at + 1)) {
        if (at % 512 == 0) {
            header = at;
            break;
        }
    }
    ASSERT_NE(header, std::string::npos);
    const fs::path cut = bad_path("cut-between");
    write_text(cut, bytes.substr(0, header));
    const std::string message = read_error(cut);
    EXPECT_THAT(message, HasSubstr(cut.string()));
    EXPECT_THAT(message, HasSubstr(last));
    EXPECT_THAT(message, HasSubstr("truncated"));
}

TEST_F(BundleFormat, ADamagedBlobIsRefusedForItsSha256) {
    std::string bytes = read_text(valid_bundle());
    const std::size_t at = bytes.find(two_data_);
    ASSERT_NE(at, std::string::npos);
    bytes[at + 1234] = static_cast<char>(bytes[at + 1234] ^ 0x5a);
    const fs::path damaged = bad_path("damaged");
    write_text(damaged, bytes);
    Collector collector;
    const std::string message = error_of([&] { read_bundle(damaged, collector); });
    EXPECT_THAT(message, HasSubstr(damaged.string()));
    EXPECT_THAT(message, HasSubstr(blob_entry(core::sha256_hex(two_data_))));
    EXPECT_THAT(message, HasSubstr("SHA-256"));
    EXPECT_FALSE(collector.finished.contains(core::sha256_hex(two_data_)));
    // What came before was fine.
    EXPECT_EQ(collector.finished.at(core::sha256_hex(one_data_)), one_data_);
}

TEST_F(BundleFormat, AManifestThatLiesAboutABlobsSizeIsRefused) {
    nlohmann::json manifest = valid_manifest_json();
    const std::string sha = core::sha256_hex(one_data_);
    ASSERT_EQ(manifest["blobs"][2]["sha256"], sha);
    manifest["blobs"][2]["size"] = one_data_.size() + 1;
    ASSERT_EQ(manifest["apps"][0]["files"][1]["sha256"], sha);
    manifest["apps"][0]["files"][1]["size"] = one_data_.size() + 1;
    std::vector<Entry> entries = valid_entries();
    entries[0].data = manifest.dump(1);
    const std::string message = read_error("size-lie", entries);
    EXPECT_THAT(message, HasSubstr(bad_path("size-lie").string()));
    EXPECT_THAT(message, HasSubstr(blob_entry(sha)));
    EXPECT_THAT(message, HasSubstr(std::to_string(one_data_.size())));
    EXPECT_THAT(message, HasSubstr(std::to_string(one_data_.size() + 1)));

    // A manifest whose file and blob disagree does not even parse.
    manifest["apps"][0]["files"][1]["size"] = one_data_.size();
    const std::string parsed = error_of([&] { parse_manifest(manifest.dump(), "m.json"); });
    EXPECT_THAT(parsed, HasSubstr("com.acme.one@1"));
    EXPECT_THAT(parsed, HasSubstr("one/data.bin"));
}

TEST_F(BundleFormat, ManifestsThatContradictThemselvesAreRefused) {
    struct Case {
        std::string what;
        std::function<void(nlohmann::json&)> edit;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {"a blob twice", [](nlohmann::json& m) { m["blobs"].push_back(m["blobs"][1]); },
         "listed twice"},
        {"a file neither carried nor omitted", [](nlohmann::json& m) { m["blobs"].erase(2); },
         "neither carried nor omitted"},
        {"an app version twice", [](nlohmann::json& m) { m["apps"].push_back(m["apps"][0]); },
         "com.acme.one@1 is in the bundle twice"},
        {"a file path leaving the repository",
         [](nlohmann::json& m) { m["apps"][0]["files"][0]["path"] = "../etc/passwd"; },
         "../etc/passwd"},
        {"a digest that is no SHA-256",
         [](nlohmann::json& m) { m["apps"][0]["files"][0]["sha256"] = "ABC"; }, "is not a SHA-256"},
        {"an index that is not carried", [](nlohmann::json& m) { m["blobs"].erase(0); },
         "Updates.xml"},
        {"no app at all", [](nlohmann::json& m) { m["apps"] = nlohmann::json::array(); },
         "no app version"},
        {"revision 0", [](nlohmann::json& m) { m["apps"][0]["revision"] = 0; }, "revision 0"},
        {"an invalid app key", [](nlohmann::json& m) { m["apps"][0]["app"]["key"] = "Bad Key"; },
         "Bad Key"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        nlohmann::json manifest = valid_manifest_json();
        c.edit(manifest);
        const std::string message = error_of([&] { parse_manifest(manifest.dump(), "m.json"); });
        EXPECT_THAT(message, ::testing::StartsWith("m.json: "));
        EXPECT_THAT(message, HasSubstr(c.expected));
    }
}

TEST_F(BundleFormat, EntriesOtherThanTheManifestSaysAreRefused) {
    const std::vector<Entry> valid = valid_entries();
    ASSERT_EQ(valid.size(), 6u);

    std::vector<Entry> extra = valid;
    extra.push_back({blob_entry(core::sha256_hex("stowaway")), "stowaway"});
    std::string message = read_error("extra", extra);
    EXPECT_THAT(message, HasSubstr(bad_path("extra").string()));
    EXPECT_THAT(message, HasSubstr(blob_entry(core::sha256_hex("stowaway"))));
    EXPECT_THAT(message, HasSubstr("does not list"));

    std::vector<Entry> extra_file = valid;
    extra_file.insert(extra_file.begin() + 3, Entry{"README.txt", "hello"});
    message = read_error("extra-file", extra_file);
    EXPECT_THAT(message, HasSubstr("README.txt"));
    EXPECT_THAT(message, HasSubstr(blob_entry(core::sha256_hex(one_data_))));

    std::vector<Entry> reordered = valid;
    std::swap(reordered[1], reordered[2]);
    message = read_error("reordered", reordered);
    EXPECT_THAT(message, HasSubstr(bad_path("reordered").string()));
    EXPECT_THAT(message, HasSubstr(blob_entry(core::sha256_hex(shared_))));
    EXPECT_THAT(message, HasSubstr(blob_entry(core::sha256_hex(kIndexOne)) + " comes here"));

    std::vector<Entry> missing = valid;
    missing.pop_back();
    message = read_error("missing", missing);
    EXPECT_THAT(message, HasSubstr(bad_path("missing").string()));
    EXPECT_THAT(message, HasSubstr(blob_entry(core::sha256_hex(two_data_))));
    EXPECT_THAT(message, HasSubstr("truncated"));

    // A blob under another name that holds the right bytes is still the wrong entry.
    std::vector<Entry> renamed = valid;
    renamed[5].name = "blobs/sha512/" + core::sha256_hex(two_data_);
    message = read_error("renamed", renamed);
    EXPECT_THAT(message, HasSubstr("blobs/sha512/"));
}

TEST_F(BundleFormat, PathTraversalNamesAreRefusedAndNothingIsWrittenOutside) {
    const std::vector<Entry> valid = valid_entries();
    const fs::path outside = scratch_.path() / "outside";
    for (const std::string& name :
         {std::string("blobs/sha256/../../evil"), std::string("../evil"),
          (outside / "evil").string(), "blobs/sha256/" + valid[1].name.substr(13) + "/../evil"}) {
        SCOPED_TRACE(name);
        std::vector<Entry> entries = valid;
        entries[1].name = name;
        const fs::path file = scratch_.path() / "hostile" / "traversal.bundle.tar";
        fs::create_directories(file.parent_path());
        craft_tar(file, entries);
        ASSERT_EQ(names_of(entries_of(file)).at(1), name) << "the name was written as given";

        const std::string message = read_error(file);
        EXPECT_THAT(message, HasSubstr(file.string()));
        EXPECT_THAT(message, HasSubstr(name));
        EXPECT_THAT(message, HasSubstr(valid[1].name + " comes here"));

        Market market(scratch_.path() / "market");
        const std::string imported = error_of(
            [&] { market::import_bundle(market.data, *market.catalog, market.publisher, file); });
        EXPECT_THAT(imported, HasSubstr(name));
        market.expect_untouched({"com.acme.one", "com.acme.two"});
        for (const auto& entry : fs::recursive_directory_iterator(scratch_.path())) {
            EXPECT_NE(entry.path().filename(), "evil") << entry.path();
        }
        EXPECT_FALSE(fs::exists(outside));
    }
}

TEST_F(BundleFormat, LinksAndDirectoriesWhereABlobShouldBeAreRefused) {
    const std::vector<Entry> valid = valid_entries();
    const std::string shared_name = blob_entry(core::sha256_hex(shared_));
    ASSERT_EQ(valid[2].name, shared_name);
    const std::vector<std::pair<std::string, Entry>> cases = {
        {"symlink", {shared_name, "/etc/passwd", Entry::Kind::symlink}},
        {"symlink-to-entry", {shared_name, valid[1].name, Entry::Kind::symlink}},
        {"hardlink", {shared_name, std::string(kBundleManifestName), Entry::Kind::hardlink}},
        {"directory", {shared_name, "", Entry::Kind::directory}},
    };
    for (const auto& [what, replacement] : cases) {
        SCOPED_TRACE(what);
        std::vector<Entry> entries = valid;
        entries[2] = replacement;
        const fs::path file = bad_path(what);
        fs::create_directories(file.parent_path());
        craft_tar(file, entries);
        Collector collector;
        const std::string message = error_of([&] { read_bundle(file, collector); });
        EXPECT_THAT(message, HasSubstr(file.string()));
        EXPECT_THAT(message, HasSubstr(shared_name));
        // (libarchive writes a directory's name with a trailing '/': then the name is wrong
        // before the type is.)
        EXPECT_THAT(message, ::testing::AnyOf(HasSubstr("not a regular file"),
                                              HasSubstr(shared_name + " comes here")));
        if (replacement.kind != Entry::Kind::directory) {
            EXPECT_THAT(message, HasSubstr("not a regular file"));
        }
        EXPECT_FALSE(collector.finished.contains(core::sha256_hex(shared_)));
    }

    // A link in the manifest's place is no manifest.
    std::vector<Entry> entries = valid;
    entries[0] = {std::string(kBundleManifestName), "/etc/passwd", Entry::Kind::symlink};
    const fs::path file = bad_path("manifest-symlink");
    craft_tar(file, entries);
    EXPECT_THAT(read_error(file), HasSubstr("not a ferry bundle"));
}

TEST_F(BundleFormat, AnImportNeedingMoreSpaceThanTheDiskHasFailsBeforeWritingAnything) {
    // One app version whose one file is far larger than any disk (1 EiB).
    const std::string index = "<Updates/>\n";
    const std::string huge_sha = core::sha256_hex("huge");
    const std::uint64_t huge = std::uint64_t{1} << 60;
    BundleManifest manifest;
    manifest.created_at = kCreatedAt;
    BundleApp app;
    app.app.key = "com.acme.huge";
    app.app.name = "Huge";
    app.major = "1";
    app.revision = 1;
    app.updates_xml = blob_of(index);
    app.files = {{"huge/content.7z", huge_sha, huge}};
    manifest.apps = {app};
    manifest.blobs = {blob_of(index), {huge_sha, huge}};
    // The bundle stops before the huge blob: the import must not get that far.
    const fs::path file = bad_path("huge");
    fs::create_directories(file.parent_path());
    write_tar(file, {{std::string(kBundleManifestName), manifest_json(manifest).dump(1)},
                     {blob_entry(app.updates_xml.sha256), index}});
    ASSERT_TRUE(peek_manifest(file).has_value()) << "the manifest itself is valid";

    Market market(scratch_.path() / "market");
    std::uint64_t stored = 0;
    const auto error = error_from([&] {
        market::import_bundle(market.data, *market.catalog, market.publisher, file,
                              [&](std::uint64_t done, std::uint64_t) { stored = done; });
    });
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->kind(), ErrorKind::storage) << error->what();
    const std::string message = error->what();
    EXPECT_THAT(message, HasSubstr(file.string()));
    EXPECT_THAT(message, HasSubstr(std::to_string(huge)));
    EXPECT_THAT(message, HasSubstr("free"));
    EXPECT_THAT(message, HasSubstr(market.data.root().string()));
    EXPECT_EQ(stored, 0u);
    market.expect_untouched({"com.acme.huge"});
}

TEST_F(BundleFormat, ADifferentialBundleIntoAMarketWithoutItsBaseIsAConflict) {
    const fs::path file = scratch_.path() / "diff.bundle.tar";
    write_bundle(file, two_apps(), options({core::sha256_hex(one_data_)}));
    Market market(scratch_.path() / "market");
    const auto error = error_from(
        [&] { market::import_bundle(market.data, *market.catalog, market.publisher, file); });
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->kind(), ErrorKind::conflict) << error->what();
    const std::string message = error->what();
    EXPECT_THAT(message, HasSubstr(file.string()));
    EXPECT_THAT(message, HasSubstr("com.acme.one@1: one/data.bin"));
    EXPECT_THAT(message, ::testing::Not(HasSubstr("two/data.bin")));
    market.expect_untouched({"com.acme.one", "com.acme.two"});
    EXPECT_TRUE(fs::exists(file)) << "the bundle file stays";
}

// A real repository (repogen) carried in a bundle and imported into an empty market.
class BundleImport : public ::testing::Test {
  protected:
    void package(const std::string& name, const std::string& version, const std::string& payload) {
        const fs::path dir = scratch_.path() / "packages" / name;
        write_text(dir / "meta" / "package.xml",
                   "<?xml version=\"1.0\"?>\n<Package>\n <DisplayName>" + name +
                       "</DisplayName>\n <Description>test</Description>\n <Version>" + version +
                       "</Version>\n <ReleaseDate>2026-01-01</ReleaseDate>\n <Default>true"
                       "</Default>\n</Package>\n");
        write_text(dir / "data" / "payload.bin", payload);
    }

    fs::path build(const std::string& name = "built") {
        const fs::path built = scratch_.path() / name;
        repo::GenerateOptions options;
        options.packages = {scratch_.path() / "packages"};
        options.jobs = 1;
        repo::generate_repository(built, options);
        return built;
    }

    ScratchDir scratch_;
};

TEST_F(BundleImport, ARepositorysBundleImportsAsItsRevisionAndAgainAsNothingNew) {
    package("com.acme.a", "1.0", random_bytes(20000, 11));
    package("com.acme.b", "2.1", random_bytes(30000, 12));
    const fs::path built = build();
    BundleSource source = market::repository_bundle_source(built, "com.acme.suite@2");
    EXPECT_EQ(source.app.app.key, "com.acme.suite");
    EXPECT_EQ(source.app.major, "2");
    source.app.revision = 4;
    source.app.app.name = "Acme Suite";
    source.app.app.publisher = "Acme";
    const std::vector<market::RepositoryFile> files = source.app.files;
    ASSERT_FALSE(files.empty());
    const fs::path file = scratch_.path() / bundle_file_name(source.app);
    EXPECT_EQ(file.filename(), "com.acme.suite-2-r4.bundle.tar");
    WriteBundleOptions write;
    write.source_market = "https://upstream.example";
    write_bundle(file, {source}, write);

    Market market(scratch_.path() / "market");
    std::uint64_t done = 0;
    std::uint64_t total = 0;
    const std::vector<market::ImportedVersion> imported =
        market::import_bundle(market.data, *market.catalog, market.publisher, file,
                              [&](std::uint64_t d, std::uint64_t t) {
                                  done = d;
                                  total = t;
                              });
    ASSERT_EQ(imported.size(), 1u);
    EXPECT_EQ(imported[0].app.key, "com.acme.suite");
    EXPECT_EQ(imported[0].major, "2");
    EXPECT_EQ(imported[0].revision, 4) << "the bundle's revision number is kept";
    EXPECT_FALSE(imported[0].unchanged);
    EXPECT_EQ(imported[0].components, (std::vector<std::string>{"com.acme.a", "com.acme.b"}));
    std::uint64_t file_bytes = 0;
    for (const auto& f : files) {
        file_bytes += f.size;
    }
    EXPECT_EQ(done, file_bytes);
    EXPECT_EQ(total, file_bytes);

    const auto app = market.catalog->find_app("com.acme.suite");
    ASSERT_TRUE(app.has_value());
    EXPECT_EQ(app->name, "Acme Suite");
    EXPECT_EQ(app->publisher, "Acme");
    EXPECT_EQ(app->source, market::App::Source::imported);
    ASSERT_TRUE(market.catalog->find_major("com.acme.suite", "2").has_value());
    EXPECT_EQ(market.catalog->find_major("com.acme.suite", "2")->latest_revision, 4);
    const auto revision = market.catalog->find_revision("com.acme.suite", "2", 4);
    ASSERT_TRUE(revision.has_value());
    EXPECT_THAT(revision->notes, HasSubstr(file.filename().string()));
    EXPECT_THAT(revision->notes, HasSubstr("https://upstream.example"));

    // The market serves the repository: every file as built, an index stamped with revision 4
    // that lists the same components.
    const fs::path served = market.data.repository("com.acme.suite", "2");
    for (const auto& f : files) {
        EXPECT_EQ(core::digest_file(served / f.path).sha256, f.sha256) << f.path;
        EXPECT_TRUE(market.data.has_blob(f.sha256, f.size)) << f.path;
    }
    const formats::RepositoryIndex index = formats::parse_updates_xml(
        read_text(served / "Updates.xml"), (served / "Updates.xml").string());
    ASSERT_TRUE(index.revision.has_value());
    EXPECT_EQ(index.revision->number, 4);
    const formats::RepositoryIndex original = formats::parse_updates_xml(
        read_text(built / "Updates.xml"), (built / "Updates.xml").string());
    ASSERT_EQ(index.packages.size(), original.packages.size());
    for (std::size_t i = 0; i < index.packages.size(); ++i) {
        EXPECT_EQ(index.packages[i].component.name, original.packages[i].component.name);
        EXPECT_EQ(index.packages[i].component.version, original.packages[i].component.version);
    }
    EXPECT_THAT(files_below(market.data.uploads()), ::testing::IsEmpty());

    // The same bundle again changes nothing and stores nothing.
    const auto blobs_before = files_below(market.data.root() / "blobs");
    done = 0;
    const std::vector<market::ImportedVersion> again =
        market::import_bundle(market.data, *market.catalog, market.publisher, file,
                              [&](std::uint64_t d, std::uint64_t) { done = d; });
    ASSERT_EQ(again.size(), 1u);
    EXPECT_TRUE(again[0].unchanged);
    EXPECT_EQ(again[0].revision, 4);
    EXPECT_EQ(done, 0u);
    EXPECT_EQ(files_below(market.data.root() / "blobs"), blobs_before);
    EXPECT_EQ(market.catalog->find_major("com.acme.suite", "2")->latest_revision, 4);
}

TEST_F(BundleImport, ADifferentialBundleAgainstAMarketsInventoryCarriesOnlyWhatChanged) {
    package("com.acme.a", "1.0", random_bytes(20000, 11));
    package("com.acme.b", "2.1", random_bytes(30000, 12));
    BundleSource first = market::repository_bundle_source(build("built-1"), "com.acme.suite@2");
    const fs::path whole = scratch_.path() / "whole.bundle.tar";
    write_bundle(whole, {first});
    Market market(scratch_.path() / "market");
    ASSERT_EQ(
        market::import_bundle(market.data, *market.catalog, market.publisher, whole).at(0).revision,
        1);

    // The next revision changes b only; the exporter knows what the market has from its
    // inventory.
    package("com.acme.b", "2.2", random_bytes(30000, 13));
    const fs::path built = build("built-2");
    BundleSource second = market::repository_bundle_source(built, "com.acme.suite@2");
    second.app.revision = 2;
    const std::vector<market::RepositoryFile> files = second.app.files;
    ASSERT_TRUE(std::any_of(files.begin(), files.end(), [](const market::RepositoryFile& f) {
        return f.path == "com.acme.b/2.2content.7z";
    }));
    const std::set<std::string> have = market::inventory_blobs(
        market::inventory_json(market.data, *market.catalog).dump(), "inventory.json");
    WriteBundleOptions write;
    write.have = have;
    const fs::path diff = scratch_.path() / "diff.bundle.tar";
    const WriteBundleResult written = write_bundle(diff, {second}, write);
    ASSERT_TRUE(written.manifest.differential());
    for (const auto& f : files) {
        const bool carried =
            std::any_of(written.manifest.blobs.begin(), written.manifest.blobs.end(),
                        [&](const BundleBlob& b) { return b.sha256 == f.sha256; });
        const bool omitted =
            std::any_of(written.manifest.omitted.begin(), written.manifest.omitted.end(),
                        [&](const BundleBlob& b) { return b.sha256 == f.sha256; });
        EXPECT_NE(carried, omitted) << f.path;
        EXPECT_EQ(omitted, have.contains(f.sha256)) << f.path;
        if (f.path.starts_with("com.acme.a/")) {
            EXPECT_TRUE(omitted) << f.path << ": unchanged, the market has it";
        }
        if (f.path == "com.acme.b/2.2content.7z") {
            EXPECT_TRUE(carried) << f.path << ": new in this revision";
        }
    }

    const std::vector<market::ImportedVersion> imported =
        market::import_bundle(market.data, *market.catalog, market.publisher, diff);
    ASSERT_EQ(imported.size(), 1u);
    EXPECT_EQ(imported[0].revision, 2);
    EXPECT_FALSE(imported[0].unchanged);
    EXPECT_EQ(market.catalog->find_major("com.acme.suite", "2")->latest_revision, 2);
    const fs::path served = market.data.repository("com.acme.suite", "2");
    for (const auto& f : files) {
        EXPECT_EQ(core::digest_file(served / f.path).sha256, f.sha256) << f.path;
    }
    const formats::RepositoryIndex index = formats::parse_updates_xml(
        read_text(served / "Updates.xml"), (served / "Updates.xml").string());
    ASSERT_TRUE(index.revision.has_value());
    EXPECT_EQ(index.revision->number, 2);
    bool found = false;
    for (const auto& p : index.packages) {
        if (p.component.name == "com.acme.b") {
            found = true;
            EXPECT_EQ(p.component.version, "2.2");
        }
    }
    EXPECT_TRUE(found);
}

}  // namespace
}  // namespace ferry::bundle
