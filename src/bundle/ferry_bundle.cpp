#include "bundle/ferry_bundle.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <map>

#include "archive/archive.hpp"
#include "archive/error_text.hpp"
#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/file_error.hpp"
#include "core/hash.hpp"
#include "core/json_error.hpp"
#include "core/relative_path.hpp"
#include "core/source_date.hpp"
#include "market/data_dir.hpp"
#include "market/json.hpp"
#include "market/names.hpp"

namespace ferry::bundle {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kFormatName = "ferry-bundle";
constexpr std::string_view kBlobPrefix = "blobs/sha256/";
constexpr std::uint64_t kMaxManifestBytes = 64u << 20;
constexpr std::size_t kChunk = 1 << 20;

Json blob_json(const BundleBlob& blob) {
    return {{"sha256", blob.sha256}, {"size", blob.size}};
}

Json app_record_json(const BundleApp& entry) {
    Json app = market::app_json(entry.app);
    for (const char* local : {"source", "upstream_url", "created_at", "updated_at"}) {
        app.erase(local);
    }
    return {{"app", app},
            {"major", entry.major},
            {"revision", entry.revision},
            {"notes", entry.notes},
            {"components", market::components_json(entry.components)},
            {"updates_xml", blob_json(entry.updates_xml)},
            {"files", market::files_json(entry.files)}};
}

BundleBlob read_blob(const Json& json) {
    BundleBlob blob{json.at("sha256").get<std::string>(), json.at("size").get<std::uint64_t>()};
    if (!market::is_blob_name(blob.sha256)) {
        throw Error::format("\"{}\" is not a SHA-256 (64 lowercase hex digits)", blob.sha256);
    }
    return blob;
}

BundleApp read_app(const Json& json) {
    BundleApp entry;
    const Json& app = json.at("app");
    entry.app.key = app.at("key").get<std::string>();
    market::check_key(entry.app.key, "app key");
    entry.app = market::app_from_json(app, entry.app);
    entry.app.source = market::App::Source::imported;
    entry.major = json.at("major").get<std::string>();
    market::check_key(entry.major, "major version");
    const std::string what = entry.app.key + "@" + entry.major;
    entry.revision = json.at("revision").get<int>();
    if (entry.revision < 1) {
        throw Error::format("{}: revision {} (revisions start at 1)", what, entry.revision);
    }
    entry.notes = json.value("notes", "");
    entry.components = market::components_from_json(json.at("components"));
    entry.updates_xml = read_blob(json.at("updates_xml"));
    entry.files = market::files_from_json(json.at("files"));
    std::set<std::string> paths;
    for (const auto& file : entry.files) {
        if (auto problem = core::relative_path_problem(file.path)) {
            throw Error::format("{}: the file name \"{}\" {}", what, file.path, *problem);
        }
        if (file.path == "Updates.xml" || !paths.insert(file.path).second) {
            throw Error::format("{}: the file name \"{}\" is listed twice", what, file.path);
        }
        if (!market::is_blob_name(file.sha256)) {
            throw Error::format("{}: {}: \"{}\" is not a SHA-256", what, file.path, file.sha256);
        }
    }
    return entry;
}

}  // namespace

Json manifest_json(const BundleManifest& manifest) {
    Json apps = Json::array();
    for (const auto& app : manifest.apps) {
        apps.push_back(app_record_json(app));
    }
    Json blobs = Json::array();
    for (const auto& blob : manifest.blobs) {
        blobs.push_back(blob_json(blob));
    }
    Json omitted = Json::array();
    for (const auto& blob : manifest.omitted) {
        omitted.push_back(blob_json(blob));
    }
    return {{"format", kFormatName},
            {"format_version", manifest.format_version},
            {"created_at", manifest.created_at},
            {"source_market", manifest.source_market},
            {"apps", apps},
            {"blobs", blobs},
            {"omitted", omitted}};
}

BundleManifest parse_manifest(std::string_view text, std::string_view source) {
    BundleManifest manifest;
    try {
        const Json json = Json::parse(text);
        if (!json.is_object() || json.value("format", "") != kFormatName) {
            throw Error("not a ferry bundle manifest (\"format\" is not \"ferry-bundle\")");
        }
        manifest.format_version = json.at("format_version").get<int>();
        if (manifest.format_version != kBundleFormatVersion) {
            throw Error::format(
                "format version {} is not one this ferry reads ({}); a newer ferry wrote it",
                manifest.format_version, kBundleFormatVersion);
        }
        manifest.created_at = json.value("created_at", "");
        manifest.source_market = json.value("source_market", "");
        for (const Json& app : json.at("apps")) {
            manifest.apps.push_back(read_app(app));
        }
        for (const Json& blob : json.at("blobs")) {
            manifest.blobs.push_back(read_blob(blob));
        }
        for (const Json& blob : json.value("omitted", Json::array())) {
            manifest.omitted.push_back(read_blob(blob));
        }
    } catch (const Json::exception& e) {
        throw Error::format("{}: {}", source, core::json_error_text(e));
    } catch (const Error& e) {
        throw Error::format("{}: {}", source, e.what());
    }
    if (manifest.apps.empty()) {
        throw Error::format("{}: the bundle holds no app version", source);
    }
    // Every blob once, carried or omitted; every file of every app one of them, at its size.
    std::map<std::string, std::pair<std::uint64_t, bool>> known;  // sha256 -> size, carried
    for (const auto& [list, carried] :
         {std::pair{&manifest.blobs, true}, std::pair{&manifest.omitted, false}}) {
        for (const BundleBlob& blob : *list) {
            if (!known.emplace(blob.sha256, std::pair{blob.size, carried}).second) {
                throw Error::format("{}: blob {} is listed twice", source, blob.sha256);
            }
        }
    }
    std::set<std::string> versions;
    for (const BundleApp& app : manifest.apps) {
        const std::string what = app.app.key + "@" + app.major;
        if (!versions.insert(what).second) {
            throw Error::format("{}: {} is in the bundle twice", source, what);
        }
        if (app.updates_xml.size > kMaxManifestBytes) {
            throw Error::format(
                "{}: {}: its Updates.xml of {} bytes is larger than an index may "
                "be ({})",
                source, what, app.updates_xml.size, kMaxManifestBytes);
        }
        auto index = known.find(app.updates_xml.sha256);
        if (index == known.end() || !index->second.second ||
            index->second.first != app.updates_xml.size) {
            throw Error::format("{}: {}: its Updates.xml ({}) is not a blob the bundle carries",
                                source, what, app.updates_xml.sha256);
        }
        for (const auto& file : app.files) {
            auto blob = known.find(file.sha256);
            if (blob == known.end()) {
                throw Error::format("{}: {}: {} ({}) is neither carried nor omitted", source, what,
                                    file.path, file.sha256);
            }
            if (blob->second.first != file.size) {
                throw Error::format("{}: {}: {} is {} bytes, but blob {} is {}", source, what,
                                    file.path, file.size, file.sha256, blob->second.first);
            }
        }
    }
    return manifest;
}

std::string bundle_file_name(const BundleApp& app) {
    return fmt::format("{}-{}-r{}.bundle.tar", app.app.key, app.major, app.revision);
}

WriteBundleResult write_bundle(const fs::path& out, std::vector<BundleSource> sources,
                               const WriteBundleOptions& options) {
    WriteBundleResult result;
    BundleManifest& manifest = result.manifest;
    manifest.created_at = options.created_at;
    if (manifest.created_at.empty()) {
        const auto epoch = core::source_date_epoch();
        manifest.created_at =
            market::to_rfc3339(epoch ? std::chrono::system_clock::from_time_t(*epoch)
                                     : std::chrono::system_clock::now());
    }
    manifest.source_market = options.source_market;
    // Each blob once, in the order the apps first name it, with the file it is read from (an
    // index is held in memory).
    struct Carried {
        BundleBlob blob;
        fs::path file;
        const std::string* text = nullptr;
        std::string what;  // for errors: app@major and the path
        bool hash = true;
    };
    std::vector<Carried> carried;
    std::set<std::string> seen;
    std::uint64_t total = 0;
    for (BundleSource& source : sources) {
        BundleApp& app = source.app;
        const std::string what = app.app.key + "@" + app.major;
        app.updates_xml = {core::sha256_hex(source.updates_xml), source.updates_xml.size()};
        if (seen.insert(app.updates_xml.sha256).second) {
            carried.push_back(
                {app.updates_xml, {}, &source.updates_xml, what + ": Updates.xml", true});
            total += app.updates_xml.size;
        }
        for (const market::RepositoryFile& file : app.files) {
            if (!seen.insert(file.sha256).second) {
                continue;
            }
            if (options.have.contains(file.sha256)) {
                manifest.omitted.push_back({file.sha256, file.size});
                continue;
            }
            carried.push_back({{file.sha256, file.size}, source.file(file), nullptr,
                               what + ": " + file.path, !source.digests_fresh});
            total += file.size;
        }
        manifest.apps.push_back(app);
    }
    for (const Carried& c : carried) {
        manifest.blobs.push_back(c.blob);
    }
    const std::string manifest_text = manifest_json(manifest).dump(1) + "\n";
    // The manifest must read back: what a reader would refuse is not written.
    parse_manifest(manifest_text, out.string());

    std::vector<archive::ArchiveInput> inputs;
    inputs.reserve(carried.size() + 1);
    auto& first = inputs.emplace_back();
    first.entry_name = kBundleManifestName;
    first.size = manifest_text.size();
    first.produce = [&](const core::ByteSink& sink) {
        sink(manifest_text.data(), manifest_text.size());
    };
    std::uint64_t done = 0;
    for (const Carried& c : carried) {
        auto& input = inputs.emplace_back();
        input.entry_name = std::string(kBlobPrefix) + c.blob.sha256;
        input.size = c.blob.size;
        input.produce = [&c, &done, &options, total](const core::ByteSink& sink) {
            core::Hasher hasher(core::HashKind::sha256);
            auto put = [&](const char* data, std::size_t size) {
                if (c.hash) {
                    hasher.update(data, size);
                }
                sink(data, size);
                done += size;
                if (options.progress) {
                    options.progress(done, total);
                }
            };
            if (c.text != nullptr) {
                put(c.text->data(), c.text->size());
            } else {
                core::FileDescriptor fd(::open(c.file.c_str(), O_RDONLY | O_CLOEXEC));
                if (fd.get() < 0) {
                    throw file_error(c.file.string(), fmt::format("{}: cannot open", c.what),
                                     errno);
                }
                ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
                std::unique_ptr<char[]> buffer(new char[kChunk]);
                std::uint64_t read_bytes = 0;
                for (ssize_t n; (n = ::read(fd.get(), buffer.get(), kChunk)) != 0;) {
                    if (n < 0 && errno == EINTR) {
                        continue;
                    }
                    if (n < 0) {
                        throw file_error(c.file.string(), "read error", errno);
                    }
                    read_bytes += static_cast<std::uint64_t>(n);
                    if (read_bytes > c.blob.size) {
                        break;
                    }
                    put(buffer.get(), static_cast<std::size_t>(n));
                }
                if (read_bytes != c.blob.size) {
                    throw Error::format("{} ({}): {} bytes, but its revision says {}", c.what,
                                        c.file.string(), read_bytes, c.blob.size);
                }
            }
            if (const std::string actual = c.hash ? hasher.hex_digest() : c.blob.sha256;
                actual != c.blob.sha256) {
                throw Error::format("{}: its SHA-256 is {}, but its revision says {}", c.what,
                                    actual, c.blob.sha256);
            }
        };
        if (c.text == nullptr) {
            input.probe_sources.push_back(c.file);
        }
    }
    archive::WriteOptions write;
    write.format = archive::ArchiveFormat::tar;
    write.level = 0;
    write.mtime = core::reproducible_mtime();
    write.keep_order = true;
    archive::write_archive(out, std::move(inputs), write);
    std::error_code ec;
    result.bytes = fs::file_size(out, ec);
    return result;
}

namespace {

using Reader = std::unique_ptr<struct archive, decltype(&archive_read_free)>;

class BundleReader {
  public:
    explicit BundleReader(const fs::path& file)
        : file_(file), reader_(nullptr, &archive_read_free) {
        reader_.reset(archive_read_new());
        if (!reader_) {
            throw Error::format("{}: cannot allocate an archive reader", file_.string());
        }
        archive_read_support_format_tar(reader_.get());
        if (archive_read_open_filename(reader_.get(), file_.c_str(), kChunk) != ARCHIVE_OK) {
            throw Error::format("{}: cannot open: {}", file_.string(),
                                archive::error_text(reader_.get()));
        }
    }

    // The next entry, or null at the end.
    struct archive_entry* next() {
        struct archive_entry* entry = nullptr;
        const int status = archive_read_next_header(reader_.get(), &entry);
        if (status == ARCHIVE_EOF) {
            return nullptr;
        }
        if (status != ARCHIVE_OK) {
            throw fail(after(),
                       fmt::format("not a readable tar: {}", archive::error_text(reader_.get())));
        }
        name_ = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
        ++entries_;
        return entry;
    }

    // Reads the current entry's data into sink, exactly size bytes.
    void data(std::uint64_t size, const std::function<void(const char*, std::size_t)>& sink) {
        std::unique_ptr<char[]> buffer(new char[kChunk]);
        std::uint64_t done = 0;
        for (;;) {
            const la_ssize_t n = archive_read_data(reader_.get(), buffer.get(), kChunk);
            if (n < 0) {
                throw fail(name_, fmt::format("cannot read its data (a truncated or damaged "
                                              "file?): {}",
                                              archive::error_text(reader_.get())));
            }
            if (n == 0) {
                break;
            }
            done += static_cast<std::uint64_t>(n);
            if (done > size) {
                throw fail(name_, fmt::format("more than the {} bytes its header says", size));
            }
            sink(buffer.get(), static_cast<std::size_t>(n));
        }
        if (done != size) {
            throw fail(name_, fmt::format("{} bytes of {}: the file is truncated", done, size));
        }
    }

    // Reads past the current entry's data unseen (a blob the target has already).
    void skip() {
        if (archive_read_data_skip(reader_.get()) != ARCHIVE_OK) {
            throw fail(name_, fmt::format("cannot read past its data: {}",
                                          archive::error_text(reader_.get())));
        }
    }

    Error fail(std::string_view entry, std::string_view cause) const {
        return Error::format("{}: {}: {}", file_.string(), entry, cause);
    }
    std::string after() const {
        return entries_ == 0 ? std::string("its start") : "the entry after " + name_;
    }
    const std::string& name() const { return name_; }

  private:
    fs::path file_;
    Reader reader_;
    std::string name_;
    std::size_t entries_ = 0;
};

bool is_regular(struct archive_entry* entry) {
    return archive_entry_filetype(entry) == AE_IFREG && archive_entry_hardlink(entry) == nullptr &&
           archive_entry_size_is_set(entry) != 0 && archive_entry_size(entry) >= 0;
}

BundleManifest read_manifest_entry(BundleReader& reader, const fs::path& file) {
    struct archive_entry* entry = reader.next();
    if (entry == nullptr) {
        throw Error::format("{}: an empty archive, not a ferry bundle", file.string());
    }
    if (reader.name() != kBundleManifestName || !is_regular(entry)) {
        throw Error::format("{}: not a ferry bundle: its first entry is \"{}\", not the file {}",
                            file.string(), reader.name(), kBundleManifestName);
    }
    const auto size = static_cast<std::uint64_t>(archive_entry_size(entry));
    if (size > kMaxManifestBytes) {
        throw reader.fail(reader.name(), fmt::format("{} bytes; a manifest is at most {}", size,
                                                     kMaxManifestBytes));
    }
    std::string text;
    text.reserve(size);
    reader.data(size, [&](const char* data, std::size_t n) { text.append(data, n); });
    return parse_manifest(text, file.string() + ": " + std::string(kBundleManifestName));
}

}  // namespace

void read_bundle(const fs::path& file, BundleVisitor& visitor) {
    BundleReader reader(file);
    const BundleManifest manifest = read_manifest_entry(reader, file);
    visitor.manifest(manifest);
    for (const BundleBlob& blob : manifest.blobs) {
        const std::string expected = std::string(kBlobPrefix) + blob.sha256;
        struct archive_entry* entry = reader.next();
        if (entry == nullptr) {
            throw Error::format("{}: ends before {}: the file is truncated", file.string(),
                                expected);
        }
        if (reader.name() != expected) {
            throw reader.fail(reader.name(),
                              fmt::format("the manifest says {} comes here", expected));
        }
        if (!is_regular(entry)) {
            throw reader.fail(reader.name(), "not a regular file");
        }
        const auto size = static_cast<std::uint64_t>(archive_entry_size(entry));
        if (size != blob.size) {
            throw reader.fail(reader.name(),
                              fmt::format("{} bytes, but the manifest says {}", size, blob.size));
        }
        std::unique_ptr<BlobSink> sink = visitor.blob(blob);
        if (!sink) {
            reader.skip();
            continue;
        }
        const bool hash = !sink->checks_digest();
        core::Hasher hasher(core::HashKind::sha256);
        reader.data(size, [&](const char* data, std::size_t n) {
            if (hash) {
                hasher.update(data, n);
            }
            sink->write(data, n);
        });
        if (const std::string actual = hash ? hasher.hex_digest() : blob.sha256;
            actual != blob.sha256) {
            throw reader.fail(reader.name(),
                              fmt::format("its content's SHA-256 is {}: damaged", actual));
        }
        try {
            sink->finish();
        } catch (const Error& e) {
            throw reader.fail(reader.name(), e.what());
        }
    }
    if (reader.next() != nullptr) {
        throw reader.fail(reader.name(), "an entry the manifest does not list");
    }
}

std::optional<BundleManifest> peek_manifest(const fs::path& file) {
    try {
        BundleReader reader(file);
        struct archive_entry* entry = reader.next();
        if (entry == nullptr || reader.name() != kBundleManifestName || !is_regular(entry)) {
            return std::nullopt;
        }
    } catch (const Error&) {
        return std::nullopt;  // not a tar at all
    }
    BundleReader again(file);
    return read_manifest_entry(again, file);
}

}  // namespace ferry::bundle
