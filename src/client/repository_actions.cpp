// Repository actions (IFW's <RepositoryUpdate>) on the client's repository list, and the small
// RFC 3986 reference resolver they need for relative URLs.
#include "client/repository_actions.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "core/error.hpp"

namespace ferry::client {

namespace {

struct UriParts {
    std::optional<std::string> scheme;
    std::optional<std::string> authority;
    std::string path;
    std::optional<std::string> query;
    std::optional<std::string> fragment;
};

// Splits like RFC 3986 appendix B: scheme ":" "//" authority path "?" query "#" fragment.
UriParts split_uri(std::string_view uri) {
    UriParts parts;
    if (const std::size_t hash = uri.find('#'); hash != std::string_view::npos) {
        parts.fragment = std::string(uri.substr(hash + 1));
        uri = uri.substr(0, hash);
    }
    if (const std::size_t question = uri.find('?'); question != std::string_view::npos) {
        parts.query = std::string(uri.substr(question + 1));
        uri = uri.substr(0, question);
    }
    const std::size_t colon = uri.find(':');
    if (colon != std::string_view::npos && colon > 0 && uri.find_first_of("/") > colon) {
        parts.scheme = std::string(uri.substr(0, colon));
        uri = uri.substr(colon + 1);
    }
    if (uri.starts_with("//")) {
        uri.remove_prefix(2);
        const std::size_t slash = std::min(uri.find('/'), uri.size());
        parts.authority = std::string(uri.substr(0, slash));
        uri = uri.substr(slash);
    }
    parts.path = std::string(uri);
    return parts;
}

// RFC 3986 section 5.2.4.
std::string remove_dot_segments(std::string_view input) {
    std::string output;
    while (!input.empty()) {
        if (input.starts_with("../")) {
            input.remove_prefix(3);
        } else if (input.starts_with("./")) {
            input.remove_prefix(2);
        } else if (input.starts_with("/./")) {
            input.remove_prefix(2);
        } else if (input == "/.") {
            input = "/";
        } else if (input.starts_with("/../") || input == "/..") {
            input = input.size() == 3 ? std::string_view("/") : input.substr(3);
            const std::size_t last = output.rfind('/');
            output.erase(last == std::string::npos ? 0 : last);
        } else if (input == "." || input == "..") {
            input = {};
        } else {
            const std::size_t next = input.find('/', input.front() == '/' ? 1 : 0);
            const std::size_t length = std::min(next, input.size());
            output += input.substr(0, length);
            input.remove_prefix(length);
        }
    }
    return output;
}

std::string merge_paths(const UriParts& base, std::string_view reference_path) {
    if (base.authority && base.path.empty()) {
        return "/" + std::string(reference_path);
    }
    const std::size_t slash = base.path.rfind('/');
    if (slash == std::string::npos) {
        return std::string(reference_path);
    }
    return base.path.substr(0, slash + 1) + std::string(reference_path);
}

std::string join_uri(const UriParts& parts) {
    std::string out;
    if (parts.scheme) {
        out += *parts.scheme + ":";
    }
    if (parts.authority) {
        out += "//" + *parts.authority;
    }
    out += parts.path;
    if (parts.query) {
        out += "?" + *parts.query;
    }
    if (parts.fragment) {
        out += "#" + *parts.fragment;
    }
    return out;
}

auto find_url(std::vector<RepositoryEntry>& list, const std::string& url) {
    return std::find_if(list.begin(), list.end(),
                        [&](const RepositoryEntry& e) { return e.url == url; });
}

// The URL without "user:password@", so that credentials never reach a message.
std::string without_credentials(const std::string& url) {
    UriParts parts = split_uri(url);
    if (parts.authority) {
        if (const std::size_t at = parts.authority->rfind('@'); at != std::string::npos) {
            parts.authority->erase(0, at + 1);
        }
    }
    return join_uri(parts);
}

std::string describe(const std::vector<RepositoryEntry>& list) {
    std::string out = "[";
    for (const RepositoryEntry& e : list) {
        out += out.size() > 1 ? ", " : "";
        out += without_credentials(e.url);
    }
    return out + "]";
}

}  // namespace

std::string resolve_reference(std::string_view base, std::string_view reference) {
    const UriParts b = split_uri(base);
    const UriParts r = split_uri(reference);
    UriParts t;
    if (r.scheme) {
        t = r;
        t.path = remove_dot_segments(r.path);
        return join_uri(t);
    }
    t.scheme = b.scheme;
    t.fragment = r.fragment;
    if (r.authority) {
        t.authority = r.authority;
        t.path = remove_dot_segments(r.path);
        t.query = r.query;
        return join_uri(t);
    }
    t.authority = b.authority;
    if (r.path.empty()) {
        t.path = b.path;
        t.query = r.query ? r.query : b.query;
    } else {
        t.path = remove_dot_segments(r.path.front() == '/' ? r.path : merge_paths(b, r.path));
        t.query = r.query;
    }
    return join_uri(t);
}

std::string resolve_repository_url(std::string_view repository_url, std::string_view reference) {
    std::string base(repository_url);
    if (!base.ends_with('/')) {
        base += '/';
    }
    std::string resolved = resolve_reference(base, reference);
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
