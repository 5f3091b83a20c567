#include "repo/component_builder.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <memory>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "repo/service_builder.hpp"

namespace ferry::repo {

namespace {

constexpr int kMetaLevel = 5;

struct InputDigest {
    std::string sha256;
    std::uint64_t bytes = 0;
};

// Everything that decides an archive's bytes: format, level, mtime, and per entry its name,
// kind, executable bit, link target or content. Equal digests → byte-identical archives.
InputDigest digest_inputs(const std::vector<archive::ArchiveInput>& inputs,
                          const archive::WriteOptions& write) {
    core::Hasher hasher(core::HashKind::sha256);
    InputDigest digest;
    hasher.update(fmt::format("ferry-archive-v1\n{}\n{}\n{}\n", archive::extension(write.format),
                              write.level, write.mtime));
    auto sorted = inputs;
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.entry_name < b.entry_name; });
    for (const auto& input : sorted) {
        const auto status = fs::symlink_status(input.source);
        if (fs::is_symlink(status)) {
            hasher.update(fmt::format("L {}\n{}\n", input.entry_name,
                                      fs::read_symlink(input.source).string()));
        } else if (fs::is_directory(status)) {
            hasher.update(fmt::format("D {}\n", input.entry_name));
        } else {
            const bool executable =
                (status.permissions() & (fs::perms::owner_exec | fs::perms::group_exec |
                                         fs::perms::others_exec)) != fs::perms::none;
            const auto size = fs::file_size(input.source);
            hasher.update(fmt::format("F {}\n{}\n{}\n", input.entry_name, executable, size));
            core::hash_file(input.source, {&hasher});
            digest.bytes += size;
        }
    }
    digest.sha256 = hasher.hex_digest();
    return digest;
}

const formats::ArchiveRecord* find_record(const formats::PackageUpdate& package,
                                          const std::string& name) {
    for (const auto& record : package.archives) {
        if (record.name == name) {
            return &record;
        }
    }
    return nullptr;
}

// An earlier archive is reused only when it still is what the index says it is: a damaged or
// replaced file must not be published again under the recorded hashes.
bool matches_record(const fs::path& file, const formats::ArchiveRecord& record) {
    std::error_code ec;
    if (fs::file_size(file, ec) != record.size || ec || record.sha256.empty()) {
        return false;
    }
    try {
        return core::digest_file(file).sha256 == record.sha256;
    } catch (const Error&) {
        return false;  // unreadable: built again
    }
}

// Whether the archives differ from those the previous index records. Unknown (an index without
// input digests, as IFW writes them) counts as unchanged.
bool data_changed(const formats::PackageUpdate& previous, const std::vector<ArchiveJob>& archives) {
    if (previous.archives.size() != previous.component.downloadable_archives.size() ||
        std::any_of(previous.archives.begin(), previous.archives.end(),
                    [](const auto& r) { return r.input_sha256.empty(); })) {
        return false;
    }
    if (archives.size() != previous.archives.size()) {
        return true;
    }
    return std::any_of(archives.begin(), archives.end(), [&](const ArchiveJob& job) {
        const auto* record = find_record(previous, job.name);
        return record == nullptr || record->input_sha256 != job.input_sha256;
    });
}

void write_sidecar(const BuildSettings& settings, const std::string& archive,
                   const std::string& sha1) {
    const fs::path existing = settings.target / sidecar_path(archive);
    std::error_code ec;
    if (settings.in_place && fs::exists(existing, ec)) {
        try {
            if (core::read_file(existing, 1024) == sha1) {
                return;
            }
        } catch (const Error&) {
            // unreadable: rewrite it below
        }
    }
    const fs::path sidecar = settings.staging / sidecar_path(archive);
    fs::create_directories(sidecar.parent_path());
    core::write_file_atomic(sidecar, sha1);
}

}  // namespace

archive::WriteOptions metadata_write_options(const BuildSettings& settings,
                                             std::optional<std::int64_t> mtime) {
    // Metadata is always 7z, as IFW's installers expect it whatever --af says.
    archive::WriteOptions write;
    write.format = archive::ArchiveFormat::sevenzip;
    write.level = kMetaLevel;
    write.mtime = mtime.value_or(settings.write.mtime);
    return write;
}

void link_or_copy(const fs::path& from, const fs::path& to) {
    fs::create_directories(to.parent_path());
    std::error_code ec;
    fs::remove(to, ec);
    fs::create_hard_link(from, to, ec);
    if (ec) {
        fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    }
}

ComponentJob plan_from_package(const SourcePackage& package, const BuildSettings& settings,
                               const RepositoryDir* previous_repository,
                               const formats::PackageUpdate* previous) {
    ComponentJob job;
    job.update.component = package.description;
    job.mtime = package.archive_time;
    archive::WriteOptions write = settings.write;
    write.mtime = package.archive_time;
    const std::string& name = package.description.name;
    auto& downloadable = job.update.component.downloadable_archives;
    auto plans = plan_data_archives(package.dir / "data", settings.write.format, name);
    if (auto service = plan_service(package, plans, settings)) {
        add_service_dependencies(service->description, job.update.component);
        job.update.service = std::move(service->record);
        job.service = std::move(service->description);
    }
    for (auto& plan : plans) {
        ArchiveJob archive_job;
        archive_job.name = plan.name;
        if (!plan.prebuilt.empty()) {
            const auto digest = core::digest_file(plan.prebuilt);
            archive_job.copy_from = plan.prebuilt;
            archive_job.input_sha256 = digest.sha256;
            archive_job.input_bytes = digest.size;
            archive_job.uncompressed_size = archive::content_size(plan.prebuilt);
        } else {
            const auto digest = digest_inputs(plan.inputs, write);
            archive_job.inputs = std::move(plan.inputs);
            archive_job.input_sha256 = digest.sha256;
            archive_job.input_bytes = digest.bytes;
            archive_job.uncompressed_size = digest.bytes;
        }
        if (previous != nullptr && previous_repository != nullptr) {
            const auto* record = find_record(*previous, archive_job.name);
            const fs::path old_file =
                previous_repository->dir() / data_archive_path(*previous, archive_job.name);
            if (record != nullptr && record->input_sha256 == archive_job.input_sha256) {
                if (matches_record(old_file, *record)) {
                    archive_job.copy_from = old_file;
                    archive_job.reused = true;
                    archive_job.record = *record;
                    archive_job.input_bytes = 0;
                } else {
                    job.warnings.push_back(fmt::format(
                        "{}: does not match the size and SHA-256 that Updates.xml records for it, "
                        "so it was built again rather than reused",
                        old_file.string()));
                }
            }
        }
        if (std::find(downloadable.begin(), downloadable.end(), plan.name) == downloadable.end()) {
            downloadable.push_back(plan.name);
        }
        job.archives.push_back(std::move(archive_job));
    }
    job.meta_inputs =
        plan_meta_files(package.dir / "meta", package.description, settings.ignore_translations);
    const bool all_reused =
        !job.archives.empty() &&
        std::all_of(job.archives.begin(), job.archives.end(), [](auto& a) { return a.reused; });
    job.action = all_reused ? ComponentReport::Action::reused : ComponentReport::Action::built;
    if (previous != nullptr && previous->component.version == package.description.version) {
        std::string what = service_change(previous, job.update.service);
        if (what.empty() && data_changed(*previous, job.archives)) {
            what = "its data";
        }
        if (!what.empty()) {
            job.unannounced_change = fmt::format(
                "component {}: {} changed but its Version {} did not, so clients will not be "
                "offered the change; raise <Version> in {} (or name it in -s/--sha-update)",
                name, what, package.description.version,
                (package.dir / "meta" / "package.xml").string());
        }
    }
    return job;
}

ComponentJob plan_from_repository(const RepositoryDir& source,
                                  const formats::PackageUpdate& package,
                                  const fs::path& meta_scratch, ComponentReport::Action action) {
    ComponentJob job;
    job.update = package;
    job.action = action;
    for (const auto& name : package.component.downloadable_archives) {
        ArchiveJob archive_job;
        archive_job.name = name;
        archive_job.copy_from = source.dir() / data_archive_path(package, name);
        std::error_code ec;
        if (!fs::is_regular_file(archive_job.copy_from, ec)) {
            throw Error::format("{}: archive {} of component {} is missing", source.dir().string(),
                                data_archive_path(package, name), package.component.name);
        }
        if (action == ComponentReport::Action::unchanged) {
            archive_job.reused = true;
            if (const auto* record = find_record(package, name)) {
                archive_job.record = *record;
            }
        } else {
            archive_job.input_bytes = fs::file_size(archive_job.copy_from);
        }
        job.archives.push_back(std::move(archive_job));
    }
    if (package.service) {
        job.service = read_service_file(source.dir(), package);
        job.service_source = source.dir();
    }
    const fs::path meta_dir = source.extract_meta(package, meta_scratch);
    const std::string& name = package.component.name;
    job.meta_inputs = {{name, meta_dir}};
    for (auto& input : archive::collect_tree(meta_dir, name + "/")) {
        job.meta_inputs.push_back(std::move(input));
    }
    return job;
}

void build_archive(const ComponentJob& component, ArchiveJob& job, const BuildSettings& settings) {
    const std::string relative = data_archive_path(component.update, job.name);
    const fs::path out = settings.staging / relative;
    const fs::path in_target = settings.target / relative;
    with_context(
        fmt::format("writing {} of component {}", relative, component.update.component.name), [&] {
            std::error_code ec;
            if (job.reused) {
                if (!settings.in_place || !fs::equivalent(job.copy_from, in_target, ec)) {
                    link_or_copy(job.copy_from, out);
                }
                if (job.record.sha256.empty() || job.record.sha1.empty()) {
                    const auto digest = core::digest_file(job.copy_from);
                    job.record = {job.name, digest.size, digest.sha1, digest.sha256,
                                  job.input_sha256};
                }
                return;
            }
            fs::create_directories(out.parent_path());
            if (!job.copy_from.empty()) {
                fs::copy_file(job.copy_from, out, fs::copy_options::overwrite_existing);
                if (settings.on_bytes) {
                    settings.on_bytes(job.input_bytes);
                }
            } else {
                archive::WriteOptions write = settings.write;
                write.mtime = component.mtime.value_or(settings.write.mtime);
                std::uint64_t reported = 0;
                write.on_progress = [&](std::uint64_t done) {
                    if (settings.on_bytes && done > reported) {
                        settings.on_bytes(done - reported);
                        reported = done;
                    }
                };
                job.stored = archive::write_archive(out, job.inputs, write).stored;
            }
            const auto digest = core::digest_file(out);
            job.record = {job.name, digest.size, digest.sha1, digest.sha256, job.input_sha256};
        });
}

void finish_component(ComponentJob& component, const BuildSettings& settings) {
    auto& update = component.update;
    if (!component.service_source.empty()) {
        stage_service_files(component.service_source, update, settings);
    }
    const bool keep_totals = component.action == ComponentReport::Action::unchanged ||
                             component.action == ComponentReport::Action::copied;
    update.archives.clear();
    update.compressed_size = 0;
    if (!keep_totals) {
        update.uncompressed_size = 0;
    }
    for (const auto& job : component.archives) {
        update.archives.push_back(job.record);
        update.compressed_size += job.record.size;
        if (!keep_totals) {
            update.uncompressed_size += job.uncompressed_size;
        }
        write_sidecar(settings, data_archive_path(update, job.name), job.record.sha1);
    }
    if (component.content_sha1) {
        core::Hasher hasher(core::HashKind::sha1);
        for (const auto& record : update.archives) {
            hasher.update(record.name + " " + record.sha1 + "\n");
        }
        update.component.content_sha1 = hasher.hex_digest();
    }
    if (settings.metadata == MetadataMode::united) {
        update.meta_sha1.clear();
        update.meta_archive.reset();
        return;
    }
    const std::string relative = meta_archive_path(update);
    const fs::path in_target = settings.target / relative;
    std::error_code ec;
    if (component.action == ComponentReport::Action::unchanged && !update.meta_sha1.empty() &&
        fs::is_regular_file(in_target, ec)) {
        // --update leaves the components it was not asked to touch as they are.
        if (!update.meta_archive) {
            const auto digest = core::digest_file(in_target);
            update.meta_archive =
                formats::ArchiveRecord{"meta.7z", digest.size, digest.sha1, digest.sha256, {}};
        }
        return;
    }
    const fs::path out = settings.staging / relative;
    fs::create_directories(out.parent_path());
    archive::write_archive(out, component.meta_inputs,
                           metadata_write_options(settings, component.mtime));
    const auto digest = core::digest_file(out);
    update.meta_sha1 = digest.sha1;
    update.meta_archive =
        formats::ArchiveRecord{"meta.7z", digest.size, digest.sha1, digest.sha256, {}};
}

}  // namespace ferry::repo
