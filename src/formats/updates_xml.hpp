// The repository index: IFW's Updates.xml, read and written, plus ferry's own additions
// (SHA-256 and byte size of every archive) in element names IFW does not use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/component.hpp"

namespace ferry::formats {

// One file of the repository as ferry records it: <FerryArchive name size sha1 sha256/>.
struct ArchiveRecord {
    std::string name;  // the name as DownloadableArchives lists it ("content.7z"), or a path
    std::uint64_t size = 0;
    std::string sha1;
    std::string sha256;
    // SHA-256 over what went into the archive (entry names, modes, contents, format, level):
    // lets repogen reuse an archive whose input did not change. Empty when unknown.
    std::string input_sha256;
    bool operator==(const ArchiveRecord&) const = default;
};

// Files of an earlier version that repogen keeps so that clients holding an older Updates.xml
// still find them (--keep): <FerryRetained version=".." files="A/1.0content.7z,..."/>.
struct RetainedVersion {
    std::string version;             // empty for the root's united metadata
    std::vector<std::string> files;  // repository-relative paths
    bool operator==(const RetainedVersion&) const = default;
};

// One blob of a container image as a repository holds it: the file images/sha256/<hex>, shared
// by every component that uses it (formats know nothing of images beyond these records).
struct ImageBlobRecord {
    std::string digest;  // "sha256:<64 lowercase hex>"
    std::uint64_t size = 0;
    std::string media_type;
    bool operator==(const ImageBlobRecord&) const = default;
};

// What makes a component a service (docs/SERVICES.md): its description, the file
// <Name>/<Version>service.json, and the image it runs, whose registry manifest and blobs are
// files of the repository:
//   <FerryService name="service.json" size sha1 sha256/>
//   <FerryImage reference=".." digest=".." size=".." media-type=".."><Blob .../>...</FerryImage>
struct ServiceRecord {
    ArchiveRecord description;
    std::string image;                   // the reference the description names
    ImageBlobRecord manifest;            // the registry manifest
    std::vector<ImageBlobRecord> blobs;  // the config, then the layers, bottom first
    bool operator==(const ServiceRecord&) const = default;
};

struct PackageUpdate {
    ComponentDescription component;
    // <UpdateFile CompressedSize UncompressedSize OS/>
    std::uint64_t compressed_size = 0;
    std::uint64_t uncompressed_size = 0;
    std::string os = "Any";
    std::string meta_sha1;  // <SHA1>: the component's meta archive; empty when absent
    // ferry's additions, absent in IFW-made repositories.
    std::vector<ArchiveRecord> archives;  // the data archives, in DownloadableArchives order
    std::optional<ArchiveRecord> meta_archive;
    std::vector<RetainedVersion> retained;  // newest first
    std::optional<ServiceRecord> service;   // set for a service component
    bool operator==(const PackageUpdate&) const = default;
};

struct RepositoryAction {
    enum class Kind { add, remove, replace };
    Kind kind = Kind::add;
    std::string url;      // add, remove
    std::string old_url;  // replace
    std::string new_url;  // replace
    std::string username;
    std::string password;
    std::string display_name;
    bool operator==(const RepositoryAction&) const = default;
};

// Which market revision an index is: <FerryRevision app=".." major=".." number=".."/>. A market
// writes it into every Updates.xml it serves, so that the repository itself says what was
// published last, even if the process died before its catalog recorded it.
struct RevisionStamp {
    std::string app;
    std::string major;
    int number = 0;
    bool operator==(const RevisionStamp&) const = default;
};

struct RepositoryIndex {
    std::string application_name = "{AnyApplication}";
    std::string application_version = "1.0.0";
    bool checksum = true;                   // <Checksum>: data archives have .sha1 sidecars
    std::optional<RevisionStamp> revision;  // ferry's market revision, when a market wrote it
    std::vector<RepositoryAction> repository_updates;
    std::vector<PackageUpdate> packages;
    // United metadata: <SHA1> + <MetadataName> at the root; empty when absent.
    std::string metadata_sha1;
    std::string metadata_name;
    std::optional<ArchiveRecord> metadata_archive;   // ferry's addition for the united metadata
    std::vector<RetainedVersion> retained_metadata;  // earlier united metadata files kept
    bool operator==(const RepositoryIndex&) const = default;

    const PackageUpdate* find(std::string_view name) const;
};

// Writes the index with a stable element and attribute order (the same index gives the same
// bytes): XML declaration, one-space indentation as IFW writes it; see updates_xml_write.cpp for
// the layout.
std::string write_updates_xml(const RepositoryIndex& index);

// Reads an index written by ferry or by IFW: any element order, unknown elements ignored, with
// or without an XML declaration. Rejects what IFW rejects (empty ApplicationName or
// ApplicationVersion; a PackageUpdate without Name, Version or ReleaseDate). Errors name
// source_name, the line and the cause.
// The largest Updates.xml ferry reads from a file: far more than 100,000 components need.
inline constexpr std::uint64_t kMaxUpdatesXmlBytes = 256u << 20;

RepositoryIndex parse_updates_xml(std::string_view xml_text, std::string_view source_name);

std::string_view to_string(RepositoryAction::Kind kind);

}  // namespace ferry::formats
