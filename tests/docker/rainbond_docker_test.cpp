// A Rainbond package through a real Docker engine: an image `docker save` wrote, named in
// metadata.json with Rainbond's registry host, is imported into a market, exported as a compose
// package, and its run.sh starts the service, which serves its page.
#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "support/docker_engine.hpp"
#include "support/image_archives.hpp"
#include "support/market_server.hpp"
#include "support/test_support.hpp"

namespace ferry::testing {
namespace {

using Json = nlohmann::json;

constexpr const char* kImage = "ferry-test/rb-shop:1";
constexpr const char* kPort = "18093";  // published on the host: one nobody else takes

CommandResult ferry(const std::vector<std::string>& args, const fs::path& cwd) {
    std::vector<std::string> argv{FERRY_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {{"DOCKER_HOST", docker_host()}}, cwd);
}

std::string describe(const CommandResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\n" + r.out + "\n" + r.err;
}

TEST(RainbondDockerTest, ImportedPackageRunsFromItsComposeExport) {
    core::ScratchDir dir;
    build_busybox_image(kImage, {{"www/index.html", "rainbond shop\n"}},
                        {"/bin/busybox", "httpd", "-f", "-p", kPort, "-h", "/www"});
    const fs::path saved = dir.path() / "component-images.tar";
    ASSERT_EQ(docker({"save", "-o", saved.string(), kImage}).exit_code, 0);

    const Json metadata = {{"group_key", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
                           {"group_name", "商店"},
                           {"group_version", "1.0"},
                           {"template_version", "v2"},
                           {"apps",
                            {{{"service_key", "5d4c3b2a19081726354453627180abcd"},
                              {"service_cname", "网站"},
                              {"share_image", std::string("goodrain.me/") + kImage},
                              {"version", "1"},
                              {"deploy_version", "20240501120000"},
                              {"cmd", ""},
                              {"memory", 64},
                              {"cpu", 0},
                              {"extend_method", "stateless_multiple"},
                              {"port_map_list",
                               {{{"container_port", std::stoi(kPort)},
                                 {"protocol", "http"},
                                 {"is_outer_service", true},
                                 {"port_alias", "WEB"}}}},
                              {"service_env_map_list", Json::array()},
                              {"service_connect_info_map_list", Json::array()},
                              {"service_volume_map_list", Json::array()},
                              {"dep_service_map_list", Json::array()},
                              {"probes", Json::array()}}}},
                           {"plugins", Json::array()}};
    const fs::path package = dir.path() / "shop-1.0-ram.tar.gz";
    write_bytes(package, gzip(make_tar({{"shop-1.0-ram/metadata.json", metadata.dump()},
                                        {"shop-1.0-ram/component-images.tar", read_text(saved)}})));
    docker({"rmi", "-f", kImage});  // the compose package must bring it

    const fs::path data = dir.path() / "data";
    CommandResult r = ferry({"import", package.string(), "--data", data.string()}, dir.path());
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const fs::path exported = dir.path() / "shop.tar.gz";
    {
        MarketServer server(FERRY_BINARY, data);
        r = ferry({"export", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "--server", server.url(),
                   "--format", "compose", "--folder", "shop", "-o", exported.string()},
                  dir.path());
        ASSERT_EQ(r.exit_code, 0) << describe(r);
    }
    r = run({"/usr/bin/tar", "-xzf", exported.string()}, {}, dir.path());
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const fs::path folder = dir.path() / "shop";
    r = run({"/bin/sh", (folder / "run.sh").string(), "up"}, {{"DOCKER_HOST", docker_host()}},
            folder);
    EXPECT_EQ(r.exit_code, 0) << describe(r);

    std::string page;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (page.empty() && std::chrono::steady_clock::now() < deadline) {
        const CommandResult got = run({"/usr/bin/curl", "-fsS", "--max-time", "5",
                                       std::string("http://127.0.0.1:") + kPort + "/"});
        if (got.exit_code == 0) {
            page = got.out;
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        }
    }
    EXPECT_EQ(page, "rainbond shop\n");
    r = run({"/bin/sh", (folder / "run.sh").string(), "down"}, {{"DOCKER_HOST", docker_host()}},
            folder);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    docker({"rmi", "-f", kImage});
}

}  // namespace
}  // namespace ferry::testing
