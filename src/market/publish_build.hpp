// The building half of `ferry publish`: a packages tree built into a repository in a cache
// directory per tree (so that a re-publish compresses only the components that changed), and
// the versions --bump raises against what the market has published.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/file_lock.hpp"
#include "market/catalog.hpp"
#include "market/publisher.hpp"

namespace ferry::market {

// FERRY_CACHE_DIR, else $XDG_CACHE_HOME/ferry, else ~/.cache/ferry; empty when none is set.
fs::path publish_cache_root();

// Where the builds of one packages tree go: the previous build of the same tree is where
// repogen takes the archives of unchanged components from. Held under an flock, so that two
// publishes of one tree do not build into one directory at once.
class BuildCache {
  public:
    // A cache below root for the tree; disabled (enabled() false) when root is empty.
    BuildCache(const fs::path& root, const fs::path& packages);

    bool enabled() const { return !dir_.empty(); }
    fs::path repository() const { return dir_ / "repository"; }

  private:
    fs::path dir_;
    std::optional<core::FileLock> lock_;  // none when disabled
};

// Builds packages into out, replacing what a previous build left there; that build's archives
// of components whose inputs did not change are reused (hard links) instead of recompressed.
void build_repository(const fs::path& packages, const fs::path& out);

// The components of a built repository whose content differs from the published revision's
// while their version does not grow, each with the version to give it (the published one
// raised): name -> version. Components new to the market are left as they are.
std::map<std::string, std::string> versions_to_raise(
    const RepositoryFiles& built, const std::vector<RevisionComponent>& published);

}  // namespace ferry::market
