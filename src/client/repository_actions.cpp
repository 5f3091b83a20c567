// Repository actions (IFW's <RepositoryUpdate>) on the client's repository list, and the small
// RFC 3986 reference resolver they need for relative URLs.
#include "client/repository_actions.hpp"

#include "net/url.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "core/error.hpp"

namespace ferry::client {

namespace {

auto find_url(std::vector<RepositoryEntry>& list, const std::string& url) {
    return std::find_if(list.begin(), list.end(),
                        [&](const RepositoryEntry& e) { return e.url == url; });
}

std::string describe(const std::vector<RepositoryEntry>& list) {
    std::string out = "[";
    for (const RepositoryEntry& e : list) {
        out += out.size() > 1 ? ", " : "";
        out += net::strip_credentials(e.url);
    }
    return out + "]";
}

}  // namespace

std::string resolve_repository_url(std::string_view repository_url, std::string_view reference) {
    std::string base(repository_url);
    if (!base.ends_with('/')) {
        base += '/';
    }
    std::string resolved = net::resolve_url(base, reference);
    // "./" or "" names the repository itself: keep its URL as the user wrote it.
    if (resolved == base && !repository_url.ends_with('/')) {
        resolved.pop_back();
    }
    return resolved;
}

std::vector<RepositoryEntry> apply_repository_actions(
    std::vector<RepositoryEntry> repositories,
    const std::vector<formats::RepositoryAction>& actions, std::string_view carrier_url) {
    using Kind = formats::RepositoryAction::Kind;
    auto resolve = [&](const std::string& url) { return resolve_repository_url(carrier_url, url); };
    // IFW documents replace as "oldUrl is replaced by newUrl", but its implementation swaps
    // the two attributes; ferry follows the documentation so that repositories written for it
    // behave as documented.
    for (const formats::RepositoryAction& a : actions) {
        if (a.kind != Kind::replace) {
            continue;
        }
        auto it = find_url(repositories, resolve(a.old_url));
        if (it == repositories.end()) {
            continue;
        }
        it->url = resolve(a.new_url);
        if (!a.username.empty() || !a.password.empty()) {
            it->username = a.username;
            it->password = a.password;
        }
        if (!a.display_name.empty()) {
            it->display_name = a.display_name;
        }
        // A replacement that is already listed would otherwise appear twice.
        auto first = find_url(repositories, it->url);
        if (first != it) {
            repositories.erase(it);
        }
    }
    for (const formats::RepositoryAction& a : actions) {
        if (a.kind == Kind::remove) {
            const std::string url = resolve(a.url);
            std::erase_if(repositories, [&](const RepositoryEntry& e) { return e.url == url; });
        }
    }
    for (const formats::RepositoryAction& a : actions) {
        if (a.kind != Kind::add) {
            continue;
        }
        RepositoryEntry entry{resolve(a.url), a.username, a.password, a.display_name};
        if (find_url(repositories, entry.url) == repositories.end()) {
            repositories.push_back(std::move(entry));
        }
    }
    return repositories;
}

std::vector<RepositoryEntry> follow_repository_actions(std::vector<RepositoryEntry> repositories,
                                                       const ActionsOf& actions_of,
                                                       int max_rounds) {
    std::vector<std::string> seen{describe(repositories)};
    for (int round = 0;; ++round) {
        std::vector<RepositoryEntry> next = repositories;
        for (const RepositoryEntry& entry : repositories) {
            next = apply_repository_actions(std::move(next), actions_of(entry.url), entry.url);
        }
        if (next == repositories) {
            return repositories;
        }
        const std::string state = describe(next);
        if (std::find(seen.begin(), seen.end(), state) != seen.end()) {
            seen.push_back(state);
            std::string chain;
            for (const std::string& s : seen) {
                chain += chain.empty() ? s : " -> " + s;
            }
            throw Error::format("repository updates loop: {}", chain);
        }
        if (round + 1 >= max_rounds) {
            throw Error::format(
                "repository updates did not settle after {} rounds (last list {}); a repository "
                "keeps redirecting",
                max_rounds, state);
        }
        seen.push_back(state);
        repositories = std::move(next);
    }
}

}  // namespace ferry::client
