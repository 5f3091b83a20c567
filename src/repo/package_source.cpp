#include "repo/package_source.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/source_date.hpp"
#include "formats/names.hpp"
#include "formats/package_xml.hpp"

namespace ferry::repo {

namespace {

std::int64_t archive_time(const formats::ComponentDescription& component,
                          bool release_date_given) {
    if (const auto epoch = core::source_date_epoch()) {
        return *epoch;
    }
    const auto release = release_date_given ? core::epoch_of_date(component.release_date)
                                            : std::nullopt;
    return std::max(release.value_or(core::kEarliestArchiveTime), core::kEarliestArchiveTime);
}

}  // namespace

PackageScan scan_packages(const std::vector<fs::path>& package_roots, bool ignore_invalid) {
    PackageScan scan;
    std::map<std::string, fs::path> seen;
    for (const auto& root : package_roots) {
        std::error_code ec;
        if (!fs::is_directory(root, ec)) {
            throw Error::format("{}: packages directory not found", root.string());
        }
        std::vector<fs::path> dirs;
        for (const auto& entry : fs::directory_iterator(root)) {
            std::string name = entry.path().filename().string();
            if (entry.is_directory() && !name.starts_with(".")) {
                dirs.push_back(entry.path());
            }
        }
        std::sort(dirs.begin(), dirs.end());
        for (const auto& dir : dirs) {
            try {
                bool release_date_given = false;
                SourcePackage package{formats::read_package_xml(dir, &release_date_given), dir};
                package.archive_time = archive_time(package.description, release_date_given);
                const std::string& name = package.description.name;
                if (auto it = seen.find(name); it != seen.end()) {
                    throw Error::format("{}: component \"{}\" is also defined in {}", dir.string(),
                                        name, it->second.string());
                }
                seen.emplace(name, dir);
                scan.packages.push_back(std::move(package));
            } catch (const Error& e) {
                if (!ignore_invalid) {
                    throw;
                }
                scan.warnings.push_back(std::string("skipped invalid package: ") + e.what());
            }
        }
    }
    std::sort(scan.packages.begin(), scan.packages.end(),
              [](const auto& a, const auto& b) { return a.description.name < b.description.name; });
    return scan;
}

bool is_selected(const std::string& name, const std::vector<std::string>& include,
                 const std::vector<std::string>& exclude) {
    if (!include.empty() && std::find(include.begin(), include.end(), name) == include.end()) {
        return false;
    }
    return std::find(exclude.begin(), exclude.end(), name) == exclude.end();
}

std::vector<DataArchivePlan> plan_data_archives(const fs::path& data_dir,
                                                archive::ArchiveFormat format,
                                                const std::string& component) {
    std::vector<DataArchivePlan> plans;
    std::error_code ec;
    if (!fs::is_directory(data_dir, ec)) {
        return plans;
    }
    const std::string suffix = "." + std::string(archive::extension(format));
    DataArchivePlan loose{"content" + suffix, {}, {}};
    std::vector<fs::directory_entry> entries(fs::directory_iterator(data_dir), {});
    std::sort(entries.begin(), entries.end());
    for (const auto& entry : entries) {
        const std::string name = entry.path().filename().string();
        if (entry.is_symlink()) {
            loose.inputs.push_back({name, entry.path()});
        } else if (entry.is_directory()) {
            DataArchivePlan plan{name + suffix, {{name, entry.path()}}, {}};
            auto children = archive::collect_tree(entry.path(), name + "/");
            plan.inputs.insert(plan.inputs.end(), children.begin(), children.end());
            plans.push_back(std::move(plan));
        } else if (entry.is_regular_file()) {
            if (archive::is_archive(entry.path())) {
                plans.push_back({name, {}, entry.path()});
            } else {
                loose.inputs.push_back({name, entry.path()});
            }
        } else {
            throw Error::format("{}: not a regular file, directory or symlink (component {})",
                                entry.path().string(), component);
        }
    }
    if (!loose.inputs.empty()) {
        plans.push_back(std::move(loose));
    }
    std::set<std::string> names;
    for (const auto& plan : plans) {
        if (auto problem = formats::name_problem(formats::NameKind::archive, plan.name)) {
            throw Error::format(
                "{}: archive name \"{}\" {}; rename the file or directory (component {})",
                data_dir.string(), plan.name, *problem, component);
        }
        if (!names.insert(plan.name).second) {
            throw Error::format(
                "{}: two data archives would both be named \"{}\" (component {}); rename the "
                "directory or the file",
                data_dir.string(), plan.name, component);
        }
    }
    std::sort(plans.begin(), plans.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return plans;
}

std::vector<archive::ArchiveInput> plan_meta_files(const fs::path& meta_dir,
                                                   const formats::ComponentDescription& component,
                                                   bool ignore_translations) {
    const fs::path package_xml = meta_dir / "package.xml";
    auto require = [&](const std::string& file, std::string_view what) {
        std::error_code ec;
        if (file.empty() || !fs::is_regular_file(meta_dir / file, ec)) {
            throw Error::format("{}: {} \"{}\" not found in {}", package_xml.string(), what, file,
                                meta_dir.string());
        }
    };
    if (!component.script.empty()) {
        require(component.script, "Script");
    }
    for (const auto& license : component.licenses) {
        require(license.file, "License file");
    }
    for (const auto& ui : component.user_interfaces) {
        require(ui, "UserInterface");
    }
    std::set<std::string> skipped{"package.xml"};
    for (const auto& translation : component.translations) {
        if (ignore_translations) {
            skipped.insert(translation);
        } else {
            require(translation, "Translation");
        }
    }
    const std::string prefix = component.name + "/";
    std::vector<archive::ArchiveInput> inputs{{component.name, meta_dir}};
    for (auto& input : archive::collect_tree(meta_dir, prefix)) {
        if (!skipped.contains(input.entry_name.substr(prefix.size()))) {
            inputs.push_back(std::move(input));
        }
    }
    return inputs;
}

}  // namespace ferry::repo
