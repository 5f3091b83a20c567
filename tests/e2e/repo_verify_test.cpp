// End-to-end: `ferry repo verify` over http:// (a real nginx on loopback) and file://, and
// ferry's tools on a repository laid out by IFW's repogen (archives made by the real 7z).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/hash.hpp"
#include "e2e/e2e_support.hpp"
#include "formats/updates_xml.hpp"
#include "support/nginx_server.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RepoVerify : public FerryTest {
  protected:
    fs::path make_repository() {
        const fs::path packages = root() / "packages";
        make_package(packages, "a", "1.0", {{"a.txt", "a"}, {"docs/guide.txt", "guide"}});
        make_package(packages, "b", "1.0", {{"b.txt", "b"}});
        auto r = ferry({"repogen", "-p", packages.string(), "repo"});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return root() / "repo";
    }

    // A repository as IFW's repogen writes it: archives by the real 7z, CompressedSize counting
    // the sidecars, no ferry elements, united metadata with an IFW-style stamp.
    fs::path make_ifw_repository() {
        const fs::path repo = root() / "ifw";
        const fs::path work = root() / "ifw-work";
        write_text(work / "data/readme.txt", "from IFW\n");
        write_text(work / "meta/org.ifw.tool/installscript.qs", "function Component() {}\n");
        fs::create_directories(repo / "org.ifw.tool");
        const fs::path archive = repo / "org.ifw.tool/1.0.0content.7z";
        EXPECT_EQ(
            run({"/usr/bin/7z", "a", archive.string(), "readme.txt"}, {}, work / "data").exit_code,
            0);
        const auto digest = core::digest_file(archive);
        write_text(archive.string() + ".sha1", digest.sha1);
        const fs::path meta = repo / "org.ifw.tool/1.0.0meta.7z";
        EXPECT_EQ(
            run({"/usr/bin/7z", "a", meta.string(), "org.ifw.tool"}, {}, work / "meta").exit_code,
            0);
        const fs::path united = repo / "2020-11-10-0816_meta.7z";
        EXPECT_EQ(
            run({"/usr/bin/7z", "a", united.string(), "org.ifw.tool"}, {}, work / "meta").exit_code,
            0);
        write_text(repo / "Updates.xml",
                   "<Updates>\n <ApplicationName>{AnyApplication}</ApplicationName>\n"
                   " <ApplicationVersion>1.0.0</ApplicationVersion>\n <Checksum>true</Checksum>\n"
                   " <PackageUpdate>\n  <Name>org.ifw.tool</Name>\n"
                   "  <DisplayName>Tool</DisplayName>\n  <Description>IFW-made</Description>\n"
                   "  <Version>1.0.0</Version>\n  <ReleaseDate>2020-11-10</ReleaseDate>\n"
                   "  <Script>installscript.qs</Script>\n"
                   "  <UpdateFile OS=\"Any\" UncompressedSize=\"9\" CompressedSize=\"" +
                       std::to_string(digest.size + 40) +
                       "\"/>\n"
                       "  <DownloadableArchives>content.7z</DownloadableArchives>\n"
                       "  <SHA1>" +
                       core::digest_file(meta).sha1 +
                       "</SHA1>\n </PackageUpdate>\n"
                       " <SHA1>" +
                       core::digest_file(united).sha1 +
                       "</SHA1>\n <MetadataName>2020-11-10-0816_meta.7z</MetadataName>\n"
                       "</Updates>\n");
        return repo;
    }
};

TEST_F(RepoVerify, OverHttpFromNginx) {
    const fs::path repo = make_repository();
    NginxServer server(repo);
    auto r = ferry({"repo", "verify", server.url()});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("OK (2 components"));

    std::string archive = read_text(repo / "a/1.0docs.7z");
    archive.back() ^= 1;
    write_text(repo / "a/1.0docs.7z", archive);
    fs::remove(repo / "b/1.0content.7z.sha1");
    r = ferry({"repo", "verify", "--json", server.url()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("a/1.0docs.7z"));
    EXPECT_THAT(r.out, HasSubstr("b/1.0content.7z.sha1"));
    EXPECT_THAT(r.out, HasSubstr("\"ok\": false"));
}

TEST_F(RepoVerify, FileUrl) {
    const fs::path repo = make_repository();
    auto r = ferry({"repo", "verify", "file://" + repo.string()});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(RepoVerify, UnreachableOrEmptyServerIsAnErrorWithoutCredentials) {
    auto r = ferry({"repo", "verify",
                    "http://user:secret@127.0.0.1:" + std::to_string(free_port()) + "/repo"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("127.0.0.1"));
    EXPECT_THAT(r.err + r.out, Not(HasSubstr("secret")));

    fs::create_directories(root() / "empty");
    NginxServer server(root() / "empty");
    r = ferry(
        {"repo", "verify", "http://user:secret@127.0.0.1:" + std::to_string(server.port()) + "/"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("no Updates.xml"));
    EXPECT_THAT(r.err + r.out, Not(HasSubstr("secret")));
}

TEST_F(RepoVerify, IfwMadeRepositoryVerifiesAndCanBeUpdatedAndCopied) {
    const fs::path ifw = make_ifw_repository();
    auto r = ferry({"repo", "verify", "ifw"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);

    const auto before = read_text(ifw / "org.ifw.tool/1.0.0content.7z");
    const fs::path packages = root() / "packages";
    make_package(packages, "org.ferry.added", "1.0", {{"x.txt", "x"}});
    r = ferry({"repogen", "--update", "-p", packages.string(), "ifw"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto index = formats::parse_updates_xml(read_text(ifw / "Updates.xml"), "Updates.xml");
    ASSERT_NE(index.find("org.ifw.tool"), nullptr);
    ASSERT_NE(index.find("org.ferry.added"), nullptr);
    EXPECT_EQ(read_text(ifw / "org.ifw.tool/1.0.0content.7z"), before) << "left as it was";
    r = ferry({"repo", "verify", "ifw"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);

    r = ferry({"repogen", "--repository", "ifw", "copy"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(root() / "copy/org.ifw.tool/1.0.0content.7z"), before);
    auto copy = formats::parse_updates_xml(read_text(root() / "copy/Updates.xml"), "copy");
    EXPECT_THAT(copy.find("org.ifw.tool")->component.script, "installscript.qs");
    r = ferry({"repo", "verify", "copy"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

}  // namespace
}  // namespace ferry::testing
