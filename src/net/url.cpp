// Reference resolution on libcurl's URL parser (which implements RFC 3986 section 5) and a
// small userinfo splitter that never fails, so it is safe on the way to an error message.
#include "net/url.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>

#include "core/error.hpp"

namespace ferry::net {

namespace {

using UrlHandle = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

std::string percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int high = hex_value(text[i + 1]);
            const int low = hex_value(text[i + 2]);
            if (high >= 0 && low >= 0) {
                out += static_cast<char>(high * 16 + low);
                i += 2;
                continue;
            }
        }
        out += plus_is_space && text[i] == '+' ? ' ' : text[i];
    }
    return out;
}

std::string resolve_url(std::string_view base_document_url, std::string_view reference) {
    UrlHandle url(curl_url(), &curl_url_cleanup);
    if (!url) {
        throw Error("cannot allocate a URL parser");
    }
    const std::string base(base_document_url);
    const std::string ref(reference);
    // file:// needs no host, and repositories may name a scheme-less base in tests and configs.
    const unsigned flags = CURLU_NON_SUPPORT_SCHEME;
    if (CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, base.c_str(), flags)) {
        throw Error::format("{}: not a valid URL ({})", strip_credentials(base),
                            curl_url_strerror(rc));
    }
    if (CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, ref.c_str(), flags)) {
        throw Error::format("{}: cannot resolve against {} ({})", strip_credentials(ref),
                            strip_credentials(base), curl_url_strerror(rc));
    }
    char* text = nullptr;
    if (CURLUcode rc = curl_url_get(url.get(), CURLUPART_URL, &text, 0)) {
        throw Error::format("{}: cannot resolve against {} ({})", strip_credentials(ref),
                            strip_credentials(base), curl_url_strerror(rc));
    }
    std::string resolved(text);
    curl_free(text);
    return resolved;
}

SplitUrl split_credentials(std::string_view url) {
    SplitUrl split{strip_credentials(url), {}, {}};
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos || split.url.size() == url.size()) {
        return split;
    }
    const auto authority_start = scheme + 3;
    const auto at = url.size() - split.url.size() + authority_start - 1;
    const std::string_view userinfo = url.substr(authority_start, at - authority_start);
    const auto colon = userinfo.find(':');
    split.username = percent_decode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) {
        split.password = percent_decode(userinfo.substr(colon + 1));
    }
    return split;
}

std::string strip_credentials(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) {
        return std::string(url);
    }
    const auto authority_start = scheme + 3;
    const auto authority_end = url.find_first_of("/?#", authority_start);
    const auto at =
        url.rfind('@', authority_end == std::string_view::npos ? url.size() : authority_end);
    if (at == std::string_view::npos || at < authority_start) {
        return std::string(url);
    }
    return std::string(url.substr(0, authority_start)) + std::string(url.substr(at + 1));
}

std::string repository_url(std::string_view text) {
    const std::string shown = strip_credentials(text);
    if (text.empty()) {
        throw Error("the repository URL is empty");
    }
    if (text.front() == '/') {
        return "file://" + std::string(text);
    }
    const auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) {
        throw Error::format(
            "\"{}\" is neither a URL nor an absolute path; give http://, https://, file:///PATH "
            "or /PATH",
            shown);
    }
    std::string scheme(text.substr(0, scheme_end));
    for (char& c : scheme) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (scheme != "http" && scheme != "https" && scheme != "file") {
        throw Error::format(
            "{}: ferry reads repositories over http://, https:// and file://, not {}://", shown,
            scheme);
    }
    if (scheme == "file") {
        const std::string_view rest = text.substr(scheme_end + 3);
        if (!rest.starts_with('/') && !rest.starts_with("localhost/")) {
            throw Error::format("{}: a file:// URL needs an absolute path (file:///PATH)", shown);
        }
    }
    return std::string(text);
}

bool is_url(std::string_view text) {
    return text.find("://") != std::string_view::npos;
}

std::string join_url(std::string_view base, std::string_view relative) {
    std::string joined(base);
    if (!joined.empty() && joined.back() != '/') {
        joined += '/';
    }
    joined += relative;
    return joined;
}

}  // namespace ferry::net
