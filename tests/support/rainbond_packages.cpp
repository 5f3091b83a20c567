#include "support/rainbond_packages.hpp"

#include <algorithm>

#include "archive/archive.hpp"
#include "core/files.hpp"
#include "support/test_support.hpp"

namespace ferry::testing {

using Json = nlohmann::json;

namespace {

Json env(const std::string& name, const std::string& value) {
    return {{"attr_name", name}, {"attr_value", value}, {"name", name}, {"is_change", true}};
}

Json component(const std::string& key, const std::string& cname, const std::string& image,
               const std::string& deploy_version) {
    return {{"service_key", key},
            {"service_share_uuid", key + "+" + key.substr(0, 8)},
            {"service_id", "id-" + key},
            {"service_cname", cname},
            {"service_alias", "gr" + key.substr(0, 6)},
            {"share_image", image},
            {"image", image},
            {"version", "1.0"},
            {"deploy_version", deploy_version},
            {"cmd", ""},
            {"extend_method", "stateless_multiple"},
            {"extend_method_map",
             {{"min_node", 1},
              {"max_node", 20},
              {"step_node", 1},
              {"min_memory", 64},
              {"max_memory", 65536},
              {"step_memory", 64},
              {"is_restart", 0},
              {"init_memory", 0}}},
            {"memory", 0},
            {"cpu", 0},
            {"port_map_list", Json::array()},
            {"service_env_map_list", Json::array()},
            {"service_connect_info_map_list", Json::array()},
            {"service_volume_map_list", Json::array()},
            {"dep_service_map_list", Json::array()},
            {"mnt_relation_list", Json::array()},
            {"probes", Json::array()},
            {"service_image", {{"hub_url", ""}, {"namespace", ""}}},
            {"service_source", "docker_image"},
            {"service_type", "application"},
            {"language", ""},
            {"category", "app_publish"},
            {"component_monitors", nullptr},
            {"component_graphs", nullptr}};
}

std::string image_file_name(const std::string& tag) {
    // Rainbond's older save name: <image>--<tag>.image.tar, '/' as '_'.
    std::string name = tag;
    const auto colon = name.rfind(':');
    name.replace(colon, 1, "--");
    std::replace(name.begin(), name.end(), '/', '_');
    return name + ".image.tar";
}

}  // namespace

Json rainbond_metadata(const std::string& group_version, const std::string& deploy_version) {
    Json db = component("8f2b1c0d9e8f4a3b2c1d0e9f8a7b6c5d", "数据库",
                        "goodrain.me/shop/db:20240102", deploy_version);
    db["port_map_list"] = Json::array({{{"container_port", 3306},
                                        {"protocol", "mysql"},
                                        {"is_outer_service", false},
                                        {"is_inner_service", true},
                                        {"port_alias", "DB"},
                                        {"k8s_service_name", "db"}}});
    db["service_env_map_list"] = Json::array({env("MYSQL_DATABASE", "shop")});
    db["service_connect_info_map_list"] =
        Json::array({env("DB_USER", "shop"), env("DB_PASSWORD", "**None**")});
    db["service_volume_map_list"] = Json::array({{{"volume_name", "data"},
                                                  {"volume_path", "/var/lib/db"},
                                                  {"volume_type", "share-file"},
                                                  {"volume_capacity", 10},
                                                  {"file_content", ""}}});
    db["memory"] = 512;
    db["cpu"] = 500;

    Json web = component("1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6", "Web Shop",
                         "goodrain.me/shop/web:20240102", deploy_version);
    web["cmd"] = "httpd -f -p 8080";
    web["port_map_list"] = Json::array({{{"container_port", 8080},
                                         {"protocol", "http"},
                                         {"is_outer_service", true},
                                         {"is_inner_service", false},
                                         {"port_alias", "WEB_SHOP"}}});
    web["service_env_map_list"] = Json::array({env("GREETING", "你好")});
    web["service_volume_map_list"] =
        Json::array({{{"volume_name", "app-conf"},
                      {"volume_path", "/etc/web/app.conf"},
                      {"volume_type", "config-file"},
                      {"file_content", "greeting=hello\n$HOME stays\n"}},
                     {{"volume_name", "Uploads"},
                      {"volume_path", "/www/uploads/"},
                      {"volume_type", "local"},
                      {"file_content", ""}}});
    web["dep_service_map_list"] = Json::array({{{"dep_service_key", db["service_key"]}}});
    web["mnt_relation_list"] = Json::array({{{"mnt_name", "data"},
                                             {"mnt_dir", "/shared"},
                                             {"service_share_uuid", db["service_share_uuid"]}}});
    web["probes"] = Json::array({{{"mode", "liveness"},
                                  {"scheme", "tcp"},
                                  {"port", 8080},
                                  {"path", ""},
                                  {"cmd", ""},
                                  {"period_second", 3},
                                  {"timeout_second", 20},
                                  {"failure_threshold", 3},
                                  {"initial_delay_second", 2},
                                  {"success_threshold", 1},
                                  {"is_used", true},
                                  {"http_header", ""},
                                  {"ID", 0},
                                  {"probe_id", "p1"},
                                  {"service_id", ""}},
                                 {{"mode", "readiness"},
                                  {"scheme", "http"},
                                  {"port", 8080},
                                  {"path", "health"},
                                  {"cmd", ""},
                                  {"period_second", 5},
                                  {"timeout_second", 2},
                                  {"failure_threshold", 4},
                                  {"initial_delay_second", 1},
                                  {"success_threshold", 1},
                                  {"is_used", true},
                                  {"http_header", ""}}});
    web["memory"] = 128;
    web["cpu"] = 250;

    Json cache =
        component("c0ffee00c0ffee00c0ffee00c0ffee00", "缓存", "shop/cache:1.2", deploy_version);
    cache["version"] = "v1.2 beta";

    return {{"group_key", "3c5a9d7e0b1f4e2a8d6c4b2a0f9e8d7c"},
            {"group_name", "网上商店 Shop"},
            {"group_version", group_version},
            {"template_version", "v2"},
            {"governance_mode", "BUILD_IN_SERVICE_MESH"},
            {"apps", Json::array({db, web, cache})},
            {"plugins", Json::array()}};
}

std::vector<SavedImage> rainbond_images() {
    const std::string base = make_tar({{"bin/busybox", random_bytes(20'000, 7)}});
    return {{{"goodrain.me/shop/db:20240102"}, {base, make_tar({{"db/init.sql", "create\n"}})}},
            {{"goodrain.me/shop/web:20240102"}, {base, make_tar({{"www/index.html", "shop\n"}})}},
            // Saved without the registry host: found by the host-less rule.
            {{"shop/cache:1.2"}, {base, make_tar({{"cache/conf", "c\n"}})}}};
}

void write_ram_package(const std::filesystem::path& out, const Json& metadata,
                       const std::vector<SavedImage>& images, const std::vector<TarEntry>& extra,
                       const std::string& folder) {
    std::vector<TarEntry> entries{
        {folder, "", TarEntry::Kind::directory},
        {folder + "/metadata.json", metadata.dump()},
        {folder + "/component-images.tar", make_tar(docker_save_entries(images))}};
    entries.insert(entries.end(), extra.begin(), extra.end());
    write_bytes(out, gzip(make_tar(entries)));
}

void write_zip_package(const std::filesystem::path& out, const Json& metadata,
                       const std::vector<SavedImage>& images) {
    core::ScratchDir tree;
    const std::filesystem::path root = tree.path() / "shop";
    std::filesystem::create_directories(root);
    write_text(root / "metadata.json", metadata.dump(2));
    for (const auto& app : metadata.at("apps")) {
        const std::string image = app.at("share_image");
        const auto saved = std::find_if(images.begin(), images.end(), [&](const SavedImage& s) {
            return s.tags.front() == image || image.ends_with("/" + s.tags.front());
        });
        if (saved == images.end()) {
            continue;
        }
        const auto folder = root / app.at("service_key").get<std::string>();
        std::filesystem::create_directories(folder);
        write_bytes(folder / image_file_name(saved->tags.front()),
                    make_tar(docker_save_entries({*saved})));
    }
    archive::WriteOptions options;
    options.format = archive::ArchiveFormat::zip;
    archive::write_archive(out, archive::collect_tree(root, ""), options);
}

}  // namespace ferry::testing
