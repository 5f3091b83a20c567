#include "client/file_record.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "client/installation.hpp"
#include "core/confined_dir.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/json_error.hpp"

namespace ferry::client {

namespace {

using Json = nlohmann::json;

InstalledFile::Type parse_type(const std::string& text, std::string_view source_name) {
    for (auto type : {InstalledFile::Type::file, InstalledFile::Type::directory,
                      InstalledFile::Type::symlink}) {
        if (text == to_string(type)) {
            return type;
        }
    }
    throw Error::format("{}: unknown file type \"{}\"", source_name, text);
}

void sort_unique(std::vector<InstalledFile>& files) {
    // Stable, so that of two entries for one path the later one is kept.
    std::stable_sort(files.begin(), files.end(),
                     [](const auto& a, const auto& b) { return a.path < b.path; });
    std::vector<InstalledFile> unique;
    for (auto& file : files) {
        if (!unique.empty() && unique.back().path == file.path) {
            unique.back() = std::move(file);
        } else {
            unique.push_back(std::move(file));
        }
    }
    files = std::move(unique);
}

}  // namespace

const InstalledFile* FileRecord::find(std::string_view path) const {
    auto it =
        std::lower_bound(files.begin(), files.end(), path,
                         [](const InstalledFile& f, std::string_view p) { return f.path < p; });
    return it != files.end() && it->path == path ? &*it : nullptr;
}

FileRecord record_extraction(std::string component, std::string version,
                             const std::vector<archive::ExtractedEntry>& entries) {
    FileRecord record{std::move(component), std::move(version), {}};
    std::map<std::string, InstalledFile> by_path;
    for (const auto& entry : entries) {
        InstalledFile file;
        file.path = entry.path;
        switch (entry.type) {
            case archive::ExtractedEntry::Type::directory:
                file.type = InstalledFile::Type::directory;
                break;
            case archive::ExtractedEntry::Type::symlink:
                file.type = InstalledFile::Type::symlink;
                file.link = entry.link;
                break;
            case archive::ExtractedEntry::Type::file:
                file.size = entry.size;
                file.executable = entry.executable;
                file.sha256 = entry.sha256;
                break;
            case archive::ExtractedEntry::Type::hardlink: {
                auto target = by_path.find(entry.link);
                if (target == by_path.end()) {
                    throw Error::format("hardlink {} to {}: the target was not extracted before",
                                        entry.path, entry.link);
                }
                file = target->second;
                file.path = entry.path;
                break;
            }
        }
        by_path[file.path] = file;
    }
    // Parents count as installed directories even when the archive has no entries for them,
    // so that removing the component removes them too (when nothing else is in them).
    std::vector<std::string> parents;
    for (const auto& [path, file] : by_path) {
        for (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0;
             slash = path.rfind('/', slash - 1)) {
            parents.push_back(path.substr(0, slash));
        }
    }
    for (auto& parent : parents) {
        auto [it, added] = by_path.try_emplace(parent);
        if (added) {
            it->second.path = parent;
            it->second.type = InstalledFile::Type::directory;
        }
    }
    for (auto& [path, file] : by_path) {
        record.files.push_back(std::move(file));
    }
    return record;
}

void merge_record(FileRecord& record, const FileRecord& other) {
    record.files.insert(record.files.end(), other.files.begin(), other.files.end());
    sort_unique(record.files);
}

std::string write_file_record(const FileRecord& record) {
    Json files = Json::array();
    for (const auto& file : record.files) {
        Json item = {{"path", file.path}, {"type", to_string(file.type)}};
        if (file.type == InstalledFile::Type::file) {
            item["size"] = file.size;
            item["sha256"] = file.sha256;
            if (file.executable) {
                item["executable"] = true;
            }
        } else if (file.type == InstalledFile::Type::symlink) {
            item["link"] = file.link;
        }
        files.push_back(std::move(item));
    }
    Json json = {
        {"component", record.component}, {"version", record.version}, {"files", std::move(files)}};
    return json.dump(1) + "\n";
}

FileRecord parse_file_record(std::string_view json_text, std::string_view source_name) {
    try {
        Json json = Json::parse(json_text);
        FileRecord record;
        record.component = json.at("component").get<std::string>();
        check_component_name(record.component);
        record.version = json.at("version").get<std::string>();
        for (const Json& item : json.at("files")) {
            InstalledFile file;
            file.path = item.at("path").get<std::string>();
            // Removing the component deletes what its record names: only its own files.
            installable_path(file.path);
            file.type = parse_type(item.at("type").get<std::string>(), source_name);
            file.size = item.value("size", std::uint64_t{0});
            file.sha256 = item.value("sha256", "");
            file.executable = item.value("executable", false);
            file.link = item.value("link", "");
            record.files.push_back(std::move(file));
        }
        sort_unique(record.files);
        return record;
    } catch (const Json::exception& e) {
        throw Error::format("{}: not a valid file record: {}", source_name,
                            core::json_error_text(e));
    } catch (const Error& e) {
        throw Error::format("{}: not a valid file record: {}", source_name, e.what());
    }
}

std::vector<FileProblem> verify_record(const std::filesystem::path& root,
                                       const FileRecord& record) {
    std::vector<FileProblem> problems;
    auto report = [&](const InstalledFile& file, FileProblem::Kind kind, std::string detail) {
        problems.push_back({record.component, file.path, kind, std::move(detail)});
    };
    const core::ConfinedDir target(root);
    for (const auto& file : record.files) {
        const core::RelativePath path = installable_path(file.path);
        std::optional<struct stat> st;
        try {
            st = target.status(path);
        } catch (const Error& e) {
            report(file, FileProblem::Kind::wrong_type, e.what());  // a symlink on the way
            continue;
        }
        if (!st) {
            report(file, FileProblem::Kind::missing, errno_text(ENOENT));
            continue;
        }
        switch (file.type) {
            case InstalledFile::Type::directory:
                if (!S_ISDIR(st->st_mode)) {
                    report(file, FileProblem::Kind::wrong_type, "no longer a directory");
                }
                break;
            case InstalledFile::Type::symlink: {
                if (!S_ISLNK(st->st_mode)) {
                    report(file, FileProblem::Kind::wrong_type, "no longer a symlink");
                    break;
                }
                const std::string link = target.read_link(path);
                if (link != file.link) {
                    report(file, FileProblem::Kind::modified,
                           fmt::format("points to \"{}\", installed as \"{}\"", link, file.link));
                }
                break;
            }
            case InstalledFile::Type::file: {
                if (!S_ISREG(st->st_mode)) {
                    report(file, FileProblem::Kind::wrong_type, "no longer a regular file");
                    break;
                }
                if (static_cast<std::uint64_t>(st->st_size) != file.size) {
                    report(file, FileProblem::Kind::modified,
                           fmt::format("size {}, installed with {}", st->st_size, file.size));
                    break;
                }
                if (((st->st_mode & 0100) != 0) != file.executable) {
                    report(file, FileProblem::Kind::modified,
                           file.executable ? "no longer executable" : "now executable");
                    break;
                }
                core::Hasher sha256(core::HashKind::sha256);
                core::hash_file(target.open_for_reading(path).get(), target.show(path), {&sha256});
                if (sha256.hex_digest() != file.sha256) {
                    report(file, FileProblem::Kind::modified, "content changed");
                }
                break;
            }
        }
    }
    return problems;
}

std::string_view to_string(FileProblem::Kind kind) {
    switch (kind) {
        case FileProblem::Kind::missing:
            return "missing";
        case FileProblem::Kind::modified:
            return "modified";
        case FileProblem::Kind::wrong_type:
            return "wrong type";
    }
    return "?";
}

std::string_view to_string(InstalledFile::Type type) {
    switch (type) {
        case InstalledFile::Type::file:
            return "file";
        case InstalledFile::Type::directory:
            return "directory";
        case InstalledFile::Type::symlink:
            return "symlink";
    }
    return "?";
}

}  // namespace ferry::client
