#include "repo/generator.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "core/file_lock.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/parallel.hpp"
#include "core/relative_path.hpp"
#include "core/source_date.hpp"
#include "core/version.hpp"
#include "repo/component_builder.hpp"
#include "repo/package_source.hpp"
#include "repo/repository_dir.hpp"

namespace ferry::repo {

namespace {

enum class Mode { fresh, replace, update };

constexpr std::uint64_t kEncoderMemoryBudget = 112u << 20;

bool is_empty_dir(const fs::path& dir) {
    return fs::directory_iterator(dir) == fs::directory_iterator();
}

// Leftovers of a run that was killed: staging directories beside or inside the repository.
void remove_stale_staging(const fs::path& repository) {
    std::error_code ec;
    const std::string sibling_prefix = "." + repository.filename().string() + ".ferry-new-";
    for (const auto& entry : fs::directory_iterator(repository.parent_path(), ec)) {
        if (entry.path().filename().string().starts_with(sibling_prefix)) {
            fs::remove_all(entry.path(), ec);
        }
    }
    if (fs::is_directory(repository, ec)) {
        for (const auto& entry : fs::directory_iterator(repository, ec)) {
            if (entry.path().filename().string().starts_with(".ferry-staging-")) {
                fs::remove_all(entry.path(), ec);
            }
        }
    }
}

Mode choose_mode(const fs::path& repository, const GenerateOptions& options,
                 const std::optional<RepositoryDir>& current) {
    std::error_code ec;
    if (!fs::exists(repository, ec)) {
        return Mode::fresh;
    }
    if (!fs::is_directory(repository, ec)) {
        throw Error::format("{}: exists and is not a directory", repository.string());
    }
    if (is_empty_dir(repository)) {
        return Mode::fresh;
    }
    if (options.update || options.update_new_components) {
        if (!current) {
            throw Error::format(
                "{}: holds no Updates.xml, so there is no repository to update; generate a new "
                "one into an empty or new directory",
                repository.string());
        }
        return Mode::update;
    }
    if (options.remove_existing) {
        if (!current) {
            throw Error::format(
                "{}: refusing to replace a non-empty directory that holds no Updates.xml",
                repository.string());
        }
        return Mode::replace;
    }
    throw Error::format(
        "{}: the repository directory is not empty; use --update to update the components in "
        "it, or -r/--remove to replace it",
        repository.string());
}

std::vector<RepositoryDir> open_sources(const GenerateOptions& options,
                                        std::vector<std::string>& warnings) {
    std::vector<RepositoryDir> sources;
    for (const auto& dir : options.repositories) {
        try {
            auto source = RepositoryDir::open(dir);
            if (!source) {
                throw Error::format("{}: not a repository (no Updates.xml)", dir.string());
            }
            sources.push_back(std::move(*source));
        } catch (const Error& e) {
            if (!options.ignore_invalid_repositories) {
                throw;
            }
            warnings.push_back(std::string("skipped invalid repository: ") + e.what());
        }
    }
    return sources;
}

// --keep: the files of the version an update replaces stay listed (newest first) so that
// clients holding the older Updates.xml still find them; the oldest beyond `keep` go.
void carry_retention(formats::RepositoryIndex& next, const formats::RepositoryIndex& previous,
                     unsigned keep) {
    for (auto& package : next.packages) {
        const auto* old = previous.find(package.component.name);
        if (old == nullptr) {
            continue;
        }
        package.retained = old->retained;
        if (old->component.version != package.component.version) {
            package.retained.insert(
                package.retained.begin(),
                {old->component.version, component_files(*old, previous.checksum)});
        }
        if (package.retained.size() > keep) {
            package.retained.resize(keep);
        }
    }
    next.retained_metadata = previous.retained_metadata;
    if (!previous.metadata_name.empty() && previous.metadata_name != next.metadata_name) {
        next.retained_metadata.insert(next.retained_metadata.begin(),
                                      {"", {previous.metadata_name}});
    }
    if (next.retained_metadata.size() > keep) {
        next.retained_metadata.resize(keep);
    }
}

void move_tree_into(const fs::path& from, const fs::path& to) {
    for (const auto& entry : fs::recursive_directory_iterator(from)) {
        if (entry.is_directory()) {
            continue;
        }
        const fs::path destination = to / fs::relative(entry.path(), from);
        fs::create_directories(destination.parent_path());
        fs::rename(entry.path(), destination);
    }
}

void exchange_directories(const fs::path& a, const fs::path& b) {
    if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) != 0) {
        throw Error::format("cannot swap {} with the new repository: {}", b.string(),
                            errno_text(errno));
    }
}

std::string write_united_metadata(const std::vector<ComponentJob>& jobs,
                                  const BuildSettings& settings, formats::RepositoryIndex& index) {
    std::vector<archive::ArchiveInput> inputs;
    for (const auto& job : jobs) {
        inputs.insert(inputs.end(), job.meta_inputs.begin(), job.meta_inputs.end());
    }
    const fs::path temporary = settings.staging / ".united-metadata.7z";
    archive::write_archive(temporary, std::move(inputs), metadata_write_options(settings));
    const auto digest = core::digest_file(temporary);
    // Named by content, so the same metadata always gets the same name.
    const std::string name = digest.sha256.substr(0, 16) + "_meta.7z";
    fs::rename(temporary, settings.staging / name);
    index.metadata_sha1 = digest.sha1;
    index.metadata_name = name;
    index.metadata_archive =
        formats::ArchiveRecord{name, digest.size, digest.sha1, digest.sha256, {}};
    return name;
}

}  // namespace

std::string_view to_string(ComponentReport::Action action) {
    switch (action) {
        case ComponentReport::Action::built:
            return "built";
        case ComponentReport::Action::reused:
            return "reused";
        case ComponentReport::Action::unchanged:
            return "unchanged";
        case ComponentReport::Action::copied:
            return "copied";
    }
    return "built";
}

namespace {

fs::path resolve_target(const fs::path& repository) {
    fs::path target = fs::absolute(repository).lexically_normal();
    return target.filename().empty() ? target.parent_path() : target;
}

// Symlinks resolved as far as the path exists, so that two spellings of one directory compare.
fs::path real_path(const fs::path& path) {
    std::error_code ec;
    fs::path resolved = fs::weakly_canonical(fs::absolute(path), ec);
    return ec ? fs::absolute(path).lexically_normal() : resolved;
}

bool is_within(const fs::path& inner, const fs::path& outer) {
    return std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end()).first ==
           outer.end();
}

// The repository may not be written inside a packages tree (it would be read as packages, or
// land in a component's data/ and be published with it), and a packages tree inside the
// repository would be deleted by -r with the old repository.
void check_output_location(const fs::path& target, const GenerateOptions& options) {
    const fs::path output = real_path(target);
    for (const auto& packages : options.packages) {
        const fs::path tree = real_path(packages);
        if (is_within(output, tree)) {
            throw Error::format(
                "{}: the repository would be inside the packages directory {}; write it "
                "somewhere else",
                target.string(), packages.string());
        }
        if (is_within(tree, output)) {
            throw Error::format(
                "{}: the packages directory {} is inside the repository, which a replacement "
                "would delete; write the repository somewhere else",
                target.string(), packages.string());
        }
    }
}

// flock on a file beside the repository (not inside: -r swaps the whole directory).
core::FileLock lock_repository(const fs::path& target) {
    const fs::path path = target.parent_path() / ("." + target.filename().string() + ".ferry-lock");
    std::string holder;
    auto lock = core::FileLock::try_lock(path, holder);
    if (!lock) {
        throw Error::format(ErrorKind::conflict,
                            "repository {} is being updated by {}; run again when it has finished",
                            target.string(), holder.empty() ? "another process" : "pid " + holder);
    }
    return std::move(*lock);
}

void check_include_names(const GenerateOptions& options, const PackageScan& scan,
                         const std::vector<RepositoryDir>& sources) {
    for (const auto& name : options.include) {
        bool known = std::any_of(scan.packages.begin(), scan.packages.end(),
                                 [&](auto& p) { return p.description.name == name; });
        for (const auto& source : sources) {
            known = known || source.index().find(name) != nullptr;
        }
        if (!known) {
            throw Error::format(
                "-i/--include names \"{}\", which no packages directory or repository holds", name);
        }
    }
}

// Progress shared by the threads that build archives.
class ProgressReporter {
  public:
    explicit ProgressReporter(const GenerateOptions& options) : callback_(options.on_progress) {}

    void start(std::size_t components, std::uint64_t bytes) {
        std::lock_guard lock(mutex_);
        progress_.components_total = components;
        progress_.bytes_total = bytes;
    }
    void add_bytes(std::uint64_t delta) {
        std::lock_guard lock(mutex_);
        progress_.bytes_done += delta;
        report();
    }
    void component_done() {
        std::lock_guard lock(mutex_);
        ++progress_.components_done;
        report();
    }

  private:
    void report() {
        if (callback_) {
            callback_(progress_);
        }
    }
    std::function<void(const GenerateProgress&)> callback_;
    std::mutex mutex_;
    GenerateProgress progress_;
};

// Decides where every component of the new repository comes from: rebuilt from a packages tree
// (in parallel: reading and hashing the input is most of the work), copied from a --repository,
// or kept as it is (--update leaves unselected components alone).
std::vector<ComponentJob> plan_components(const GenerateOptions& options, Mode mode,
                                          const std::optional<RepositoryDir>& current,
                                          const PackageScan& scan,
                                          const std::vector<RepositoryDir>& sources,
                                          const BuildSettings& settings,
                                          const fs::path& meta_scratch, unsigned threads) {
    const RepositoryDir* reuse_from = mode == Mode::fresh || !current ? nullptr : &*current;
    std::vector<const SourcePackage*> to_build;
    for (const auto& package : scan.packages) {
        const std::string& name = package.description.name;
        if (!is_selected(name, options.include, options.exclude)) {
            continue;
        }
        const auto* existing = mode == Mode::update ? current->index().find(name) : nullptr;
        if (options.update_new_components && !options.update && existing != nullptr &&
            core::compare_versions(package.description.version, existing->component.version) <= 0) {
            continue;  // not newer than what the repository has
        }
        to_build.push_back(&package);
    }
    std::vector<std::optional<ComponentJob>> built(to_build.size());
    core::parallel_for(to_build.size(), threads, [&](std::size_t i) {
        const auto& package = *to_build[i];
        const auto* previous =
            reuse_from ? reuse_from->index().find(package.description.name) : nullptr;
        built[i] = with_context(fmt::format("reading package {}", package.dir.string()), [&] {
            return plan_from_package(package, settings, reuse_from, previous);
        });
    });
    std::map<std::string, ComponentJob> planned;
    for (std::size_t i = 0; i < to_build.size(); ++i) {
        planned.emplace(to_build[i]->description.name, std::move(*built[i]));
    }
    for (const auto& source : sources) {
        for (const auto& package : source.index().packages) {
            const std::string& name = package.component.name;
            if (!planned.contains(name) && is_selected(name, options.include, options.exclude)) {
                planned.emplace(name, plan_from_repository(source, package, meta_scratch,
                                                           ComponentReport::Action::copied));
            }
        }
    }
    if (mode == Mode::update) {
        for (const auto& package : current->index().packages) {
            if (!planned.contains(package.component.name)) {
                planned.emplace(package.component.name,
                                plan_from_repository(*current, package, meta_scratch,
                                                     ComponentReport::Action::unchanged));
            }
        }
    }
    std::vector<ComponentJob> jobs;
    for (auto& [name, job] : planned) {
        job.content_sha1 = std::find(options.sha_update.begin(), options.sha_update.end(), name) !=
                           options.sha_update.end();
        jobs.push_back(std::move(job));
    }
    if (jobs.empty()) {
        throw Error("no components to put into the repository (check -p, -i and -e)");
    }
    return jobs;
}

// The service components of a repository are one app: their dependencies and shared volumes
// must name each other, without a cycle.
void check_services(const std::vector<ComponentJob>& jobs) {
    std::map<std::string, formats::ServiceDescription> services;
    for (const auto& job : jobs) {
        if (job.service) {
            services.emplace(job.update.component.name, *job.service);
        }
    }
    formats::check_app_services(services);
}

// Writes every archive that needs writing, largest first so that the threads finish together.
void build_archives(std::vector<ComponentJob>& jobs, const BuildSettings& settings,
                    unsigned threads, ProgressReporter& progress) {
    std::vector<std::pair<std::size_t, std::size_t>> work;
    std::uint64_t total_bytes = 0;
    for (std::size_t c = 0; c < jobs.size(); ++c) {
        for (std::size_t a = 0; a < jobs[c].archives.size(); ++a) {
            work.emplace_back(c, a);
            total_bytes += jobs[c].archives[a].input_bytes;
        }
    }
    progress.start(jobs.size(), total_bytes);
    auto size_of = [&](const auto& w) { return jobs[w.first].archives[w.second].input_bytes; };
    std::sort(work.begin(), work.end(),
              [&](const auto& x, const auto& y) { return size_of(x) > size_of(y); });
    std::vector<std::atomic<std::size_t>> remaining(jobs.size());
    for (std::size_t c = 0; c < jobs.size(); ++c) {
        remaining[c] = jobs[c].archives.size();
    }
    core::parallel_for(work.size(), threads, [&](std::size_t w) {
        auto [c, a] = work[w];
        build_archive(jobs[c], jobs[c].archives[a], settings);
        if (--remaining[c] == 0) {
            progress.component_done();
        }
    });
}

// Files of a repository directory that its index does not reference (a README, a stray
// archive): -r replaces the whole directory, so the report names them.
std::vector<std::string> files_outside_index(const fs::path& dir,
                                             const formats::RepositoryIndex& index) {
    const auto referenced = referenced_files(index);
    std::vector<std::string> others;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it) {
        const std::string relative = fs::relative(it->path(), dir).generic_string();
        if (it->is_directory() && !it->is_symlink()) {
            if (relative.starts_with(".ferry-staging-")) {
                it.disable_recursion_pending();  // a killed run's leftovers, not the user's
            }
            continue;
        }
        if (relative != "Updates.xml" && !referenced.contains(relative)) {
            others.push_back(relative);
        }
    }
    std::sort(others.begin(), others.end());
    return others;
}

// Archives first, Updates.xml last and atomically; then, for --update, the files that neither
// the new index nor its retained versions reference any more.
void commit(Mode mode, const fs::path& target, core::ScratchDir& staging,
            const formats::RepositoryIndex& index, const std::optional<RepositoryDir>& current,
            GenerateReport& report) {
    const std::string index_text = formats::write_updates_xml(index);
    if (mode == Mode::update) {
        move_tree_into(staging.path(), target);
        core::write_file_atomic(target / "Updates.xml", index_text);
        const auto keep = referenced_files(index);
        for (const auto& file : referenced_files(current->index())) {
            std::error_code ec;
            if (!keep.contains(file) && !core::relative_path_problem(file) &&
                fs::remove(target / file, ec)) {
                report.removed_files.push_back(file);
                fs::remove(fs::path(target / file).parent_path(), ec);  // only when empty
            }
        }
        return;
    }
    core::write_file_atomic(staging.path() / "Updates.xml", index_text);
    if (mode == Mode::replace) {
        report.removed_other_files = files_outside_index(target, current->index());
        exchange_directories(staging.path(), target);
    } else {
        std::error_code ec;
        fs::remove(target, ec);  // an empty directory, if any: choose_mode checked
        fs::rename(staging.path(), target);
        staging.release();
    }
    core::sync_path(target.parent_path());
}

}  // namespace

GenerateReport generate_repository(const fs::path& repository, const GenerateOptions& options) {
    if (options.packages.empty() && options.repositories.empty()) {
        throw Error(
            "no packages given: name a packages directory with -p or a repository with "
            "--repository");
    }
    if (options.remove_existing && (options.update || options.update_new_components)) {
        throw Error("-r/--remove replaces the repository and cannot be combined with --update");
    }
    core::source_date_epoch();  // a bad value is an error before anything is read or written
    const fs::path target = resolve_target(repository);
    GenerateReport report;
    report.repository = target;
    check_output_location(target, options);
    fs::create_directories(target.parent_path());
    // Held until the new Updates.xml is in place: two runs on one repository would otherwise
    // delete each other's staging directories and archives. Stale staging directories are
    // removed only under the lock, when no other run can be using them.
    const core::FileLock lock = lock_repository(target);
    remove_stale_staging(target);

    std::optional<RepositoryDir> current;
    if (std::error_code ec; fs::is_directory(target, ec)) {
        current = RepositoryDir::open(target);
    }
    const Mode mode = choose_mode(target, options, current);
    const auto scan = scan_packages(options.packages, options.ignore_invalid_packages);
    report.warnings = scan.warnings;
    const auto sources = open_sources(options, report.warnings);
    check_include_names(options, scan, sources);

    // New files go beside a new repository (renamed into place at the end) or inside one being
    // updated (moved in, file by file, before its Updates.xml).
    core::ScratchDir staging(mode == Mode::update ? target : target.parent_path(),
                             mode == Mode::update
                                 ? std::string(".ferry-staging-")
                                 : "." + target.filename().string() + ".ferry-new-");
    core::ScratchDir meta_scratch;
    const unsigned threads =
        options.jobs > 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
    ProgressReporter progress(options);
    // Encoders run in parallel only while their memory fits: peak memory stays bounded whatever
    // the payload, at the price of running large-dictionary encoders one at a time.
    core::MemoryBudget memory(kEncoderMemoryBudget);
    BuildSettings settings;
    settings.target = target;
    settings.staging = staging.path();
    settings.in_place = mode == Mode::update;
    settings.write.format = options.format;
    settings.write.level = options.level;
    settings.write.mtime = core::reproducible_mtime();
    settings.write.reserve_memory = [&memory](std::uint64_t bytes) {
        return memory.acquire(bytes);
    };
    settings.metadata = options.metadata;
    settings.ignore_translations = options.ignore_translations;
    settings.on_bytes = [&progress](std::uint64_t delta) { progress.add_bytes(delta); };

    auto jobs = plan_components(options, mode, current, scan, sources, settings,
                                meta_scratch.path(), threads);
    check_services(jobs);
    for (const auto& job : jobs) {
        if (!job.unannounced_change.empty() && !job.content_sha1) {
            report.warnings.push_back(job.unannounced_change);
        }
        report.warnings.insert(report.warnings.end(), job.warnings.begin(), job.warnings.end());
    }
    build_archives(jobs, settings, threads, progress);

    formats::RepositoryIndex index;
    if (mode == Mode::update) {
        index.application_name = current->index().application_name;
        index.application_version = current->index().application_version;
        index.repository_updates = current->index().repository_updates;
    }
    index.checksum = true;
    for (auto& job : jobs) {
        with_context(fmt::format("finishing component {}", job.update.component.name),
                     [&] { finish_component(job, settings); });
        ComponentReport component{job.update.component.name,
                                  job.update.component.version,
                                  job.action,
                                  job.update.archives,
                                  {}};
        for (const auto& archive_job : job.archives) {
            component.stored.push_back(archive_job.stored);
        }
        report.components.push_back(std::move(component));
        index.packages.push_back(job.update);
    }
    if (options.metadata != MetadataMode::component) {
        report.metadata_name = write_united_metadata(jobs, settings, index);
    }
    if (mode == Mode::update) {
        carry_retention(index, current->index(), options.keep);
    }
    for (const auto& entry : fs::recursive_directory_iterator(staging.path())) {
        // A reused archive is a hard link into the old repository: nothing was written for it.
        if (entry.is_regular_file() && entry.hard_link_count() == 1) {
            report.bytes_written += entry.file_size();
        }
    }
    commit(mode, target, staging, index, current, report);
    return report;
}

}  // namespace ferry::repo
