// URL handling for repositories: resolving references relative to the document that carried
// them (RFC 3986, as IFW resolves RepositoryUpdate entries) and separating credentials out.
#pragma once

#include <string>
#include <string_view>

namespace ferry::net {

// Resolves reference against the URL of the document it came from:
// "http://h/repositories/generic/Updates.xml" + "../module" → "http://h/repositories/module".
// Absolute references are returned as they are (normalised). Throws ferry::Error naming both
// (without credentials) when either cannot be parsed.
std::string resolve_url(std::string_view base_document_url, std::string_view reference);

struct SplitUrl {
    std::string url;       // without user and password
    std::string username;  // percent-decoded
    std::string password;  // percent-decoded
};

// "https://us%40r:p%3Ass@h/x" → {"https://h/x", "us@r", "p:ss"}. URLs without userinfo come
// back unchanged with empty credentials.
SplitUrl split_credentials(std::string_view url);

// The URL without userinfo, safe to show in messages and logs:
// "https://user:secret@host/x" → "https://host/x".
std::string strip_credentials(std::string_view url);

// Joins a base directory URL and a relative path: "http://h/repo" + "a/b" → "http://h/repo/a/b".
std::string join_url(std::string_view base, std::string_view relative);

bool is_url(std::string_view text);

// A repository location as a user types it, made into the URL ferry stores and fetches: http://,
// https:// and file:// URLs are taken (credentials kept), an absolute path becomes a file://
// URL. Other schemes, relative paths (which would mean something else from another directory)
// and file:// URLs naming a host are refused with a message saying what to give instead.
std::string repository_url(std::string_view text);

// %XX sequences decoded (others left as they are); '+' becomes a space in query strings.
std::string percent_decode(std::string_view text, bool plus_is_space = false);

}  // namespace ferry::net
