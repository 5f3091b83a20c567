#include "market/publish_build.hpp"

#include <cstdlib>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/version.hpp"
#include "formats/package_version.hpp"
#include "formats/updates_xml.hpp"
#include "repo/generator.hpp"

namespace ferry::market {

fs::path publish_cache_root() {
    for (const auto& [variable, below] :
         {std::pair{"FERRY_CACHE_DIR", ""}, std::pair{"XDG_CACHE_HOME", "ferry"},
          std::pair{"HOME", ".cache/ferry"}}) {
        const char* value = std::getenv(variable);
        if (value != nullptr && *value != '\0') {
            return fs::path(value) / below;
        }
    }
    return {};
}

BuildCache::BuildCache(const fs::path& root, const fs::path& packages) {
    if (root.empty()) {
        return;
    }
    const std::string tree = fs::canonical(packages).string();
    dir_ = root / "publish" / core::sha256_hex(tree).substr(0, 16);
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) {
        throw Error::format(ErrorKind::storage, "{}: cannot create the build cache: {}",
                            dir_.string(), ec.message());
    }
    core::write_file_atomic(dir_ / "packages.txt", tree + "\n");
    lock_ = with_context("locking the build cache",
                         [&] { return core::FileLock::wait_for(dir_ / "lock"); });
}

void build_repository(const fs::path& packages, const fs::path& out) {
    repo::GenerateOptions options;
    options.packages = {packages};
    options.remove_existing = true;
    repo::generate_repository(out, options);
}

std::map<std::string, std::string> versions_to_raise(
    const RepositoryFiles& built, const std::vector<RevisionComponent>& published) {
    std::map<std::string, std::string> shas;
    for (const auto& file : built.files) {
        shas[file.path] = file.sha256;
    }
    const auto index = formats::parse_updates_xml(built.updates_xml, "Updates.xml");
    std::map<std::string, std::string> raise;
    for (const RevisionComponent& before : published) {
        const formats::PackageUpdate* package = index.find(before.name);
        if (package != nullptr &&
            component_digest(*package, index.checksum, shas) != before.content_sha256 &&
            core::compare_versions(package->component.version, before.version) <= 0) {
            raise[package->component.name] = formats::raised_version(before.version);
        }
    }
    return raise;
}

}  // namespace ferry::market
