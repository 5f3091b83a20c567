// The client's network side against repositories made by the real generator and served by
// Debian's nginx (or file://): index fetches, repository updates, checked archive downloads,
// metadata and credentials.
#include "client/remote.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "formats/updates_xml.hpp"
#include "repo/generator.hpp"
#include "repo/repository_dir.hpp"
#include "support/nginx_server.hpp"
#include "support/test_support.hpp"

namespace ferry::client {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using ::testing::HasSubstr;
using testing::NginxServer;
using ::testing::Not;
using testing::random_bytes;
using testing::read_text;
using testing::write_text;

constexpr const char* kLicensed = "com.acme.editor";
constexpr const char* kPlain = "com.acme.docs";

class ClientRemote : public ::testing::Test {
  protected:
    RemoteOptions options() const {
        RemoteOptions options;
        options.cache_dir = work_.path() / "cache";
        options.download_dir = work_.path() / "downloads";
        options.download.retry =
            net::RetryPolicy{2, std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
        options.concurrency = 2;
        options.limits = limits_;
        return options;
    }

    // A repository at root/<dir> with a licensed component and a plain one.
    fs::path make_repository(const std::string& dir,
                             repo::MetadataMode mode = repo::MetadataMode::both) {
        const fs::path packages = work_.path() / ("packages-" + dir);
        make_package(packages, kLicensed,
                     " <Licenses><License name=\"Terms\" file=\"license.txt\"/></Licenses>\n",
                     random_bytes(30'000, 1));
        write_text(packages / kLicensed / "meta" / "license.txt", "the terms");
        make_package(packages, kPlain, "", random_bytes(20'000, 2));
        repo::GenerateOptions generate;
        generate.packages = {packages};
        generate.metadata = mode;
        generate.jobs = 1;
        repo::generate_repository(root_.path() / dir, generate);
        return root_.path() / dir;
    }

    static void make_package(const fs::path& packages, const std::string& name,
                             const std::string& extra_xml, const std::string& data) {
        write_text(packages / name / "meta" / "package.xml",
                   "<?xml version=\"1.0\"?>\n<Package>\n <DisplayName>" + name +
                       "</DisplayName>\n <Description>test</Description>\n <Version>1.0</Version>\n"
                       " <ReleaseDate>2026-01-01</ReleaseDate>\n" +
                       extra_xml + "</Package>\n");
        write_text(packages / name / "data" / "payload.bin", data);
    }

    // Rewrites the repository's index after edit changed it.
    static void edit_index(const fs::path& repository,
                           const std::function<void(formats::RepositoryIndex&)>& edit) {
        const fs::path path = repository / "Updates.xml";
        auto index = formats::parse_updates_xml(read_text(path), path.string());
        edit(index);
        write_text(path, formats::write_updates_xml(index));
    }

    // Fetches the one repository at url and downloads the named components from it.
    std::vector<DownloadedComponent> download(
        Settings& settings, const std::vector<std::string>& names,
        const std::function<void(std::uint64_t, std::uint64_t)>& progress = {}) {
        const FetchedIndexes fetched = fetch_indexes(settings, options());
        std::vector<RemoteComponent> remote;
        for (const auto& name : names) {
            const auto* package = fetched.repositories.at(0).index.find(name);
            EXPECT_NE(package, nullptr) << name;
            remote.push_back({*package, fetched.repositories[0].url, 0});
        }
        std::vector<const RemoteComponent*> pointers;
        for (const auto& component : remote) {
            pointers.push_back(&component);
        }
        return download_components(pointers, fetched.repositories, settings, options(), progress);
    }

    static Settings settings_for(const std::string& url) {
        Settings settings;
        add_repository(settings, url);
        return settings;
    }

    core::ScratchDir root_;
    core::ScratchDir work_;
    RemoteLimits limits_;
};

TEST_F(ClientRemote, FetchesIndexesOverHttpAndRevalidatesWith304) {
    make_repository("repo");
    // Published a while ago: an index changed in the second it is served is not revalidated.
    const fs::path index = root_.path() / "repo" / "Updates.xml";
    fs::last_write_time(index, fs::last_write_time(index) - std::chrono::hours(1));
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    const FetchedIndexes first = fetch_indexes(settings, options());
    ASSERT_EQ(first.repositories.size(), 1u);
    EXPECT_EQ(first.repositories[0].url, server.url("repo"));
    EXPECT_NE(first.repositories[0].index.find(kLicensed), nullptr);
    EXPECT_GT(first.bytes_transferred, 0u);
    EXPECT_FALSE(first.settings_changed);

    const FetchedIndexes second = fetch_indexes(settings, options());
    EXPECT_EQ(second.bytes_transferred, 0u);
    EXPECT_EQ(second.repositories[0].index, first.repositories[0].index);
}

TEST_F(ClientRemote, FetchesIndexesFromFileUrlsAndSkipsDisabledRepositories) {
    make_repository("repo");
    Settings settings = settings_for("file://" + (root_.path() / "repo").string());
    add_repository(settings, "file://" + (root_.path() / "absent").string());
    settings.repositories[1].enabled = false;
    const FetchedIndexes fetched = fetch_indexes(settings, options());
    ASSERT_EQ(fetched.repositories.size(), 1u);
    EXPECT_NE(fetched.repositories[0].index.find(kPlain), nullptr);
}

TEST_F(ClientRemote, RepositoryUpdatesAddAndReplaceRepositoriesInTheSettings) {
    make_repository("first");
    make_repository("second");
    make_repository("old");
    edit_index(root_.path() / "first", [](formats::RepositoryIndex& index) {
        formats::RepositoryAction add;
        add.kind = formats::RepositoryAction::Kind::add;
        add.url = "../second";
        add.display_name = "Second";
        formats::RepositoryAction replace;
        replace.kind = formats::RepositoryAction::Kind::replace;
        replace.old_url = "../old";
        replace.new_url = "../third";
        index.repository_updates = {add, replace};
    });
    fs::copy(root_.path() / "second", root_.path() / "third", fs::copy_options::recursive);
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("first"));
    add_repository(settings, server.url("old"), 4);

    const FetchedIndexes fetched = fetch_indexes(settings, options());
    EXPECT_TRUE(fetched.settings_changed);
    std::vector<std::string> urls;
    for (const auto& setting : settings.repositories) {
        urls.push_back(setting.url);
    }
    EXPECT_THAT(urls, ::testing::UnorderedElementsAre(server.url("first"), server.url("second"),
                                                      server.url("third")));
    ASSERT_NE(settings.find(server.url("second")), nullptr);
    EXPECT_EQ(settings.find(server.url("second"))->display_name, "Second");
    EXPECT_TRUE(settings.find(server.url("second"))->enabled);
    EXPECT_EQ(fetched.repositories.size(), 3u);

    EXPECT_FALSE(fetch_indexes(settings, options()).settings_changed) << "the list settled";
}

TEST_F(ClientRemote, AnUnreachableRepositoryIsAnErrorWithoutItsPassword) {
    const std::string port = std::to_string(testing::free_port());
    Settings settings = settings_for("http://user:hunter2@127.0.0.1:" + port + "/repo");
    const std::string message = error_of([&] { fetch_indexes(settings, options()); });
    EXPECT_THAT(message, HasSubstr("http://127.0.0.1:" + port + "/repo/Updates.xml"));
    EXPECT_THAT(message, Not(HasSubstr("hunter2")));
}

TEST_F(ClientRemote, AMalformedIndexIsAnErrorNamingItsUrl) {
    write_text(root_.path() / "bad" / "Updates.xml", "<Updates><PackageUpdate>");
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("bad"));
    const std::string message = error_of([&] { fetch_indexes(settings, options()); });
    EXPECT_THAT(message, HasSubstr(server.url("bad/Updates.xml")));
}

TEST_F(ClientRemote, DownloadsTheArchivesAsTheRepositoryHasThem) {
    const fs::path repository = make_repository("repo");
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    std::pair<std::uint64_t, std::uint64_t> last{};
    const auto downloaded =
        download(settings, {kPlain}, [&](std::uint64_t done, std::uint64_t total) {
            last = {done, total};
        });
    ASSERT_EQ(downloaded.size(), 1u);
    EXPECT_EQ(downloaded[0].name, kPlain);
    EXPECT_EQ(downloaded[0].version, "1.0");
    ASSERT_EQ(downloaded[0].archives.size(), 1u);
    const fs::path expected_path = options().download_dir / kPlain / "1.0" / "content.7z";
    EXPECT_EQ(downloaded[0].archives[0], expected_path);
    EXPECT_EQ(read_text(expected_path), read_text(repository / kPlain / "1.0content.7z"));
    EXPECT_TRUE(downloaded[0].meta_dir.empty()) << "no licence, no script: no metadata";
    EXPECT_GT(last.second, 0u);
    EXPECT_EQ(last.first, last.second);

    // A second run finds the checked archive in place and does not download it again.
    download(settings, {kPlain});
    EXPECT_EQ(server.requests_for(std::string("repo/") + kPlain + "/1.0content.7z").size(), 1u);
}

TEST_F(ClientRemote, ACorruptedArchiveIsDownloadedTwiceThenAnError) {
    const fs::path repository = make_repository("repo");
    write_text(repository / kPlain / "1.0content.7z", random_bytes(20'100, 9));
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    const std::string message = error_of([&] { download(settings, {kPlain}); });
    EXPECT_THAT(message, HasSubstr(server.url("repo")));
    EXPECT_THAT(message, HasSubstr(std::string("component ") + kPlain));
    EXPECT_THAT(message, HasSubstr("archive 1.0content.7z"));
    EXPECT_THAT(message, HasSubstr("the sidecar says"));
    EXPECT_EQ(server.requests_for(std::string("repo/") + kPlain + "/1.0content.7z").size(), 2u);
    EXPECT_FALSE(fs::exists(options().download_dir / kPlain / "1.0" / "content.7z"));
}

TEST_F(ClientRemote, AWrongSidecarIsAnError) {
    const fs::path repository = make_repository("repo");
    write_text(repository / kPlain / "1.0content.7z.sha1", std::string(40, 'a') + "  x.7z\n");
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    const std::string message = error_of([&] { download(settings, {kPlain}); });
    EXPECT_THAT(message, HasSubstr("the sidecar says " + std::string(40, 'a')));
    EXPECT_THAT(message, HasSubstr("archive 1.0content.7z"));
}

TEST_F(ClientRemote, FerrysSha256IsCheckedWhenTheSidecarMatches) {
    const fs::path repository = make_repository("repo");
    edit_index(repository, [](formats::RepositoryIndex& index) {
        for (auto& package : index.packages) {
            for (auto& record : package.archives) {
                record.sha256 = std::string(64, '0');
            }
        }
    });
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    const std::string message = error_of([&] { download(settings, {kPlain}); });
    EXPECT_THAT(message, HasSubstr("SHA-256 is "));
    EXPECT_THAT(message, HasSubstr("the index says " + std::string(64, '0')));
    EXPECT_THAT(message, HasSubstr(std::string("component ") + kPlain));
}

TEST_F(ClientRemote, WithoutFerryRecordsTheSidecarAloneIsChecked) {
    const fs::path repository = make_repository("repo");
    edit_index(repository, [](formats::RepositoryIndex& index) {
        for (auto& package : index.packages) {
            package.archives.clear();  // as IFW's repogen writes the index
        }
    });
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    const auto downloaded = download(settings, {kPlain});
    EXPECT_EQ(read_text(downloaded.at(0).archives.at(0)),
              read_text(repository / kPlain / "1.0content.7z"));

    write_text(repository / kPlain / "1.0content.7z", random_bytes(20'100, 9));
    fs::remove_all(options().download_dir);
    const std::string message = error_of([&] { download(settings, {kPlain}); });
    EXPECT_THAT(message, HasSubstr("the sidecar says"));
}

TEST_F(ClientRemote, ACorruptedMetadataArchiveIsFetchedTwiceThenAnError) {
    const fs::path repository = make_repository("repo", repo::MetadataMode::united);
    const auto index = formats::parse_updates_xml(read_text(repository / "Updates.xml"), "x");
    write_text(repository / index.metadata_name, random_bytes(500, 4));
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    const std::string message = error_of([&] { download(settings, {kLicensed}); });
    EXPECT_THAT(message, HasSubstr(server.url("repo")));
    EXPECT_THAT(message, HasSubstr(std::string("component ") + kLicensed));
    EXPECT_THAT(message, HasSubstr("metadata " + index.metadata_name));
    EXPECT_THAT(message, HasSubstr("the index says " + index.metadata_sha1));
    EXPECT_EQ(server.requests_for("repo/" + index.metadata_name).size(), 2u);
}

TEST_F(ClientRemote, MetadataLargerThanItsBoundIsCutWithTheSettingNamed) {
    const fs::path repository = make_repository("repo", repo::MetadataMode::united);
    const auto index = formats::parse_updates_xml(read_text(repository / "Updates.xml"), "x");
    write_text(repository / index.metadata_name, random_bytes(300'000, 4));
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    limits_.metadata_bytes = 65'536;
    const std::string message = error_of([&] { download(settings, {kLicensed}); });
    EXPECT_THAT(message, HasSubstr("metadata " + index.metadata_name));
    EXPECT_THAT(message, HasSubstr(server.url("repo/" + index.metadata_name) +
                                   ": larger than the 65536 bytes allowed "
                                   "(FERRY_MAX_METADATA_SIZE raises the bound)"));
    EXPECT_EQ(server.requests_for("repo/" + index.metadata_name).size(), 1u);
}

TEST_F(ClientRemote, AnIndexLargerThanItsBoundIsAnError) {
    make_repository("repo");
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    limits_.index_bytes = 100;
    const std::string message = error_of([&] { fetch_indexes(settings, options()); });
    EXPECT_THAT(message, HasSubstr(server.url("repo/Updates.xml") +
                                   ": larger than the 100 bytes allowed (FERRY_MAX_INDEX_SIZE "
                                   "raises the bound)"));
}

TEST_F(ClientRemote, AnArchiveLargerThanTheIndexRecordsIsCutThere) {
    const fs::path repository = make_repository("repo");
    const auto index = formats::parse_updates_xml(read_text(repository / "Updates.xml"), "x");
    const auto* package = index.find(kPlain);
    ASSERT_NE(package, nullptr);
    ASSERT_FALSE(package->archives.empty());
    const auto& record = package->archives.front();
    // The server sends far more than the index promises (a sidecar to match, so that only the
    // size tells).
    const fs::path archive = repository / repo::data_archive_path(*package, record.name);
    const std::string grown = random_bytes(record.size * 4, 9);
    write_text(archive, grown);
    write_text(archive.string() + ".sha1", core::sha1_hex(grown));
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    const std::string message = error_of([&] { download(settings, {kPlain}); });
    EXPECT_THAT(message,
                HasSubstr(": larger than the " + std::to_string(record.size) + " bytes allowed"));
}

TEST_F(ClientRemote, UnitedMetadataIsFetchedOnlyForAComponentWithALicence) {
    const fs::path repository = make_repository("repo", repo::MetadataMode::united);
    write_text(options().download_dir / "meta" / kLicensed / "stale.txt", "old");
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    const auto downloaded = download(settings, {kLicensed, kPlain});
    ASSERT_EQ(downloaded.size(), 2u);
    EXPECT_EQ(downloaded[0].meta_dir, options().download_dir / "meta" / kLicensed);
    EXPECT_EQ(read_text(downloaded[0].meta_dir / "license.txt"), "the terms");
    EXPECT_FALSE(fs::exists(downloaded[0].meta_dir / "stale.txt"));
    EXPECT_TRUE(downloaded[1].meta_dir.empty());
    const auto index = formats::parse_updates_xml(read_text(repository / "Updates.xml"), "x");
    ASSERT_FALSE(index.metadata_name.empty());
    EXPECT_EQ(server.requests_for("repo/" + index.metadata_name).size(), 1u);
}

TEST_F(ClientRemote, ComponentMetadataIsFetchedOnlyForAComponentWithALicence) {
    make_repository("repo", repo::MetadataMode::component);
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    const auto downloaded = download(settings, {kLicensed, kPlain});
    ASSERT_EQ(downloaded.size(), 2u);
    EXPECT_EQ(read_text(downloaded[0].meta_dir / "license.txt"), "the terms");
    EXPECT_TRUE(downloaded[1].meta_dir.empty());
    EXPECT_EQ(server.requests_for(std::string("repo/") + kLicensed + "/1.0meta.7z").size(), 1u);
    EXPECT_TRUE(server.requests_for(std::string("repo/") + kPlain + "/1.0meta.7z").empty());
}

TEST_F(ClientRemote, AnArchiveNameLeavingTheRepositoryIsRefused) {
    const fs::path repository = make_repository("repo");
    edit_index(repository, [](formats::RepositoryIndex& index) {
        for (auto& package : index.packages) {
            package.component.downloadable_archives = {"../x"};
            package.archives.clear();
        }
    });
    NginxServer server(root_.path());
    Settings settings = settings_for(server.url("repo"));
    const std::string message = error_of([&] { download(settings, {kPlain}); });
    EXPECT_THAT(message, HasSubstr(server.url("repo")));
    EXPECT_THAT(message, HasSubstr(std::string("component ") + kPlain));
    EXPECT_THAT(message, HasSubstr("\"../x\""));
}

TEST_F(ClientRemote, CredentialsFromTheSettingsOpenAnAuthBasicRepository) {
    make_repository("private/repo");
    const auto hash = testing::run({"/usr/bin/openssl", "passwd", "-apr1", "p@ss:w0rd"});
    ASSERT_EQ(hash.exit_code, 0) << hash.err;
    write_text(work_.path() / "htpasswd", "ferry:" + hash.out);
    NginxServer server(root_.path(),
                       "location /private/ { auth_basic \"repo\"; "
                       "auth_basic_user_file " +
                           (work_.path() / "htpasswd").string() + "; }\n");
    const std::string plain = server.url("private/repo");
    Settings anonymous = settings_for(plain);
    const std::string refused = error_of([&] { fetch_indexes(anonymous, options()); });
    EXPECT_THAT(refused, HasSubstr("401"));

    Settings settings = settings_for("http://ferry:p%40ss%3Aw0rd@" + plain.substr(7));
    EXPECT_EQ(settings.repositories[0].url, plain);
    const auto downloaded = download(settings, {kLicensed});
    ASSERT_EQ(downloaded.size(), 1u);
    EXPECT_TRUE(fs::is_regular_file(downloaded[0].archives.at(0)));
    EXPECT_EQ(read_text(downloaded[0].meta_dir / "license.txt"), "the terms");
}

}  // namespace
}  // namespace ferry::client
