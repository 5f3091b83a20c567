// A layer's tar read through two libarchive readers: the outer one undoes the compression (raw
// format) and hands the bytes to the inner one (tar format), hashing them on the way.
//
// What a layer entry may be: any type a tar of a root file system holds (files, directories,
// symlinks with any target, hardlinks, devices, fifos). Layers are never extracted by ferry; a
// container engine applies them inside a container's root, where an absolute symlink target means
// the container's own root and device nodes are subject to the engine's device rules. Names and
// hardlink targets are what could reach outside that root when a layer is applied, so those are
// refused when absolute or when they have a '..' component.
#include "image/layer_check.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <memory>

#include "archive/error_text.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "image/archive_scan.hpp"

namespace ferry::image {

namespace {

using Reader = std::unique_ptr<struct archive, decltype(&archive_read_free)>;


// The decompressed bytes, pulled by the tar reader, hashed as they pass.
struct Decompressed {
    struct archive* outer = nullptr;
    core::Hasher hasher{core::HashKind::sha256};
    std::unique_ptr<char[]> buffer{new char[kReadChunk]};
    std::string error;

    static la_ssize_t read(struct archive* inner, void* data, const void** block) {
        auto* self = static_cast<Decompressed*>(data);
        const la_ssize_t n = archive_read_data(self->outer, self->buffer.get(), kReadChunk);
        if (n < 0) {
            self->error = archive::error_text(self->outer);
            archive_set_error(inner, EIO, "%s", self->error.c_str());
            return -1;
        }
        self->hasher.update(self->buffer.get(), static_cast<std::size_t>(n));
        *block = self->buffer.get();
        return n;
    }
};

// Why a name from a layer may not be applied, or "".
std::string_view name_problem(std::string_view name) {
    if (name.starts_with('/')) {
        return "is absolute; layer entries are relative to the image root";
    }
    for (std::size_t start = 0; start <= name.size();) {
        const std::size_t end = std::min(name.find('/', start), name.size());
        if (name.substr(start, end - start) == "..") {
            return "leaves the image root";
        }
        start = end + 1;
    }
    if (name.find('\0') != std::string_view::npos) {
        return "contains a NUL byte";
    }
    return {};
}

// Checks every entry of the tar reader reads (which is open), reading or skipping its data.
void check_entries(struct archive* reader, std::string_view what) {
    struct archive_entry* entry = nullptr;
    std::string previous;
    while (true) {
        const int status = archive_read_next_header(reader, &entry);
        if (status == ARCHIVE_EOF) {
            return;
        }
        if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
            if (previous.empty()) {
                throw Error::format("{}: not a tar (a layer is a tar, plain or compressed): {}",
                                    what, archive::error_text(reader));
            }
            throw Error::format("{}: cannot read the entry after \"{}\": {}", what, previous,
                                archive::error_text(reader));
        }
        const char* raw = entry_name(entry);
        previous = raw != nullptr ? raw : "";
        if (previous.empty()) {
            throw Error::format("{}: an entry has no name", what);
        }
        if (const std::string_view problem = name_problem(previous); !problem.empty()) {
            throw Error::format("{}: entry \"{}\" {}", what, previous, problem);
        }
        if (const char* hardlink = entry_hardlink(entry); hardlink != nullptr) {
            if (const std::string_view problem = name_problem(hardlink); !problem.empty()) {
                throw Error::format("{}: entry \"{}\": hardlink target \"{}\" {}", what, previous,
                                    hardlink, problem);
            }
        } else {
            switch (archive_entry_filetype(entry)) {
                case AE_IFREG:
                case AE_IFDIR:
                case AE_IFLNK:
                case AE_IFCHR:
                case AE_IFBLK:
                case AE_IFIFO:
                    break;
                default:
                    throw Error::format("{}: entry \"{}\" has a type a layer cannot hold", what,
                                        previous);
            }
        }
        if (archive_read_data_skip(reader) != ARCHIVE_OK) {
            throw Error::format("{}: entry \"{}\": cannot read its data: {}", what, previous,
                                archive::error_text(reader));
        }
    }
}

}  // namespace

LayerFacts check_layer(const fs::path& blob, std::string_view digest, std::string_view what) {
    Reader outer(archive_read_new(), &archive_read_free);
    if (!outer) {
        throw Error::format("{}: cannot allocate an archive reader", what);
    }
    support_compressions(outer.get());
    archive_read_support_format_raw(outer.get());
    struct archive_entry* entry = nullptr;
    if (archive_read_open_filename(outer.get(), blob.c_str(), kReadChunk) != ARCHIVE_OK ||
        archive_read_next_header(outer.get(), &entry) != ARCHIVE_OK) {
        throw Error::format("{}: cannot read it: {}", what, archive::error_text(outer.get()));
    }
    LayerFacts facts;
    if (archive_filter_count(outer.get()) > 1 &&
        archive_filter_code(outer.get(), 0) != ARCHIVE_FILTER_NONE) {
        facts.compression = archive_filter_code(outer.get(), 0) == ARCHIVE_FILTER_GZIP
                                ? "gzip"
                                : archive_filter_name(outer.get(), 0);
    }

    if (facts.compression.empty()) {
        // A plain tar is its own diff_id, and its entries' data can be skipped by seeking.
        Reader tar(archive_read_new(), &archive_read_free);
        if (!tar) {
            throw Error::format("{}: cannot allocate an archive reader", what);
        }
        archive_read_support_format_tar(tar.get());
        if (archive_read_open_filename(tar.get(), blob.c_str(), kReadChunk) != ARCHIVE_OK) {
            throw Error::format("{}: not a tar (a layer is a tar, plain or compressed): {}", what,
                                archive::error_text(tar.get()));
        }
        check_entries(tar.get(), what);
        facts.diff_id = digest;
        return facts;
    }

    Reader inner(archive_read_new(), &archive_read_free);
    if (!inner) {
        throw Error::format("{}: cannot allocate an archive reader", what);
    }
    Decompressed data;
    data.outer = outer.get();
    archive_read_support_format_tar(inner.get());
    if (archive_read_open(inner.get(), &data, nullptr, &Decompressed::read, nullptr) !=
        ARCHIVE_OK) {
        throw Error::format("{}: not a tar (a layer is a tar, plain or compressed): {}", what,
                            archive::error_text(inner.get()));
    }
    check_entries(inner.get(), what);
    // The tar's end may leave padding unread; the diff_id covers every byte.
    while (true) {
        const la_ssize_t n = archive_read_data(outer.get(), data.buffer.get(), kReadChunk);
        if (n < 0) {
            throw Error::format("{}: cannot read it: {}", what, archive::error_text(outer.get()));
        }
        if (n == 0) {
            break;
        }
        data.hasher.update(data.buffer.get(), static_cast<std::size_t>(n));
    }
    facts.diff_id = "sha256:" + data.hasher.hex_digest();
    return facts;
}

}  // namespace ferry::image
