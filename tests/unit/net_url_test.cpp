// URL resolution (RFC 3986 section 5, as IFW resolves RepositoryUpdate references) and the
// separation of credentials from URLs.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "net/url.hpp"

namespace ferry::net {
namespace {

struct ResolveCase {
    const char* base;
    const char* reference;
    const char* expected;
};

TEST(UrlResolve, RelativeToTheDocumentThatCarriedIt) {
    const ResolveCase cases[] = {
        {"http://h/repositories/generic/Updates.xml", "../module", "http://h/repositories/module"},
        {"http://h/repositories/generic/Updates.xml", "../module/",
         "http://h/repositories/module/"},
        {"http://h/repositories/generic/Updates.xml", "extra",
         "http://h/repositories/generic/extra"},
        {"http://h/repositories/generic/Updates.xml", "./extra/",
         "http://h/repositories/generic/extra/"},
        {"http://h/repositories/generic/Updates.xml", "/other", "http://h/other"},
        {"http://h/repositories/generic/Updates.xml", "../../../../x", "http://h/x"},
        {"http://h/a/b/Updates.xml", "https://mirror.example/repo", "https://mirror.example/repo"},
        {"http://h/a/b/Updates.xml", "//cdn/r", "http://cdn/r"},
        {"http://h:8080/a/b/Updates.xml", "../c?x=1", "http://h:8080/a/c?x=1"},
        {"http://h/a/b/Updates.xml", "?v=2", "http://h/a/b/Updates.xml?v=2"},
        {"https://h/r/Updates.xml", "sub%20dir/", "https://h/r/sub%20dir/"},
        {"file:///srv/repo/generic/Updates.xml", "../module", "file:///srv/repo/module"},
        {"file:///srv/repo/Updates.xml", "file:///elsewhere/r", "file:///elsewhere/r"},
        {"http://h/r/", "", "http://h/r/"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(resolve_url(c.base, c.reference), c.expected) << c.base << " + " << c.reference;
    }
}

TEST(UrlResolve, UnparsableBaseIsAnErrorWithoutCredentials) {
    try {
        resolve_url("http://user:hunter2@/no host", "x");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("not a valid URL"), std::string::npos) << e.what();
    }
}

struct SplitCase {
    const char* url;
    const char* without;
    const char* username;
    const char* password;
};

TEST(UrlCredentials, SplitAndDecoded) {
    const SplitCase cases[] = {
        {"https://h/x", "https://h/x", "", ""},
        {"https://user:secret@h/x", "https://h/x", "user", "secret"},
        {"https://user@h:81/x", "https://h:81/x", "user", ""},
        {"https://us%40r:p%3Ass%25@h/x", "https://h/x", "us@r", "p:ss%"},
        {"http://a:b@h/path@with/at", "http://h/path@with/at", "a", "b"},
        {"http://h/path@with/at", "http://h/path@with/at", "", ""},
        {"http://u:@h/", "http://h/", "u", ""},
        {"http://u:bad%zz@h/", "http://h/", "u", "bad%zz"},
        {"file:///srv/repo", "file:///srv/repo", "", ""},
        {"not a url", "not a url", "", ""},
    };
    for (const auto& c : cases) {
        const auto split = split_credentials(c.url);
        EXPECT_EQ(split.url, c.without) << c.url;
        EXPECT_EQ(split.username, c.username) << c.url;
        EXPECT_EQ(split.password, c.password) << c.url;
        EXPECT_EQ(strip_credentials(c.url), c.without) << c.url;
    }
}

}  // namespace
}  // namespace ferry::net
