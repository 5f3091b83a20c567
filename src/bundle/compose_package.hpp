// The docker-compose package (the seed's second export format): one .tar.gz (or .tar) that
// unpacks to a folder running an app's services with Docker alone:
//   <folder>/docker-compose.yaml   the services (formats/compose.hpp)
//   <folder>/.env                  ports and bind address; secrets empty until run.sh makes them
//   <folder>/run.sh                up | down | status | logs (never downloads anything)
//   <folder>/images.tar            every image, each layer once (`docker load`'s input)
//   <folder>/images.list           the tags images.tar holds, one per line
//   <folder>/service-config/...    the services' config files
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "archive/archive.hpp"
#include "formats/compose.hpp"

namespace ferry::bundle {

namespace fs = std::filesystem;

struct ComposeExportOptions {
    std::string folder;  // the folder inside the package (and the Compose project's name)
    // tar_gz or tar (a package named .tar: written at the speed of copying its files)
    archive::ArchiveFormat format = archive::ArchiveFormat::tar_gz;
    int level = 1;  // gzip level; stored when samples of the layers show gzip would not pay
    std::function<void(const std::string&)> say;  // progress in words; may be empty
};

struct ComposeExportResult {
    std::vector<std::string> services;  // component names, in start order
    std::vector<std::string> skipped;   // file components, which a Compose package cannot run
    std::uint64_t bytes = 0;            // the package's size
};

// Writes the package of every service component of the repository in repository_dir to output
// (atomically). Throws ferry::Error when the repository has no service component, or a service
// file or blob is missing or not what the index records.
ComposeExportResult write_compose_package(const fs::path& repository_dir, const fs::path& output,
                                          const ComposeExportOptions& options);

// The services of a repository as a Compose project (images tagged by formats::image_tag).
formats::ComposeProject compose_project(const fs::path& repository_dir, const std::string& name,
                                        std::vector<std::string>* skipped = nullptr);

// The script a package runs with; shellcheck-clean POSIX sh.
std::string_view run_script();

}  // namespace ferry::bundle
