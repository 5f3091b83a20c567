// The streaming pass over an image archive: hash and store blobs, keep the layout's JSON.
#include "image/archive_scan.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>

#include "archive/error_text.hpp"
#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/file_error.hpp"
#include "core/hash.hpp"
#include "core/relative_path.hpp"

namespace ferry::image {

namespace {

using Reader = std::unique_ptr<struct archive, decltype(&archive_read_free)>;

// What all small JSON documents of one archive may take of memory together.
constexpr std::uint64_t kJsonBudget = 64u << 20;
// Far more than any image archive holds (docker caps an image at 127 layers); a bound on the
// files one archive may make in the blob directory.
constexpr std::uint64_t kMaxEntries = 100'000;

std::string parent_of(const std::string& name) {
    const std::size_t slash = name.rfind('/');
    return slash == std::string::npos ? std::string() : name.substr(0, slash);
}

bool is_hex64(std::string_view text) {
    return core::is_hex_digest(text, 64);
}

// The digest an entry's name promises ("blobs/sha256/<hex>", "<hex>.json"), or "".
std::string digest_named_by(const std::string& name) {
    constexpr std::string_view blobs = "blobs/sha256/";
    if (name.starts_with(blobs) && is_hex64(std::string_view(name).substr(blobs.size()))) {
        return "sha256:" + name.substr(blobs.size());
    }
    if (name.size() == 69 && name.ends_with(".json") && is_hex64(name.substr(0, 64))) {
        return "sha256:" + name.substr(0, 64);
    }
    return {};
}

bool may_be_blob(const std::string& name) {
    return !digest_named_by(name).empty() || name == "layer.tar" || name.ends_with("/layer.tar");
}

bool looks_like_json(const std::string& text) {
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    return first != std::string::npos && text[first] == '{';
}

class Scanner {
  public:
    Scanner(const fs::path& archive, const BlobDir& blobs) : archive_(archive), blobs_(blobs) {}

    ScannedArchive run() {
        Reader reader(archive_read_new(), &archive_read_free);
        if (!reader) {
            throw Error::format("{}: cannot allocate an archive reader", archive_.string());
        }
        support_compressions(reader.get());
        archive_read_support_format_tar(reader.get());
        auto not_a_tar = [&] {
            if (!fs::is_regular_file(archive_)) {
                throw file_error(archive_.string(), "cannot read it",
                                 fs::exists(archive_) ? EINVAL : ENOENT);
            }
            return Error::format(
                "{}: not a tar archive (an image archive is the tar of `docker save` or of an "
                "OCI image layout): {}",
                archive_.string(), archive::error_text(reader.get()));
        };
        if (archive_read_open_filename(reader.get(), archive_.c_str(), kReadChunk) != ARCHIVE_OK) {
            throw not_a_tar();
        }
        struct archive_entry* entry = nullptr;
        std::string previous;
        while (true) {
            const int status = archive_read_next_header(reader.get(), &entry);
            if (status == ARCHIVE_EOF) {
                break;
            }
            if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
                if (previous.empty()) {
                    throw not_a_tar();
                }
                throw Error::format("{}: cannot read the entry after \"{}\": {}", archive_.string(),
                                    previous, archive::error_text(reader.get()));
            }
            if (++entries_ > kMaxEntries) {
                throw Error::format("{}: more than {} entries; no image archive has that many",
                                    archive_.string(), kMaxEntries);
            }
            const char* raw = entry_name(entry);
            previous = raw != nullptr ? raw : "";
            entry_(reader.get(), entry, previous);
        }
        return std::move(result_);
    }

  private:
    [[noreturn]] void fail(std::string_view name, std::string_view cause) const {
        throw Error::format("{}: entry \"{}\": {}", archive_.string(), name, cause);
    }

    std::string clean(std::string_view name, std::string_view what, std::string_view raw) const {
        core::CleanedPath cleaned = core::clean_relative_path(name);
        if (!cleaned.problem.empty()) {
            fail(raw, fmt::format("{} \"{}\" {}", what, name, cleaned.problem));
        }
        return std::move(cleaned.clean);
    }

    void entry_(struct archive* reader, struct archive_entry* entry, const std::string& raw) {
        const std::string name = clean(raw, "name", raw);
        if (name.empty()) {
            return;
        }
        if (const char* hardlink = entry_hardlink(entry); hardlink != nullptr) {
            add_link(raw, name, clean(hardlink, "hardlink target", raw));
            return;
        }
        switch (archive_entry_filetype(entry)) {
            case AE_IFREG:
                break;
            case AE_IFLNK: {
                const char* utf8 = archive_entry_symlink_utf8(entry);
                const char* target = utf8 != nullptr ? utf8 : archive_entry_symlink(entry);
                const std::string text = target != nullptr ? target : "";
                if (text.empty() || text.front() == '/') {
                    fail(raw,
                         fmt::format("symlink to \"{}\" does not name an entry beside it", text));
                }
                add_link(raw, name, resolve(raw, parent_of(name), text));
                return;
            }
            default:
                return;  // directories; nothing else is part of either layout
        }
        if (result_.files.count(name) != 0 || result_.layout.count(name) != 0) {
            fail(raw, "the archive holds it twice");
        }
        if (name == "manifest.json" || name == "index.json" || name == "oci-layout") {
            result_.layout[name] = read_small(reader, entry, raw);
        } else if (may_be_blob(name)) {
            result_.files[name] = store(reader, entry, name, raw);
        }
    }

    // A symlink's target as an entry name: '..' climbs from the link's folder, never above the
    // archive's root (docker save links a layer it wrote before: "../<id>/layer.tar").
    std::string resolve(const std::string& raw, const std::string& dir,
                        const std::string& target) const {
        std::vector<std::string> parts;
        const std::string joined = dir.empty() ? target : dir + "/" + target;
        for (std::size_t start = 0; start <= joined.size();) {
            const std::size_t end = std::min(joined.find('/', start), joined.size());
            const std::string part = joined.substr(start, end - start);
            if (part == "..") {
                if (parts.empty()) {
                    fail(raw, fmt::format("symlink to \"{}\" leads outside the archive", target));
                }
                parts.pop_back();
            } else if (!part.empty() && part != ".") {
                parts.push_back(part);
            }
            start = end + 1;
        }
        std::string name;
        for (const std::string& part : parts) {
            name += (name.empty() ? "" : "/") + part;
        }
        return clean(name, "symlink target", raw);
    }

    void add_link(const std::string& raw, const std::string& name, std::string target) {
        if (target.empty() || target == name) {
            fail(raw, "links to itself or to the archive's root");
        }
        result_.links[name] = std::move(target);
    }

    std::string read_small(struct archive* reader, struct archive_entry* entry,
                           const std::string& raw) {
        if (archive_entry_size_is_set(entry) &&
            static_cast<std::uint64_t>(archive_entry_size(entry)) > kMaxJsonBytes) {
            fail(raw, fmt::format("larger than {} MiB", kMaxJsonBytes >> 20));
        }
        std::string text;
        char buffer[65536];
        while (true) {
            const la_ssize_t n = archive_read_data(reader, buffer, sizeof buffer);
            if (n < 0) {
                fail(raw, fmt::format("cannot read its data: {}", archive::error_text(reader)));
            }
            if (n == 0) {
                return text;
            }
            text.append(buffer, static_cast<std::size_t>(n));
            if (text.size() > kMaxJsonBytes) {
                fail(raw, fmt::format("larger than {} MiB", kMaxJsonBytes >> 20));
            }
        }
    }

    ScannedFile store(struct archive* reader, struct archive_entry* entry, const std::string& name,
                      const std::string& raw) {
        const std::string named = digest_named_by(name);
        const bool size_known = archive_entry_size_is_set(entry) != 0;
        const auto declared =
            static_cast<std::uint64_t>(size_known ? archive_entry_size(entry) : 0);
        // A blob already stored under the digest the name promises is only hashed, not written.
        const bool write = named.empty() || !size_known || !blobs_.has({named, declared, {}});
        const bool keep_json = declared <= kMaxJsonBytes && json_bytes_ + declared <= kJsonBudget;

        static std::atomic<unsigned> counter{0};
        const fs::path temporary =
            blobs_.root() / fmt::format(".incoming-{}-{}", ::getpid(), counter++);
        core::FileDescriptor fd;
        if (write) {
            std::error_code ec;
            fs::create_directories(blobs_.root() / "sha256", ec);
            if (ec) {
                throw file_error((blobs_.root() / "sha256").string(), "cannot create it",
                                 ec.value());
            }
            fd = core::FileDescriptor(
                ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
            if (fd.get() < 0) {
                throw file_error(temporary.string(), "cannot create it", errno);
            }
        }
        struct RemoveTemporary {
            const fs::path& path;
            bool armed;
            ~RemoveTemporary() {
                if (armed) {
                    ::unlink(path.c_str());
                }
            }
        } remove_temporary{temporary, write};

        core::Hasher hasher(core::HashKind::sha256);
        std::uint64_t size = 0;
        std::string json;
        std::unique_ptr<char[]> buffer(new char[kReadChunk]);
        while (true) {
            const la_ssize_t n = archive_read_data(reader, buffer.get(), kReadChunk);
            if (n < 0) {
                fail(raw, fmt::format("cannot read its data: {}", archive::error_text(reader)));
            }
            if (n == 0) {
                break;
            }
            const auto count = static_cast<std::size_t>(n);
            hasher.update(buffer.get(), count);
            size += count;
            if (keep_json && size <= kMaxJsonBytes) {
                json.append(buffer.get(), count);
            }
            for (std::size_t done = 0; write && done < count;) {
                const ssize_t w = ::write(fd.get(), buffer.get() + done, count - done);
                if (w < 0 && errno != EINTR) {
                    throw file_error(temporary.string(), "cannot write it", errno);
                }
                done += w > 0 ? static_cast<std::size_t>(w) : 0;
            }
        }
        ScannedFile file{"sha256:" + hasher.hex_digest(), size, std::nullopt};
        if (!named.empty() && file.digest != named) {
            fail(raw, fmt::format("its content has the digest {}, not the one its name says",
                                  file.digest));
        }
        if (keep_json && size <= kMaxJsonBytes && looks_like_json(json)) {
            json_bytes_ += json.size();
            file.json = std::move(json);
        }
        if (write) {
            if (::fsync(fd.get()) != 0 || fd.close() != 0) {
                throw file_error(temporary.string(), "cannot write it", errno);
            }
            const fs::path final_path = blobs_.path(file.digest);
            if (!blobs_.has({file.digest, file.size, {}})) {
                if (::rename(temporary.c_str(), final_path.c_str()) != 0) {
                    throw file_error(final_path.string(), "cannot store the blob", errno);
                }
                remove_temporary.armed = false;
                result_.created.add(final_path);
            }
        }
        return file;
    }

    const fs::path& archive_;
    const BlobDir& blobs_;
    ScannedArchive result_;
    std::uint64_t json_bytes_ = 0;
    std::uint64_t entries_ = 0;
};

}  // namespace

void support_compressions(struct archive* reader) {
    archive_read_support_filter_gzip(reader);
    archive_read_support_filter_bzip2(reader);
    archive_read_support_filter_xz(reader);
    archive_read_support_filter_zstd(reader);
}

const char* entry_name(struct archive_entry* entry) {
    const char* utf8 = archive_entry_pathname_utf8(entry);
    return utf8 != nullptr ? utf8 : archive_entry_pathname(entry);
}

const char* entry_hardlink(struct archive_entry* entry) {
    const char* utf8 = archive_entry_hardlink_utf8(entry);
    return utf8 != nullptr ? utf8 : archive_entry_hardlink(entry);
}

CreatedBlobs::~CreatedBlobs() {
    for (const fs::path& path : paths_) {
        ::unlink(path.c_str());
    }
}

const ScannedFile* ScannedArchive::find(const std::string& name) const {
    std::string current = name;
    // Links may name links; a bound stops a cycle.
    for (int hops = 0; hops < 16; ++hops) {
        if (const auto file = files.find(current); file != files.end()) {
            return &file->second;
        }
        const auto link = links.find(current);
        if (link == links.end()) {
            return nullptr;
        }
        current = link->second;
    }
    return nullptr;
}

ScannedArchive scan_image_archive(const fs::path& archive, const BlobDir& blobs) {
    return Scanner(archive, blobs).run();
}

}  // namespace ferry::image
