// `ferry repo redirect`: edits the RepositoryUpdate section of a repository's Updates.xml (add,
// remove or replace repositories for clients), leaving every other element as it was.
#pragma once

#include <filesystem>
#include <vector>

#include "formats/updates_xml.hpp"

namespace ferry::repo {

// Adds the action to REPOSITORY_DIR/Updates.xml. An existing entry for the same URL (url for
// add/remove, oldUrl for replace) is replaced rather than duplicated. The file is rewritten
// atomically.
void add_redirect(const std::filesystem::path& repository, const formats::RepositoryAction& action);

// Deletes the entries whose url or oldUrl equals url; returns how many were deleted.
std::size_t drop_redirect(const std::filesystem::path& repository, const std::string& url);

std::vector<formats::RepositoryAction> list_redirects(const std::filesystem::path& repository);

}  // namespace ferry::repo
