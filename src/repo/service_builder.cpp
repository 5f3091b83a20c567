#include "repo/service_builder.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/version.hpp"
#include "image/image.hpp"
#include "repo/component_builder.hpp"
#include "repo/repository_dir.hpp"

namespace ferry::repo {

namespace {

constexpr std::string_view kServiceFileName = "service.json";
constexpr std::uint64_t kMaxServiceFileBytes = 1u << 20;

formats::ImageBlobRecord to_record(const image::Blob& blob) {
    return {blob.digest, blob.size, blob.media_type};
}

// The one image archive of a service component's data/, taken out of the plans.
fs::path take_image_archive(const SourcePackage& package, std::vector<DataArchivePlan>& plans) {
    std::vector<std::string> names;
    for (const auto& plan : plans) {
        if (!plan.prebuilt.empty()) {
            names.push_back(plan.name);
        }
    }
    if (names.size() != 1) {
        throw Error::format(
            "{}: a service component's data/ holds exactly one image archive (a `docker save` or "
            "OCI layout tar), found {}{}",
            (package.dir / "data").string(), names.empty() ? "none" : std::to_string(names.size()),
            names.empty() ? "" : ": " + fmt::format("{}", fmt::join(names, ", ")));
    }
    auto it = std::find_if(plans.begin(), plans.end(),
                           [](const DataArchivePlan& plan) { return !plan.prebuilt.empty(); });
    fs::path archive = it->prebuilt;
    plans.erase(it);
    return archive;
}

}  // namespace

std::optional<ServicePlan> plan_service(const SourcePackage& package,
                                        std::vector<DataArchivePlan>& data_plans,
                                        const BuildSettings& settings) {
    const std::string& name = package.description.name;
    auto description = formats::read_service(package.dir / "meta", name);
    if (!description) {
        return std::nullopt;
    }
    const fs::path archive = take_image_archive(package, data_plans);
    const image::BlobDir blobs(settings.staging / "images");
    const auto images = image::unpack_image_archive(archive, blobs);
    const image::Image& image = image::find_image(images, description->image, archive.string());

    ServicePlan plan{*description, {}};
    formats::ServiceRecord& record = plan.record;
    record.image = description->image;
    const std::string manifest = image::registry_manifest(image);
    record.manifest = {"sha256:" + core::sha256_hex(manifest), manifest.size(),
                       std::string(image::kManifestMediaType)};
    const fs::path manifest_file = settings.staging / image_blob_path(record.manifest.digest);
    fs::create_directories(manifest_file.parent_path());
    core::write_file_atomic(manifest_file, manifest);
    record.blobs.push_back(to_record(image.config));
    for (const auto& layer : image.layers) {
        record.blobs.push_back(to_record(layer));
    }

    const std::string json = formats::to_json(*description);
    record.description = {std::string(kServiceFileName),
                          json.size(),
                          core::sha1_hex(json),
                          core::sha256_hex(json),
                          {}};
    formats::PackageUpdate located;
    located.component.name = name;
    located.component.version = package.description.version;
    located.service = record;
    const fs::path file = settings.staging / service_file_path(located);
    fs::create_directories(file.parent_path());
    core::write_file_atomic(file, json);
    return plan;
}

formats::ServiceDescription read_service_file(const fs::path& repository,
                                              const formats::PackageUpdate& package) {
    const fs::path file = repository / service_file_path(package);
    return formats::parse_service(core::read_file(file, kMaxServiceFileBytes), file.string(),
                                  package.component.name);
}

void stage_service_files(const fs::path& source, const formats::PackageUpdate& package,
                         const BuildSettings& settings) {
    std::vector<std::string> files{service_file_path(package),
                                   image_blob_path(package.service->manifest.digest)};
    for (const auto& blob : package.service->blobs) {
        files.push_back(image_blob_path(blob.digest));
    }
    for (const auto& file : files) {
        std::error_code ec;
        if (settings.in_place && fs::equivalent(source / file, settings.target / file, ec)) {
            continue;
        }
        if (!fs::is_regular_file(source / file, ec)) {
            throw Error::format("{}: file {} of service component {} is missing", source.string(),
                                file, package.component.name);
        }
        link_or_copy(source / file, settings.staging / file);
    }
}

std::string service_change(const formats::PackageUpdate* previous,
                           const std::optional<formats::ServiceRecord>& next) {
    if (previous == nullptr || (!previous->service && !next)) {
        return {};
    }
    if (!previous->service || !next) {
        return next ? "it became a service" : "it is no longer a service";
    }
    if (previous->service->manifest.digest != next->manifest.digest) {
        return "its image";
    }
    if (previous->service->description.sha256 != next->description.sha256) {
        return "its service description";
    }
    return {};
}

void add_service_dependencies(const formats::ServiceDescription& description,
                              formats::ComponentDescription& component) {
    for (const auto& needed : description.depends) {
        const bool listed =
            std::any_of(component.dependencies.begin(), component.dependencies.end(),
                        [&](const std::string& expression) {
                            return core::parse_dependency(expression).name == needed;
                        });
        if (!listed) {
            component.dependencies.push_back(needed);
        }
    }
}

}  // namespace ferry::repo
