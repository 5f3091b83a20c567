#include "client/installation.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/error.hpp"
#include "core/files.hpp"

namespace ferry::client {

fs::path TargetPaths::record(std::string_view component) const {
    return records() / (std::string(component) + ".json");
}

namespace {

core::FileLock lock_target(const TargetPaths& paths) {
    std::string holder;
    auto lock = core::FileLock::try_lock(paths.lock(), holder);
    if (!lock) {
        throw Error::format(
            ErrorKind::conflict,
            "{}: another ferry process{} is working on this installation; wait for it to finish "
            "and try again",
            paths.root.string(), holder.empty() ? "" : " (pid " + holder + ")");
    }
    return std::move(*lock);
}

}  // namespace

TargetLock::TargetLock(const TargetPaths& paths) : lock_(lock_target(paths)) {}

Installation Installation::open(const fs::path& root, bool create) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        if (!create) {
            throw Error::format("{}: no installation here (the directory does not exist)",
                                root.string());
        }
        fs::create_directories(root, ec);
        if (ec) {
            throw Error::format("{}: cannot create the target directory: {}", root.string(),
                                ec.message());
        }
    }
    Installation installation;
    installation.paths_.root = fs::absolute(root).lexically_normal();
    if (installation.paths_.root.filename().empty()) {
        installation.paths_.root = installation.paths_.root.parent_path();
    }
    const TargetPaths& paths = installation.paths_;
    if (!fs::is_directory(paths.state(), ec)) {
        if (!create && !fs::exists(paths.components_xml(), ec)) {
            throw Error::format("{}: no installation here (neither components.xml nor .ferry/)",
                                root.string());
        }
        fs::create_directories(paths.state(), ec);
        if (ec) {
            throw Error::format("{}: cannot create ferry's state directory: {}",
                                paths.state().string(), ec.message());
        }
    }
    struct stat root_stat {};
    struct stat state_stat {};
    if (::stat(paths.root.c_str(), &root_stat) == 0 &&
        ::stat(paths.state().c_str(), &state_stat) == 0 && root_stat.st_dev != state_stat.st_dev) {
        throw Error::format(
            "{}: {} is on another file system than the target; ferry needs both on one to "
            "apply changes atomically",
            root.string(), paths.state().string());
    }
    for (const fs::path& dir : {paths.records(), paths.staging(), paths.rollback()}) {
        fs::create_directories(dir, ec);
        if (ec) {
            throw Error::format("{}: cannot create: {}", dir.string(), ec.message());
        }
    }
    return installation;
}

formats::InstalledComponents Installation::components() const {
    std::error_code ec;
    if (!fs::exists(paths_.components_xml(), ec)) {
        return {};
    }
    const std::string path = paths_.components_xml().string();
    return formats::parse_components_xml(core::read_file(paths_.components_xml()), path);
}

std::optional<FileRecord> Installation::record(std::string_view component) const {
    const fs::path path = paths_.record(component);
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return std::nullopt;
    }
    return parse_file_record(core::read_file(path), path.string());
}

std::optional<formats::InstalledComponent> Installation::rollback_entry(
    std::string_view component) const {
    const fs::path entry = kept_entry(paths_.rollback_of(component));
    std::error_code ec;
    if (!fs::exists(entry, ec)) {
        return std::nullopt;
    }
    auto kept = formats::parse_components_xml(core::read_file(entry), entry.string());
    if (kept.components.size() != 1) {
        throw Error::format("{}: expected one component, found {}", entry.string(),
                            kept.components.size());
    }
    return kept.components.front();
}

std::vector<std::string> Installation::rollback_names() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& dir : fs::directory_iterator(paths_.rollback(), ec)) {
        if (fs::exists(kept_entry(dir.path()))) {
            names.push_back(dir.path().filename().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace ferry::client
