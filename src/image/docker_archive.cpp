// write_docker_archive: `docker load`'s input, streamed. docker load reads manifest.json's Layers
// as tars it decompresses itself (plain or gzip) and checks them against the config's diff_ids,
// so every blob is written exactly as it is stored, once, however many images share it.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "archive/error_text.hpp"
#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/file_error.hpp"
#include "core/files.hpp"
#include "image/image.hpp"

namespace ferry::image {

namespace {

using Writer = std::unique_ptr<struct archive, decltype(&archive_write_free)>;
using Entry = std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)>;

constexpr std::size_t kIoChunk = 1u << 20;

std::string hex_of(const std::string& digest) {
    return digest.substr(7);
}

// A tar header, and the end of the archive: two zero blocks.
constexpr std::uint64_t kBlock = 512;
// What a ustar header holds without a pax extension: names up to 100 bytes, sizes below 8 GiB.
constexpr std::size_t kUstarName = 100;
constexpr std::uint64_t kUstarSize = std::uint64_t{1} << 33;

class DockerArchiveWriter {
  public:
    explicit DockerArchiveWriter(const core::ByteSink& sink)
        : writer_(archive_write_new(), &archive_write_free), sink_(sink) {
        if (!writer_) {
            throw Error("cannot allocate an archive writer", ErrorKind::internal);
        }
        mtime_ = core::reproducible_mtime();
        archive_write_set_format_pax_restricted(writer_.get());
        // A pipe takes what it is given; no padding of the last block to 10 KiB is needed (and
        // docker_archive_size counts on there being none).
        archive_write_set_bytes_in_last_block(writer_.get(), 1);
        // Blobs pass to the sink in the pieces they are read in, not re-blocked by 10 KiB.
        archive_write_set_bytes_per_block(writer_.get(), static_cast<int>(kIoChunk));
        if (archive_write_open2(writer_.get(), this, nullptr, &DockerArchiveWriter::on_write,
                                nullptr, nullptr) != ARCHIVE_OK) {
            fail("cannot start it");
        }
    }

    [[noreturn]] void fail(std::string_view doing) const {
        if (sink_failure_) {
            std::rethrow_exception(sink_failure_);
        }
        throw Error::format(ErrorKind::storage, "writing the docker archive: {}: {}", doing,
                            archive::error_text(writer_.get()));
    }

    void directory(const std::string& name) {
        Entry entry = header(name, AE_IFDIR, 0755, 0);
        if (archive_write_header(writer_.get(), entry.get()) != ARCHIVE_OK) {
            fail(name);
        }
    }

    void text(const std::string& name, const std::string& content) {
        Entry entry = header(name, AE_IFREG, 0644, content.size());
        if (archive_write_header(writer_.get(), entry.get()) != ARCHIVE_OK ||
            archive_write_data(writer_.get(), content.data(), content.size()) !=
                static_cast<la_ssize_t>(content.size())) {
            fail(name);
        }
    }

    void blob(const std::string& name, const Blob& blob, const fs::path& path) {
        core::FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        struct stat st {};
        if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
            throw file_error(path.string(), "cannot read the blob", errno);
        }
        if (static_cast<std::uint64_t>(st.st_size) != blob.size) {
            throw Error::format(ErrorKind::storage, "{}: blob {} has {} bytes, not {}",
                                path.string(), blob.digest, st.st_size, blob.size);
        }
        Entry entry = header(name, AE_IFREG, 0644, blob.size);
        if (archive_write_header(writer_.get(), entry.get()) != ARCHIVE_OK) {
            fail(name);
        }
        std::unique_ptr<char[]> buffer(new char[kIoChunk]);
        std::uint64_t left = blob.size;
        while (left > 0) {
            const ssize_t n =
                ::read(fd.get(), buffer.get(), std::min<std::uint64_t>(left, kIoChunk));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                throw n < 0
                    ? file_error(path.string(), "cannot read the blob", errno)
                    : Error::format(ErrorKind::storage, "{}: the blob ended early", path.string());
            }
            if (archive_write_data(writer_.get(), buffer.get(), static_cast<std::size_t>(n)) != n) {
                fail(name);
            }
            left -= static_cast<std::uint64_t>(n);
        }
    }

    void close() {
        if (archive_write_close(writer_.get()) != ARCHIVE_OK) {
            fail("cannot finish it");
        }
    }

  private:
    static la_ssize_t on_write(struct archive* a, void* self, const void* data, size_t size) {
        auto* writer = static_cast<DockerArchiveWriter*>(self);
        try {
            writer->sink_(static_cast<const char*>(data), size);
            return static_cast<la_ssize_t>(size);
        } catch (...) {
            // Rethrown once libarchive has given up on the write.
            writer->sink_failure_ = std::current_exception();
            archive_set_error(a, EIO, "the output refused the data");
            return -1;
        }
    }

    Entry header(const std::string& name, unsigned type, int mode, std::uint64_t size) const {
        Entry entry(archive_entry_new(), &archive_entry_free);
        archive_entry_set_pathname(entry.get(), name.c_str());
        archive_entry_set_filetype(entry.get(), type);
        archive_entry_set_perm(entry.get(), mode);
        archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
        archive_entry_set_mtime(entry.get(), mtime_, 0);
        archive_entry_set_uid(entry.get(), 0);
        archive_entry_set_gid(entry.get(), 0);
        return entry;
    }

    Writer writer_;
    const core::ByteSink& sink_;
    std::exception_ptr sink_failure_;
    std::int64_t mtime_ = 0;
};

void check_tag(const std::string& tag) {
    const bool printable = std::all_of(tag.begin(), tag.end(), [](char c) {
        return static_cast<unsigned char>(c) > ' ' && c != 0x7f;
    });
    if (tag.empty() || !printable) {
        throw Error::format("\"{}\" is not an image tag (name:tag, no spaces)", tag);
    }
}

// The archive's entries in order: manifest.json, then each config and layer once.
struct PlannedEntry {
    std::string name;
    std::string text;            // manifest.json
    const Blob* blob = nullptr;  // a config or layer
    bool directory = false;      // a layer's folder
    std::uint64_t size() const { return blob != nullptr ? blob->size : text.size(); }
};

// Checks every image against blobs before anything is written (a reader of a pipe cannot
// unread) and lists the entries.
std::vector<PlannedEntry> plan_archive(const std::vector<TaggedImage>& images,
                                       const BlobDir& blobs) {
    nlohmann::ordered_json manifest = nlohmann::ordered_json::array();
    for (const TaggedImage& tagged : images) {
        check_tag(tagged.tag);
        auto check = [&](const Blob& blob, const std::string& what) {
            if (!blobs.has(blob)) {
                throw Error::format(ErrorKind::not_found,
                                    "{}: the {} {} of image {} ({} bytes) is not in the blobs",
                                    blobs.root().string(), what, blob.digest, tagged.tag,
                                    blob.size);
            }
        };
        check(tagged.image.config, "config");
        nlohmann::ordered_json item;
        item["Config"] = hex_of(tagged.image.config.digest) + ".json";
        item["RepoTags"] = nlohmann::ordered_json::array({tagged.tag});
        item["Layers"] = nlohmann::ordered_json::array();
        for (std::size_t i = 0; i < tagged.image.layers.size(); ++i) {
            check(tagged.image.layers[i], fmt::format("layer {}", i));
            item["Layers"].push_back(hex_of(tagged.image.layers[i].digest) + "/layer.tar");
        }
        manifest.push_back(std::move(item));
    }
    std::vector<PlannedEntry> plan{{"manifest.json", manifest.dump()}};
    std::set<std::string> written;
    for (const TaggedImage& tagged : images) {
        const Blob& config = tagged.image.config;
        if (written.insert(config.digest).second) {
            plan.push_back({hex_of(config.digest) + ".json", {}, &config});
        }
        for (const Blob& layer : tagged.image.layers) {
            if (written.insert(layer.digest).second) {
                plan.push_back({hex_of(layer.digest) + "/", {}, nullptr, true});
                plan.push_back({hex_of(layer.digest) + "/layer.tar", {}, &layer});
            }
        }
    }
    return plan;
}

}  // namespace

std::uint64_t docker_archive_size(const std::vector<TaggedImage>& images, const BlobDir& blobs) {
    std::uint64_t size = 2 * kBlock;
    for (const PlannedEntry& entry : plan_archive(images, blobs)) {
        if (entry.name.size() > kUstarName || entry.size() >= kUstarSize) {
            throw Error::format("{}: a {}-byte blob does not fit a tar entry of a known size",
                                entry.name, entry.size());
        }
        size += kBlock + (entry.size() + kBlock - 1) / kBlock * kBlock;
    }
    return size;
}

void write_docker_archive(const std::vector<TaggedImage>& images, const BlobDir& blobs,
                          const core::ByteSink& sink) {
    const std::vector<PlannedEntry> plan = plan_archive(images, blobs);
    DockerArchiveWriter writer(sink);
    for (const PlannedEntry& entry : plan) {
        if (entry.directory) {
            writer.directory(entry.name);
        } else if (entry.blob != nullptr) {
            writer.blob(entry.name, *entry.blob, blobs.path(entry.blob->digest));
        } else {
            writer.text(entry.name, entry.text);
        }
    }
    writer.close();
}

void write_docker_archive(const std::vector<TaggedImage>& images, const BlobDir& blobs,
                          int output_fd) {
    write_docker_archive(images, blobs, [output_fd](const char* data, std::size_t size) {
        core::write_all(output_fd, data, size, "the docker archive's output");
    });
}

}  // namespace ferry::image
