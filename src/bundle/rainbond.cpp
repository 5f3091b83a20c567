// The file half of reading Rainbond packages: the package is extracted (safely) into scratch
// space, its image archives unpacked into one blob directory (every layer checked against its
// digest), and each item written as a packages tree (package.xml, service.json, a `docker save`
// of its one image) that repogen turns into the repository, as `ferry repogen` would.
#include <fcntl.h>

#include <fmt/format.h>

#include <algorithm>

#include "archive/archive.hpp"
#include "bundle/rainbond.hpp"
#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/file_error.hpp"
#include "core/files.hpp"
#include "formats/xml_text.hpp"
#include "repo/generator.hpp"

namespace ferry::bundle {

namespace {

struct PackageRoot {
    fs::path dir;        // the folder holding metadata.json
    std::string layout;  // "ram.tar.gz" or "zip"
};

// metadata.json at the top of the package or in its one top folder.
std::optional<PackageRoot> find_root(const fs::path& extracted) {
    if (fs::is_regular_file(extracted / "metadata.json")) {
        return PackageRoot{extracted, "zip"};
    }
    std::vector<fs::path> folders;
    for (const auto& entry : fs::directory_iterator(extracted)) {
        if (entry.is_directory() && !entry.is_symlink() &&
            fs::is_regular_file(entry.path() / "metadata.json")) {
            folders.push_back(entry.path());
        }
    }
    if (folders.size() != 1) {
        return std::nullopt;
    }
    const bool current = fs::exists(folders[0] / "component-images.tar");
    return PackageRoot{folders[0], current ? "ram.tar.gz" : "zip"};
}

// The image archives of the package: component-images.tar and plugin-images.tar of the current
// layout, and the <image>--<tag>.image.tar of the older one in the component folders.
std::vector<fs::path> image_archives(const fs::path& root) {
    std::vector<fs::path> archives;
    for (const char* name : {"component-images.tar", "plugin-images.tar"}) {
        if (fs::is_regular_file(fs::symlink_status(root / name))) {
            archives.push_back(root / name);
        }
    }
    for (auto it = fs::recursive_directory_iterator(root); it != fs::end(it); ++it) {
        if (it.depth() > 1) {
            it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file() && !it->is_symlink() &&
            it->path().filename().string().ends_with(".image.tar")) {
            archives.push_back(it->path());
        }
    }
    std::sort(archives.begin(), archives.end());
    return archives;
}

void write_package_xml(const fs::path& file, const ImportedComponent& component,
                       const std::string& description) {
    formats::XmlWriter xml;
    xml.open("Package");
    xml.element("DisplayName", component.display_name);
    if (!description.empty()) {
        xml.element("Description", description);
    }
    xml.element("Version", component.version);
    xml.element("ReleaseDate", component.release_date);
    xml.element("Default", "true");
    if (!component.dependencies.empty()) {
        xml.element("Dependencies", formats::join_comma_list(component.dependencies));
    }
    xml.close("Package");
    core::write_file_atomic(file, xml.text());
}

void write_image_archive(const fs::path& file, const image::Image& image, const std::string& tag,
                         const image::BlobDir& blobs) {
    core::FileDescriptor fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        throw file_error(file.string(), "cannot create it", errno);
    }
    image::write_docker_archive({{image, tag}}, blobs, fd.get());
}

std::string image_list(const std::vector<image::Image>& images) {
    std::vector<std::string> refs;
    for (const auto& image : images) {
        refs.insert(refs.end(), image.references.begin(), image.references.end());
    }
    return refs.empty() ? "none" : fmt::format("{}", fmt::join(refs, ", "));
}

}  // namespace

std::optional<ConvertedPackage> convert_rainbond_package(const fs::path& file, const fs::path& work,
                                                         const ImportEvents& events) {
    auto say = [&](const std::string& text) {
        if (events.say) {
            events.say(text);
        }
    };
    if (!archive::is_archive(file)) {
        return std::nullopt;
    }
    const fs::path extracted = work / "package";
    fs::create_directories(extracted);
    say(fmt::format("reading {}", file.string()));
    archive::extract_archive(file, extracted);
    const auto root = find_root(extracted);
    if (!root) {
        return std::nullopt;
    }
    const std::string source = fmt::format("{}: metadata.json", file.string());
    ConvertedPackage result;
    result.layout = root->layout;
    result.metadata = parse_rainbond_metadata(
        core::read_file(root->dir / "metadata.json", kMaxRainbondMetadataBytes), source);
    std::vector<ImportedItem> items = map_rainbond_metadata(result.metadata, source);

    const image::BlobDir blobs(work / "blobs");
    std::vector<image::Image> images;
    std::vector<std::string> archive_names;
    for (const fs::path& archive : image_archives(root->dir)) {
        const std::string name = archive.lexically_relative(root->dir).generic_string();
        say(fmt::format("checking the images of {}", name));
        std::vector<image::Image> found;
        try {
            found = image::unpack_image_archive(archive, blobs);
        } catch (const Error& e) {
            // Named as the user knows it, not by its place in the scratch folder.
            std::string message = e.what();
            const std::string scratch_name = archive.string();
            const std::string shown = fmt::format(
                "{}: {}", file.string(), archive.lexically_relative(extracted).generic_string());
            for (auto at = message.find(scratch_name); at != std::string::npos;
                 at = message.find(scratch_name, at + shown.size())) {
                message.replace(at, scratch_name.size(), shown);
            }
            throw Error(message, e.kind());
        }
        images.insert(images.end(), found.begin(), found.end());
        archive_names.push_back(name);
    }
    // Everything needed is in the blobs now: the extracted package's space goes back before the
    // repositories take theirs.
    fs::remove_all(extracted);

    for (ImportedItem& item : items) {
        const fs::path packages = work / "items" / item.key / "packages";
        for (ImportedComponent& component : item.components) {
            std::string matched;
            const image::Image* image = nullptr;
            try {
                image = match_share_image(images, component.share_image, &matched);
            } catch (const Error& e) {
                throw Error::format("{}.share_image: {}", component.place, e.what());
            }
            if (image == nullptr) {
                throw Error::format(
                    "{}.share_image: the image \"{}\" is not in the package ({}; its images: {})",
                    component.place, component.share_image,
                    archive_names.empty() ? "it has no image archive"
                                          : fmt::format("{}", fmt::join(archive_names, ", ")),
                    image_list(images));
            }
            component.service.image = matched;
            const fs::path dir = packages / component.name;
            fs::create_directories(dir / "meta");
            fs::create_directories(dir / "data");
            write_package_xml(dir / "meta" / "package.xml", component, item.description);
            core::write_file_atomic(dir / "meta" / std::string(formats::kServiceJson),
                                    formats::to_json(component.service));
            write_image_archive(dir / "data" / "image.tar", *image, matched, blobs);
        }
        ConvertedItem converted;
        converted.item = std::move(item);
        converted.repository = work / "items" / converted.item.key / "repository";
        say(fmt::format("writing the repository of {} {} ({} component(s))",
                        converted.item.plugin ? "plugin" : "app", converted.item.key,
                        converted.item.components.size()));
        repo::GenerateOptions options;
        options.packages = {packages};
        options.jobs = 1;
        repo::generate_repository(converted.repository, options);
        fs::remove_all(packages);
        result.items.push_back(std::move(converted));
    }
    return result;
}

}  // namespace ferry::bundle
