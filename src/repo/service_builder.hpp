// The service side of repogen (docs/SERVICES.md): a component with meta/service.yaml runs the
// image in its data/. Its image archive is unpacked into the repository's content-addressed
// images/ folder (every blob once, however many components use it) with a registry manifest,
// and its description is written as <Name>/<Version>service.json.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "formats/service.hpp"
#include "formats/updates_xml.hpp"
#include "repo/package_source.hpp"

namespace ferry::repo {

struct BuildSettings;

struct ServicePlan {
    formats::ServiceDescription description;
    formats::ServiceRecord record;
};

// Reads a package's service description, when it has one, and takes its image archive out of
// the data archive plans (a service component's data/ holds exactly one image archive; its other
// files become data archives as usual). Unpacks the image and writes the manifest and the
// description into settings.staging. nullopt for a file component.
std::optional<ServicePlan> plan_service(const SourcePackage& package,
                                        std::vector<DataArchivePlan>& data_plans,
                                        const BuildSettings& settings);

// The description a repository holds for a service component (its service.json).
formats::ServiceDescription read_service_file(const fs::path& repository,
                                              const formats::PackageUpdate& package);

// Puts a service component's files (description, manifest, blobs) from another repository into
// the staging directory; nothing when they are already where they belong (an update in place).
void stage_service_files(const fs::path& source, const formats::PackageUpdate& package,
                         const BuildSettings& settings);

// Why a service changed while its version did not ("its image" / "its service description"),
// or empty when it did not.
std::string service_change(const formats::PackageUpdate* previous,
                           const std::optional<formats::ServiceRecord>& next);

// The dependencies of the description that package.xml does not already name are added to the
// component's, so that installing a service installs what it depends on (IFW's installers too).
void add_service_dependencies(const formats::ServiceDescription& description,
                              formats::ComponentDescription& component);

}  // namespace ferry::repo
