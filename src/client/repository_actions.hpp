// IFW's RepositoryUpdate applied to the client's list of repositories: replace, remove and add
// actions carried by a repository's Updates.xml, relative URLs, and a bounded, loop-free chain.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/updates_xml.hpp"

namespace ferry::client {

// One repository the client fetches from.
struct RepositoryEntry {
    std::string url;
    std::string username;
    std::string password;
    std::string display_name;
    bool operator==(const RepositoryEntry&) const = default;
};

// Resolves a URL written in the Updates.xml of repository_url. A repository URL names a
// directory, so "../module" from "http://h/repositories/generic" is
// "http://h/repositories/module", as IFW resolves it (against the Updates.xml inside it).
std::string resolve_repository_url(std::string_view repository_url, std::string_view reference);

// Applies the actions that the Updates.xml of carrier_url holds to the list, in IFW's order:
// every replace, then every remove, then every add. Relative URLs are resolved against
// carrier_url. Replace swaps the entry whose URL is oldUrl for newUrl (keeping its credentials
// and name unless the action brings its own); remove drops url; add appends url with the
// action's credentials and display name unless the list has it already. Actions that name a
// URL missing from the list change nothing.
std::vector<RepositoryEntry> apply_repository_actions(
    std::vector<RepositoryEntry> repositories,
    const std::vector<formats::RepositoryAction>& actions, std::string_view carrier_url);

// Follows repository updates until the list is stable: each round fetches the actions of every
// listed repository (actions_of(url)) and applies them. More than max_rounds changing rounds is
// an error, and so is a list that comes back to an earlier state (a loop), with the sequence of
// lists in the message.
using ActionsOf = std::function<std::vector<formats::RepositoryAction>(const std::string& url)>;
std::vector<RepositoryEntry> follow_repository_actions(std::vector<RepositoryEntry> repositories,
                                                       const ActionsOf& actions_of,
                                                       int max_rounds = 8);

}  // namespace ferry::client
