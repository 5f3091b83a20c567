#include "bundle/rainbond.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "formats/names.hpp"
#include "formats/updates_xml.hpp"
#include "repo/repository_dir.hpp"
#include "repo/service_builder.hpp"
#include "repo/verify.hpp"
#include "support/image_archives.hpp"
#include "support/rainbond_packages.hpp"
#include "support/test_support.hpp"

namespace ferry::bundle {
namespace {

using Json = nlohmann::json;
using testing::error_of;
using ::testing::HasSubstr;

const std::string kDb = "rb3c5a9d7e0b1f.8f2b1c0d9e8f4a3b2c1d0e9f8a7b6c5d";
const std::string kWeb = "rb3c5a9d7e0b1f.1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6";
const std::string kCache = "rb3c5a9d7e0b1f.c0ffee00c0ffee00c0ffee00c0ffee00";

class RainbondTest : public ::testing::Test {
  protected:
    core::ScratchDir dir;
    fs::path package = dir.path() / "shop-1.0-ram.tar.gz";

    ConvertedPackage convert(const fs::path& file) {
        const fs::path work = dir.path() / ("work" + std::to_string(++runs));
        fs::create_directories(work);
        auto result = convert_rainbond_package(file, work);
        if (!result) {
            throw Error("not a Rainbond package");
        }
        return *result;
    }
    std::string refusal(const Json& metadata,
                        const std::vector<testing::SavedImage>& images = testing::rainbond_images(),
                        const std::vector<testing::TarEntry>& extra = {}) {
        testing::write_ram_package(package, metadata, images, extra);
        return error_of([&] { convert(package); });
    }
    int runs = 0;
};

formats::ServiceDescription service_of(const ConvertedItem& item, const std::string& name) {
    const auto index =
        formats::parse_updates_xml(core::read_file(item.repository / "Updates.xml"), "Updates.xml");
    const formats::PackageUpdate* package = index.find(name);
    if (package == nullptr) {
        throw Error("no component " + name);
    }
    return repo::read_service_file(item.repository, *package);
}

TEST_F(RainbondTest, TheCurrentLayoutBecomesServiceComponentsOfOneAppVersion) {
    testing::write_ram_package(package, testing::rainbond_metadata(), testing::rainbond_images());
    const ConvertedPackage converted = convert(package);
    EXPECT_EQ(converted.layout, "ram.tar.gz");
    ASSERT_EQ(converted.items.size(), 1u);
    const ConvertedItem& app = converted.items[0];
    EXPECT_EQ(app.item.key, "3c5a9d7e0b1f4e2a8d6c4b2a0f9e8d7c");
    EXPECT_EQ(app.item.major, "1.0");
    EXPECT_EQ(app.item.name, "网上商店 Shop");
    EXPECT_FALSE(app.item.plugin);

    const auto report = repo::verify_repository(app.repository);
    EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems[0].message);
    EXPECT_EQ(report.components, 3u);

    const auto index =
        formats::parse_updates_xml(core::read_file(app.repository / "Updates.xml"), "Updates.xml");
    ASSERT_EQ(index.packages.size(), 3u);
    const formats::PackageUpdate* db = index.find(kDb);
    const formats::PackageUpdate* web = index.find(kWeb);
    const formats::PackageUpdate* cache = index.find(kCache);
    ASSERT_TRUE(db && web && cache);
    EXPECT_EQ(db->component.version, "1.0.20240102030405");
    EXPECT_EQ(cache->component.version, "v1.2_beta.20240102030405");
    EXPECT_EQ(db->component.release_date, "2024-01-02");
    ASSERT_FALSE(db->component.display_names.empty());
    EXPECT_EQ(db->component.display_names[0].text, "数据库");
    EXPECT_EQ(web->component.dependencies, std::vector<std::string>{kDb});
    ASSERT_TRUE(web->service.has_value());
    EXPECT_EQ(web->service->image, "goodrain.me/shop/web:20240102");
    EXPECT_EQ(cache->service->image, "shop/cache:1.2");

    const formats::ServiceDescription d = service_of(app, kDb);
    EXPECT_EQ(d.name, "svc-8f2b1c0d9e8f");  // a Chinese name: the key's start
    ASSERT_EQ(d.ports.size(), 1u);
    EXPECT_EQ(d.ports[0].container, 3306);
    EXPECT_EQ(d.ports[0].protocol, "tcp");
    EXPECT_FALSE(d.ports[0].publish);
    EXPECT_EQ(d.ports[0].name, "db");
    EXPECT_EQ(d.environment, (std::map<std::string, std::string>{{"MYSQL_DATABASE", "shop"}}));
    ASSERT_EQ(d.connection.size(), 2u);
    EXPECT_EQ(d.connection[0], (formats::ConnectionValue{"DB_PASSWORD", "", true}));
    EXPECT_EQ(d.connection[1], (formats::ConnectionValue{"DB_USER", "shop", false}));
    ASSERT_EQ(d.volumes.size(), 1u);
    EXPECT_EQ(d.volumes[0].kind, formats::ServiceVolume::Kind::data);
    EXPECT_EQ(d.volumes[0].name, "data");
    EXPECT_EQ(d.volumes[0].path, "/var/lib/db");
    EXPECT_EQ(d.memory, 512u << 20);
    EXPECT_DOUBLE_EQ(d.cpus, 0.5);
    EXPECT_FALSE(d.health.has_value());

    const formats::ServiceDescription w = service_of(app, kWeb);
    EXPECT_EQ(w.name, "web-shop");
    EXPECT_EQ(w.command, (std::vector<std::string>{"httpd", "-f", "-p", "8080"}));
    ASSERT_EQ(w.ports.size(), 1u);
    EXPECT_TRUE(w.ports[0].publish);
    EXPECT_EQ(w.ports[0].name, "web-shop");
    EXPECT_EQ(w.environment.at("GREETING"), "你好");
    ASSERT_EQ(w.volumes.size(), 3u);
    EXPECT_EQ(w.volumes[0].kind, formats::ServiceVolume::Kind::config);
    EXPECT_EQ(w.volumes[0].path, "/etc/web/app.conf");
    EXPECT_EQ(w.volumes[0].content, "greeting=hello\n$HOME stays\n");
    EXPECT_EQ(w.volumes[1].name, "uploads");
    EXPECT_EQ(w.volumes[1].path, "/www/uploads");
    EXPECT_EQ(w.volumes[2].kind, formats::ServiceVolume::Kind::shared);  // mnt_relation_list
    EXPECT_EQ(w.volumes[2].path, "/shared");
    EXPECT_EQ(w.volumes[2].from, kDb);
    EXPECT_EQ(w.volumes[2].volume, "data");
    EXPECT_EQ(w.depends, std::vector<std::string>{kDb});
    ASSERT_TRUE(w.health.has_value());  // the readiness probe, over the liveness one
    EXPECT_EQ(w.health->kind, formats::HealthProbe::Kind::http);
    EXPECT_EQ(w.health->port, 8080);
    EXPECT_EQ(w.health->path, "/health");
    EXPECT_EQ(w.health->interval, std::chrono::seconds(5));
    EXPECT_EQ(w.health->timeout, std::chrono::seconds(2));
    EXPECT_EQ(w.health->retries, 4u);
    EXPECT_EQ(w.health->start_period, std::chrono::seconds(1));
    EXPECT_EQ(w.memory, 128u << 20);
    EXPECT_DOUBLE_EQ(w.cpus, 0.25);
}

TEST_F(RainbondTest, TheOlderZipLayoutGivesTheSameServices) {
    testing::write_ram_package(package, testing::rainbond_metadata(), testing::rainbond_images());
    const ConvertedPackage current = convert(package);
    const fs::path zip = dir.path() / "shop.zip";
    testing::write_zip_package(zip, testing::rainbond_metadata(), testing::rainbond_images());
    const ConvertedPackage older = convert(zip);
    EXPECT_EQ(older.layout, "zip");
    ASSERT_EQ(older.items.size(), 1u);
    EXPECT_TRUE(repo::verify_repository(older.items[0].repository).ok());
    for (const auto& name : {kDb, kWeb, kCache}) {
        EXPECT_EQ(service_of(older.items[0], name), service_of(current.items[0], name)) << name;
    }
    // Same package, same repository: a second import changes nothing.
    EXPECT_EQ(core::read_file(older.items[0].repository / "Updates.xml"),
              core::read_file(current.items[0].repository / "Updates.xml"));
}

TEST_F(RainbondTest, PluginsBecomePluginItems) {
    Json metadata = testing::rainbond_metadata();
    metadata["plugins"] = Json::array({{{"plugin_key", "perf0analyze0key"},
                                        {"plugin_alias", "性能分析"},
                                        {"plugin_name", "gr1234"},
                                        {"share_image", "goodrain.me/plugins/perf:2"},
                                        {"build_version", "20231201120000"},
                                        {"desc", "analyses"},
                                        {"category", "perf_analysis"},
                                        {"origin", "sys"},
                                        {"plugin_image", {{"hub_url", ""}}}}});
    const std::string plugins = testing::make_tar(testing::docker_save_entries(
        {{{"goodrain.me/plugins/perf:2"}, {testing::make_tar({{"p", "p"}})}}}));
    testing::write_ram_package(package, metadata, testing::rainbond_images(),
                               {{"shop-1.0-ram/plugin-images.tar", plugins}});
    const ConvertedPackage converted = convert(package);
    ASSERT_EQ(converted.items.size(), 2u);
    const ConvertedItem& plugin = converted.items[1];
    EXPECT_TRUE(plugin.item.plugin);
    EXPECT_EQ(plugin.item.key, "perf0analyze0key");
    EXPECT_EQ(plugin.item.major, "20231201120000");
    EXPECT_EQ(plugin.item.name, "性能分析");
    EXPECT_TRUE(repo::verify_repository(plugin.repository).ok());
}

TEST_F(RainbondTest, RefusesMissingAndWrongTypedFieldsNamingThem) {
    Json metadata = testing::rainbond_metadata();
    metadata["apps"][1].erase("share_image");
    EXPECT_THAT(refusal(metadata), HasSubstr("metadata.json: apps[1].share_image: missing"));

    metadata = testing::rainbond_metadata();
    metadata["apps"][1]["port_map_list"][0]["container_port"] = "8080";
    EXPECT_THAT(refusal(metadata),
                HasSubstr("metadata.json: apps[1].port_map_list[0].container_port: expected an "
                          "integer, found a string"));

    metadata = testing::rainbond_metadata();
    metadata["apps"][0]["service_connect_info_map_list"][1]["attr_value"] = 5;
    EXPECT_THAT(refusal(metadata),
                HasSubstr("apps[0].service_connect_info_map_list[1].attr_value: expected a "
                          "string, found an integer"));

    metadata = testing::rainbond_metadata();
    metadata.erase("group_key");
    EXPECT_THAT(refusal(metadata), HasSubstr("metadata.json: group_key: missing"));

    metadata = testing::rainbond_metadata();
    metadata["apps"] = Json::object();
    EXPECT_THAT(refusal(metadata),
                HasSubstr("metadata.json: apps: expected a list, found an object"));

    metadata = testing::rainbond_metadata();
    metadata["apps"][1]["dep_service_map_list"][0]["dep_service_key"] = "nobody";
    EXPECT_THAT(refusal(metadata),
                HasSubstr("apps[1].dep_service_map_list[0].dep_service_key: \"nobody\" is not a "
                          "component of the app"));

    metadata = testing::rainbond_metadata();
    metadata["apps"][1]["service_env_map_list"][0]["attr_name"] = "NOT-A-NAME";
    EXPECT_THAT(refusal(metadata), HasSubstr("apps[1] (service_cname \"Web Shop\""));

    metadata = testing::rainbond_metadata();
    metadata["apps"][1]["mnt_relation_list"][0]["mnt_name"] = "logs";
    EXPECT_THAT(refusal(metadata),
                HasSubstr("apps[1].mnt_relation_list[0].mnt_name: 数据库 has no volume \"logs\""));

    metadata = testing::rainbond_metadata();
    metadata["apps"][1]["memory"] = 1.5;
    EXPECT_THAT(refusal(metadata),
                HasSubstr("apps[1].memory: expected an integer, found a number with a fraction"));
}

TEST_F(RainbondTest, RefusesAnImageThePackageLacks) {
    auto images = testing::rainbond_images();
    images.pop_back();
    EXPECT_THAT(refusal(testing::rainbond_metadata(), images),
                HasSubstr("apps[2].share_image: the image \"shop/cache:1.2\" is not in the "
                          "package (component-images.tar; its images: goodrain.me/shop/db"));
}

TEST_F(RainbondTest, RefusesALayerThatDoesNotMatchItsDigest) {
    auto entries = testing::docker_save_entries(testing::rainbond_images());
    for (auto& entry : entries) {
        if (entry.name.ends_with("layer.tar") && entry.data.find("shop\n") != std::string::npos) {
            entry.data = testing::make_tar({{"www/index.html", "evil\n"}});
        }
    }
    testing::write_bytes(package,
                         testing::gzip(testing::make_tar(
                             {{"shop-1.0-ram/metadata.json", testing::rainbond_metadata().dump()},
                              {"shop-1.0-ram/component-images.tar", testing::make_tar(entries)}})));
    const std::string error = error_of([&] { convert(package); });
    EXPECT_THAT(error, HasSubstr(package.string() + ": shop-1.0-ram/component-images.tar: "));
    EXPECT_THAT(error, HasSubstr("rootfs.diff_ids"));
    EXPECT_THAT(error, HasSubstr("layer.tar"));
}

TEST_F(RainbondTest, RefusesHostilePathsInThePackage) {
    EXPECT_THAT(refusal(testing::rainbond_metadata(), testing::rainbond_images(),
                        {{"shop-1.0-ram/../../escape", "x"}}),
                HasSubstr("escape"));
    EXPECT_THAT(refusal(testing::rainbond_metadata(), testing::rainbond_images(),
                        {{"shop-1.0-ram/link", "/etc", testing::TarEntry::Kind::symlink},
                         {"shop-1.0-ram/link/passwd", "x"}}),
                HasSubstr("link"));
    EXPECT_FALSE(fs::exists(dir.path() / "escape"));
}

TEST_F(RainbondTest, AnArchiveWithoutMetadataIsNoRainbondPackage) {
    testing::write_bytes(package, testing::gzip(testing::make_tar({{"a/readme.txt", "hi"}})));
    const fs::path work = dir.path() / "w";
    fs::create_directories(work);
    EXPECT_FALSE(convert_rainbond_package(package, work).has_value());
    testing::write_bytes(package, "just text");
    EXPECT_FALSE(convert_rainbond_package(package, work).has_value());
}

TEST(RainbondNames, AreValidAndStable) {
    const std::string name = rainbond_component_name("3C5A-9d7e", "Ab:cd/ef");
    EXPECT_EQ(name, "rb3c5a_9d7e.ab_cd_ef");
    EXPECT_FALSE(formats::name_problem(formats::NameKind::component, name));
    EXPECT_EQ(rainbond_service_name("数据库", "8f2b1c0d9e8f4a3b"), "svc-8f2b1c0d9e8f");
    EXPECT_EQ(rainbond_service_name("My Web_App!", "k"), "my-web-app");
    EXPECT_EQ(rainbond_version("1.0", "20240102030405"), "1.0.20240102030405");
    EXPECT_EQ(rainbond_version("", ""), "0");
    EXPECT_EQ(rainbond_version("latest", ""), "latest");
    EXPECT_EQ(rainbond_version("-x", "12"), "0_-x.12");
    EXPECT_EQ(rainbond_major("V2.0 beta"), "v2.0-beta");
    EXPECT_THAT(rainbond_major("版本一"), ::testing::MatchesRegex("v-[0-9a-f]{8}"));
    EXPECT_NE(rainbond_major("版本一"), rainbond_major("版本二"));
}

TEST(RainbondImages, ShareImageMatchingRule) {
    std::vector<image::Image> images(3);
    images[0].references = {"goodrain.me/team/web:1"};
    images[1].references = {"db:5.7"};
    images[2].references = {"library/redis:latest"};
    std::string matched;
    EXPECT_EQ(match_share_image(images, "goodrain.me/team/web:1", &matched), &images[0]);
    EXPECT_EQ(match_share_image(images, "hub.example:5000/team/web:1", &matched), &images[0]);
    EXPECT_EQ(matched, "goodrain.me/team/web:1");
    EXPECT_EQ(match_share_image(images, "goodrain.me/app/db:5.7", &matched), &images[1]);
    EXPECT_EQ(match_share_image(images, "redis", &matched), &images[2]);
    EXPECT_EQ(match_share_image(images, "web:2", &matched), nullptr);
    images[1].references = {"other/web:1"};
    EXPECT_THAT(error_of([&] { match_share_image(images, "x.io/a/web:1", &matched); }),
                HasSubstr("may be any of"));
}

}  // namespace
}  // namespace ferry::bundle
