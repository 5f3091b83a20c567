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

namespace {

// Whether path is a directory (following symlinks: the root may be one); false when nothing is
// there. Any other failure, a permission denied above all, is an error and not "absent".
bool is_directory_or_absent(const fs::path& path) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
        throw Error::format(ErrorKind::storage, "{}: cannot inspect: {}", path.string(),
                            ec.message());
    }
    return fs::is_directory(status);
}

}  // namespace

bool is_reserved(const core::RelativePath& path) {
    const std::string_view first = path.first();
    for (std::string_view reserved : kReservedNames) {
        if (first == reserved) {
            return true;
        }
    }
    return false;
}

core::RelativePath installable_path(std::string_view text) {
    core::RelativePath path = core::RelativePath::parse(text);
    if (is_reserved(path)) {
        throw Error::format("the path \"{}\" is the installation's own ({} holds ferry's state and "
                            "{} IFW's); no component may install it",
                            text, kStateDirName, kComponentsXmlName);
    }
    return path;
}

void check_component_name(std::string_view name) {
    core::check_file_name(name, "component name");
}

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
    if (!is_directory_or_absent(root)) {
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
    if (!is_directory_or_absent(paths.state())) {
        if (!create && !core::read_file_if_exists(paths.components_xml())) {
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
    const std::string path = paths_.components_xml().string();
    const auto text = core::read_file_if_exists(paths_.components_xml());
    if (!text) {
        return {};
    }
    formats::InstalledComponents installed = formats::parse_components_xml(*text, path);
    // Each name becomes a file name in the state directory (records, rollback copies).
    for (const auto& component : installed.components) {
        try {
            check_component_name(component.name);
        } catch (const Error& e) {
            throw Error::format("{}: {}", path, e.what());
        }
    }
    return installed;
}

std::optional<FileRecord> Installation::record(std::string_view component) const {
    check_component_name(component);
    const fs::path path = paths_.record(component);
    const auto text = core::read_file_if_exists(path);
    if (!text) {
        return std::nullopt;
    }
    FileRecord record = parse_file_record(*text, path.string());
    if (record.component != component) {
        throw Error::format("{}: the record is of \"{}\", not of \"{}\"", path.string(),
                            record.component, component);
    }
    return record;
}

std::optional<formats::InstalledComponent> Installation::rollback_entry(
    std::string_view component) const {
    check_component_name(component);
    const fs::path entry = kept_entry(paths_.rollback_of(component));
    const auto text = core::read_file_if_exists(entry);
    if (!text) {
        return std::nullopt;
    }
    auto kept = formats::parse_components_xml(*text, entry.string());
    if (kept.components.size() != 1 || kept.components.front().name != component) {
        throw Error::format("{}: should describe {} alone", entry.string(), component);
    }
    return kept.components.front();
}

std::vector<std::string> Installation::rollback_names() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(paths_.rollback(), ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (rollback_entry(name)) {
            names.push_back(name);
        }
    }
    if (ec) {
        throw Error::format(ErrorKind::storage, "{}: cannot read the kept versions: {}",
                            paths_.rollback().string(), ec.message());
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace ferry::client
