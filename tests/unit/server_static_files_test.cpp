// Static files served by the server core of `ferry serve` on loopback: streamed with
// validators, conditional and Range requests, gzip, path safety and files that change, checked
// with httplib's client, raw sockets and the Downloader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "core/files.hpp"
#include "net/downloader.hpp"
#include "server/http_server.hpp"
#include "server/static_files.hpp"
#include "support/test_support.hpp"
#include "unit/server_http_support.hpp"

namespace ferry::server {
namespace {

namespace fs = std::filesystem;
using http_testing::peak_rss;
using http_testing::quick_options;
using http_testing::raw_get;
using http_testing::ServerHttp;
using testing::error_of;
using testing::random_bytes;
using testing::read_text;
using testing::write_text;

TEST_F(ServerHttp, ALargeFileRoundTripsWithoutBeingHeldInMemory) {
    constexpr std::size_t size = 20u << 20;
    write_text(root_.path() / "big.7z", random_bytes(size, 1));
    start();
    const std::uint64_t before = peak_rss();
    const auto result =
        net::Downloader(quick_options()).download(url("big.7z"), out_.path() / "big.7z");
    const std::uint64_t after = peak_rss();
    EXPECT_EQ(result.http_status, 200);
    EXPECT_EQ(result.size, size);
    EXPECT_LT(after, before + (16u << 20)) << "peak memory grew by " << (after - before);
    EXPECT_TRUE(read_text(out_.path() / "big.7z") == read_text(root_.path() / "big.7z"));
}

TEST_F(ServerHttp, HeadAnswersTheHeadersWithoutTheBody) {
    write_text(root_.path() / "a/Updates.xml", "<Updates/>");
    write_text(root_.path() / "a/x.7z.sha1", "abc");
    start();
    httplib::Client client("127.0.0.1", port());
    const auto res = client.Head("/repo/a/x.7z.sha1");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_TRUE(res->body.empty());
    EXPECT_EQ(res->get_header_value("Content-Length"), "3");
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain");
    EXPECT_EQ(res->get_header_value("Accept-Ranges"), "bytes");
    EXPECT_TRUE(res->has_header("ETag"));
    EXPECT_TRUE(res->has_header("Last-Modified"));
    const auto get = client.Get("/repo/a/Updates.xml", {{"Accept-Encoding", "identity"}});
    ASSERT_TRUE(get);
    EXPECT_EQ(get->body, "<Updates/>");
    EXPECT_EQ(get->get_header_value("Content-Type"), "application/xml");
}

TEST_F(ServerHttp, MissingFilesAndDirectoriesAre404WithAJsonError) {
    write_text(root_.path() / "dir/file.json", "{}");
    start();
    httplib::Client client("127.0.0.1", port());
    for (const std::string path : {"/repo/missing.xml", "/repo/dir", "/repo/dir/", "/elsewhere"}) {
        const auto res = client.Get(path);
        ASSERT_TRUE(res) << path;
        EXPECT_EQ(res->status, 404) << path;
        EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << path;
        const auto body = nlohmann::json::parse(res->body);
        EXPECT_EQ(body["error"]["status"], 404) << path;
        EXPECT_FALSE(body["error"]["message"].get<std::string>().empty()) << path;
    }
}

TEST_F(ServerHttp, PathsLeadingOutOfTheRootAreNotServed) {
    const std::string secret = "secret outside the repository";
    write_text(out_.path() / "secret.txt", secret);
    write_text(root_.path() / "inside.txt", "inside");
    fs::create_symlink(out_.path() / "secret.txt", root_.path() / "link.txt");
    fs::create_directory_symlink(out_.path(), root_.path() / "outdir");
    fs::create_symlink(root_.path() / "inside.txt", root_.path() / "alias.txt");
    start();
    const std::string out = out_.path().filename().string();
    for (const std::string& target : std::vector<std::string>{
             "/repo/../" + out + "/secret.txt", "/repo/%2e%2e/" + out + "/secret.txt",
             "/repo/%2E%2E%2F" + out + "%2Fsecret.txt", "/repo/..%2f" + out + "%2fsecret.txt",
             "/repo/./../" + out + "/secret.txt",
             "/repo//" + out_.path().relative_path().string() + "/secret.txt", "/repo/link.txt",
             "/repo/outdir/secret.txt", "/repo/inside.txt%00.xml"}) {
        const auto res = raw_get(port(), target);
        EXPECT_TRUE(res.status == 403 || res.status == 404) << target << ": " << res.status;
        EXPECT_EQ(res.body.find(secret), std::string::npos) << target;
    }
    // Symlinks that stay inside are followed.
    EXPECT_EQ(raw_get(port(), "/repo/alias.txt").body, "inside");
}

TEST_F(ServerHttp, AMatchingETagAnswers304) {
    write_text(root_.path() / "pkg.7z", random_bytes(1000, 2));
    start();
    httplib::Client client("127.0.0.1", port());
    const auto first = client.Get("/repo/pkg.7z");
    ASSERT_TRUE(first);
    const std::string etag = first->get_header_value("ETag");
    ASSERT_TRUE(etag.starts_with("\"")) << "a strong ETag: " << etag;
    for (const std::string& header :
         std::vector<std::string>{etag, "\"other\", " + etag, std::string("*")}) {
        const auto res = client.Get("/repo/pkg.7z", {{"If-None-Match", header}});
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 304) << header;
        EXPECT_TRUE(res->body.empty());
        EXPECT_EQ(res->get_header_value("ETag"), etag);
    }
    const auto other = client.Get("/repo/pkg.7z", {{"If-None-Match", "\"other\""}});
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 200);
    EXPECT_EQ(other->body.size(), 1000u);

    // A changed file has another ETag.
    write_text(root_.path() / "pkg.7z", random_bytes(1001, 3));
    const auto changed = client.Get("/repo/pkg.7z", {{"If-None-Match", etag}});
    ASSERT_TRUE(changed);
    EXPECT_EQ(changed->status, 200);
    EXPECT_NE(changed->get_header_value("ETag"), etag);
}

TEST_F(ServerHttp, IfModifiedSinceAnswers304UnlessTheFileIsNewer) {
    const fs::path file = root_.path() / "Updates.xml";
    write_text(file, "<Updates/>");
    fs::last_write_time(file, fs::last_write_time(file) - std::chrono::hours(1));
    start();
    httplib::Client client("127.0.0.1", port());
    const auto first = client.Get("/repo/Updates.xml");
    ASSERT_TRUE(first);
    const std::string modified = first->get_header_value("Last-Modified");
    ASSERT_TRUE(modified.ends_with(" GMT")) << modified;
    const auto same = client.Get("/repo/Updates.xml", {{"If-Modified-Since", modified}});
    ASSERT_TRUE(same);
    EXPECT_EQ(same->status, 304);
    const auto old =
        client.Get("/repo/Updates.xml", {{"If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"}});
    ASSERT_TRUE(old);
    EXPECT_EQ(old->status, 200);
    EXPECT_EQ(old->body, "<Updates/>");
}

TEST_F(ServerHttp, RangesAnswer206WithTheRequestedBytes) {
    const auto content = random_bytes(1000, 4);
    write_text(root_.path() / "pkg.7z", content);
    start();
    httplib::Client client("127.0.0.1", port());
    struct Case {
        std::string range;
        std::size_t first;
        std::size_t last;
    };
    for (const auto& c :
         {Case{"bytes=10-19", 10, 19}, Case{"bytes=990-", 990, 999}, Case{"bytes=-5", 995, 999},
          Case{"bytes=900-5000", 900, 999}, Case{"bytes=0-0", 0, 0}}) {
        const auto res = client.Get("/repo/pkg.7z", {{"Range", c.range}});
        ASSERT_TRUE(res) << c.range;
        EXPECT_EQ(res->status, 206) << c.range;
        EXPECT_EQ(res->body, content.substr(c.first, c.last - c.first + 1)) << c.range;
        EXPECT_EQ(res->get_header_value("Content-Range"),
                  "bytes " + std::to_string(c.first) + "-" + std::to_string(c.last) + "/1000");
    }
    // Several ranges at once are answered with the whole file, as RFC 7233 allows.
    const auto several = client.Get("/repo/pkg.7z", {{"Range", "bytes=0-1,5-6"}});
    ASSERT_TRUE(several);
    EXPECT_EQ(several->status, 200);
    EXPECT_EQ(several->body, content);
}

TEST_F(ServerHttp, IfRangeAppliesTheRangeOnlyToTheSameFile) {
    const auto content = random_bytes(1000, 5);
    write_text(root_.path() / "pkg.7z", content);
    start();
    httplib::Client client("127.0.0.1", port());
    const auto first = client.Get("/repo/pkg.7z");
    ASSERT_TRUE(first);
    const std::string etag = first->get_header_value("ETag");
    const auto same = client.Get("/repo/pkg.7z", {{"Range", "bytes=500-"}, {"If-Range", etag}});
    ASSERT_TRUE(same);
    EXPECT_EQ(same->status, 206);
    EXPECT_EQ(same->body, content.substr(500));
    const auto old =
        client.Get("/repo/pkg.7z", {{"Range", "bytes=500-"}, {"If-Range", "\"an-old-tag\""}});
    ASSERT_TRUE(old);
    EXPECT_EQ(old->status, 200);
    EXPECT_EQ(old->body, content);
}

TEST_F(ServerHttp, AnUnsatisfiableRangeIs416) {
    write_text(root_.path() / "pkg.7z", random_bytes(1000, 6));
    start();
    httplib::Client client("127.0.0.1", port());
    for (const std::string range : {"bytes=1000-", "bytes=5000-6000", "bytes=-0"}) {
        const auto res = client.Get("/repo/pkg.7z", {{"Range", range}});
        ASSERT_TRUE(res) << range;
        EXPECT_EQ(res->status, 416) << range;
        EXPECT_EQ(res->get_header_value("Content-Range"), "bytes */1000") << range;
    }
}

TEST_F(ServerHttp, TheDownloaderResumesAPartWith206) {
    const auto content = random_bytes(400'000, 7);
    write_text(root_.path() / "pkg.7z", content);
    write_text(out_.path() / "pkg.7z.part", content.substr(0, 200'000));
    start();
    const auto result =
        net::Downloader(quick_options()).download(url("pkg.7z"), out_.path() / "pkg.7z");
    EXPECT_TRUE(result.resumed);
    EXPECT_EQ(result.http_status, 206);
    EXPECT_EQ(result.bytes_transferred, 200'000u);
    EXPECT_TRUE(read_text(out_.path() / "pkg.7z") == content);
}

TEST_F(ServerHttp, TheDownloadersCachedFetchIsRevalidatedWith304) {
    const fs::path file = root_.path() / "Updates.xml";
    write_text(file, "<Updates>one</Updates>");
    fs::last_write_time(file, fs::last_write_time(file) - std::chrono::hours(1));
    start();
    net::Downloader downloader(quick_options());
    const auto first = downloader.fetch_cached(url("Updates.xml"), out_.path() / "cache");
    EXPECT_EQ(first.body, "<Updates>one</Updates>");
    const auto second = downloader.fetch_cached(url("Updates.xml"), out_.path() / "cache");
    EXPECT_EQ(second.body, "<Updates>one</Updates>");
    EXPECT_TRUE(second.result.not_modified);
    EXPECT_EQ(second.result.http_status, 304);
}

TEST_F(ServerHttp, XmlIsGzippedWhenAskedButArchivesAreNot) {
    std::string xml = "<Updates>\n";
    for (int i = 0; i < 2000; ++i) {
        xml += "  <PackageUpdate><Name>pkg" + std::to_string(i) + "</Name></PackageUpdate>\n";
    }
    xml += "</Updates>\n";
    write_text(root_.path() / "Updates.xml", xml);
    write_text(root_.path() / "pkg.7z", xml);
    start();

    httplib::Client raw("127.0.0.1", port());
    raw.set_decompress(false);
    const auto compressed = raw.Get("/repo/Updates.xml", {{"Accept-Encoding", "gzip"}});
    ASSERT_TRUE(compressed);
    EXPECT_EQ(compressed->get_header_value("Content-Encoding"), "gzip");
    EXPECT_LT(compressed->body.size(), xml.size() / 5);
    ASSERT_GE(compressed->body.size(), 2u);
    EXPECT_EQ(compressed->body.substr(0, 2), "\x1f\x8b") << "gzip magic";

    httplib::Client decoding("127.0.0.1", port());
    const auto decoded = decoding.Get("/repo/Updates.xml", {{"Accept-Encoding", "gzip"}});
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->get_header_value("Content-Encoding"), "gzip");
    EXPECT_TRUE(decoded->body == xml);

    const auto plain = raw.Get("/repo/Updates.xml", {{"Accept-Encoding", "identity"}});
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->has_header("Content-Encoding"));
    EXPECT_TRUE(plain->body == xml);

    const auto ranged =
        raw.Get("/repo/Updates.xml", {{"Accept-Encoding", "gzip"}, {"Range", "bytes=0-9"}});
    ASSERT_TRUE(ranged);
    EXPECT_EQ(ranged->status, 206);
    EXPECT_FALSE(ranged->has_header("Content-Encoding"));
    EXPECT_EQ(ranged->body, xml.substr(0, 10));

    const auto archive = raw.Get("/repo/pkg.7z", {{"Accept-Encoding", "gzip"}});
    ASSERT_TRUE(archive);
    EXPECT_FALSE(archive->has_header("Content-Encoding"));
    EXPECT_EQ(archive->get_header_value("Content-Type"), "application/x-7z-compressed");
    EXPECT_TRUE(archive->body == xml);
}

// Small files are kept in memory; a new version (written beside and renamed over, as the
// market does, or rewritten in place) must be what the next request gets, plain and gzipped.
TEST_F(ServerHttp, AChangedFileIsServedNewAtOnce) {
    write_text(root_.path() / "Updates.xml", "<Updates>first</Updates>\n");
    start();
    httplib::Client client("127.0.0.1", port());
    const auto get = [&](bool gzip) {
        httplib::Headers headers;
        if (gzip)
            headers.emplace("Accept-Encoding", "gzip");
        auto res = client.Get("/repo/Updates.xml", headers);
        EXPECT_TRUE(res);
        EXPECT_EQ(res ? res->get_header_value("Content-Encoding") : "", gzip ? "gzip" : "");
        return res ? res->body : std::string();
    };
    EXPECT_EQ(get(false), "<Updates>first</Updates>\n");
    EXPECT_EQ(get(true), "<Updates>first</Updates>\n");

    write_text(root_.path() / "Updates.xml.new", "<Updates>second, longer</Updates>\n");
    fs::rename(root_.path() / "Updates.xml.new", root_.path() / "Updates.xml");
    EXPECT_EQ(get(false), "<Updates>second, longer</Updates>\n");
    EXPECT_EQ(get(true), "<Updates>second, longer</Updates>\n");

    // Same size, same inode: only the modification time tells them apart.
    write_text(root_.path() / "Updates.xml", "<Updates>third!, longer</Updates>\n");
    const auto later = fs::last_write_time(root_.path() / "Updates.xml") + std::chrono::seconds(1);
    fs::last_write_time(root_.path() / "Updates.xml", later);
    EXPECT_EQ(get(false), "<Updates>third!, longer</Updates>\n");
    EXPECT_EQ(get(true), "<Updates>third!, longer</Updates>\n");
}

}  // namespace
}  // namespace ferry::server
