// The names that a repository turns into file names, paths and URLs: component names, versions,
// archive and metadata file names, meta files. One rule per kind, checked where package.xml and
// Updates.xml are read, so that no name reaches a path (in repogen or in the client) unchecked.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ferry::formats {

enum class NameKind {
    // A component's name: the directory <Name>/ of the repository and of a packages tree.
    component,
    // A component's Version: the prefix of its file names, <Name>/<Version>content.7z.
    version,
    // One file name of the repository (a DownloadableArchives entry, MetadataName).
    archive,
    // A file inside a component's metadata (Script, License file, UserInterface, Translation):
    // a relative path, which may have directories, that stays inside the metadata.
    meta_file,
};

// How a character is named in messages: "a space", "a control character (0x07)",
// "a non-ASCII character", "'/'".
std::string describe_character(char c);

// "component name", "Version", "archive name", "meta file name".
std::string_view to_string(NameKind kind);

// nullopt when text is a valid name of the kind; else why not, as a phrase that completes
// `Version "1/2" ...` ("contains '/' (a version is part of file names: ...)").
std::optional<std::string> name_problem(NameKind kind, std::string_view text);

// Where a repository keeps the blobs of container images: images/sha256/<64 lowercase hex>.
inline constexpr std::string_view kImageBlobPrefix = "images/sha256/";

// nullopt when path is a repository-relative file path ("A/1.0content.7z", "stamp_meta.7z")
// whose directory is a valid component name and whose file is a valid archive name, or an image
// blob (kImageBlobPrefix and a SHA-256).
std::optional<std::string> repository_path_problem(std::string_view path);

}  // namespace ferry::formats
