// A service app end to end through a real Docker engine: two busybox services (web depends on db
// and shows db's connection values on its page) built by the test, `docker save`d into a
// packages tree, made into a repository by repogen, published to a market, pulled from the
// market's registry by docker, podman and skopeo, exported as a Compose package that runs with
// run.sh, and installed, updated, rolled back and removed by the client.

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "formats/compose.hpp"
#include "support/docker_engine.hpp"
#include "support/market_server.hpp"
#include "support/test_support.hpp"

namespace ferry {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::docker;
using ::testing::HasSubstr;

const std::string kApp = "com.example.hello";
const std::string kWeb = "com.example.hello.web";
const std::string kDb = "com.example.hello.db";

std::string package_xml(const std::string& name, const std::string& version) {
    return "<Package><DisplayName>" + name + "</DisplayName><Version>" + version +
           "</Version><ReleaseDate>2026-01-01</ReleaseDate><Default>true</Default></Package>\n";
}

// web prints its page at start from what db offers it, then serves it.
std::string web_yaml(const std::string& image, const std::string& greeting) {
    return "name: web\n"
           "image: " +
           image +
           "\n"
           "entrypoint: [/bin/sh, -c]\n"
           "command:\n"
           "  - echo \"" +
           greeting +
           " user=$DB_USER password=$DB_PASSWORD host=$DB_HOST\" >"
           " /www/index.html && exec /bin/busybox httpd -f -p 8080 -h /www\n"
           "ports:\n"
           "  - {container: 8080, publish: true, name: http}\n"
           "depends: [" +
           kDb +
           "]\n"
           "health:\n"
           "  command: [/bin/busybox, wget, -q, -O, /dev/null, 'http://127.0.0.1:8080/']\n"
           "  interval: 1s\n"
           "  retries: 20\n";
}

std::string db_yaml(const std::string& image) {
    return "name: db\n"
           "image: " +
           image +
           "\n"
           "command: [/bin/busybox, httpd, -f, -p, '7000', -h, /www]\n"
           "ports:\n"
           "  - {container: 7000}\n"
           "connection:\n"
           "  DB_USER: app\n"
           "  DB_PASSWORD: {generate: true}\n"
           "volumes:\n"
           "  - {name: data, path: /data}\n"
           "  - {path: /etc/db.conf, config: \"mode=test\\n\"}\n"
           "health:\n"
           "  command: [/bin/busybox, wget, -q, -O, /dev/null, 'http://127.0.0.1:7000/']\n"
           "  interval: 1s\n"
           "  retries: 20\n";
}

class ServiceApp : public ::testing::Test {
  protected:
    void SetUp() override {
        testing::docker_host();  // fails the test when the engine's socket is not set
        dir_ = fs::path(::testing::TempDir()) /
               ("service-app-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }

    // A packages tree of both services; the web page says greeting.
    fs::path write_packages(const std::string& name, const std::string& web_version,
                            const std::string& greeting) {
        const fs::path packages = dir_ / name;
        const std::string tag = "ferry-test/" + name;
        // Built once: a second version of the app changes web's description, not the images.
        for (const auto& [image, page] : {std::pair{tag + "-db:1", std::string("db\n")},
                                          std::pair{tag + "-web:1", std::string("web\n")}}) {
            if (docker({"image", "inspect", image}).exit_code != 0) {
                testing::build_busybox_image(image, {{"www/index.html", page}}, {"/bin/sh"});
            }
        }
        for (const auto& [component, version, yaml, image] :
             {std::tuple{kDb, std::string("1.0.0"), db_yaml(tag + "-db:1"), tag + "-db:1"},
              std::tuple{kWeb, web_version, web_yaml(tag + "-web:1", greeting), tag + "-web:1"}}) {
            const fs::path root = packages / component;
            fs::create_directories(root / "meta");
            fs::create_directories(root / "data");
            core::write_file_atomic(root / "meta" / "package.xml", package_xml(component, version));
            core::write_file_atomic(root / "meta" / "service.yaml", yaml);
            const auto saved =
                docker({"save", "-o", (root / "data" / "image.tar").string(), image});
            EXPECT_EQ(saved.exit_code, 0) << saved.err;
        }
        return packages;
    }

    CommandResult ferry(const std::vector<std::string>& args, const fs::path& cwd = {}) {
        std::vector<std::string> argv{FERRY_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        return testing::run(argv, {}, cwd);
    }

    void publish(testing::MarketServer& market, const std::string& token,
                 const fs::path& packages) {
        const auto published =
            ferry({"publish", packages.string(), "--server", market.url(), "--token", token,
                   "--app", kApp, "--version", "1", "--no-cache"});
        ASSERT_EQ(published.exit_code, 0) << published.err;
    }

    fs::path dir_;
};

// GETs url until it answers with a body containing want (a fresh container takes a moment).
std::string page_containing(const std::string& url, const std::string& want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    CommandResult got;
    while (std::chrono::steady_clock::now() < deadline) {
        got = testing::run({"/usr/bin/curl", "-fsS", "--max-time", "5", url});
        if (got.exit_code == 0 && got.out.find(want) != std::string::npos) {
            return got.out;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << url << " never answered with \"" << want << "\": " << got.out << got.err;
    return got.out;
}

// The host port Docker published for a service's container port in a Compose project.
std::string published_port(const fs::path& project, const std::string& service, int port) {
    const auto got = testing::run(
        {"/usr/bin/docker-compose", "--project-directory", project.string(), "-f",
         (project / "docker-compose.yaml").string(), "port", service, std::to_string(port)});
    EXPECT_EQ(got.exit_code, 0) << got.err;
    const auto colon = got.out.rfind(':');
    std::string value = colon == std::string::npos ? "" : got.out.substr(colon + 1);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
        value.pop_back();
    }
    return value;
}

TEST_F(ServiceApp, RepogenPublishesAndTheRegistryServesDockerPodmanAndSkopeo) {
    const fs::path packages = write_packages("reg", "1.0.0", "hello");
    const fs::path repository = dir_ / "repository";
    const auto built = ferry({"repogen", "-p", packages.string(), repository.string()});
    ASSERT_EQ(built.exit_code, 0) << built.err;
    const auto verified = ferry({"repo", "verify", repository.string()});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
    EXPECT_TRUE(fs::exists(repository / kWeb / "1.0.0service.json"));

    testing::MarketServer market(FERRY_BINARY, dir_ / "data");
    publish(market, testing::create_token(FERRY_BINARY, dir_ / "data"), packages);
    const std::string registry = "127.0.0.1:" + std::to_string(market.port());
    const std::string image = registry + "/" + kApp + "/" + kWeb + ":1.0.0";

    const auto pulled = docker({"pull", image});
    ASSERT_EQ(pulled.exit_code, 0) << pulled.out << pulled.err;
    const auto run = docker({"run", "--rm", "--network", testing::kDockerNetwork, image,
                             "/bin/busybox", "cat", "/www/index.html"});
    EXPECT_EQ(run.out, "web\n") << run.err;

    const auto inspected =
        testing::run({"/usr/bin/skopeo", "inspect", "--tls-verify=false",
                      "docker://" + registry + "/" + kApp + "/" + kDb + ":latest"});
    ASSERT_EQ(inspected.exit_code, 0) << inspected.err;
    const auto json = nlohmann::json::parse(inspected.out);
    EXPECT_EQ(json.at("Layers").size(), 1u);
    const auto copied = testing::run({"/usr/bin/skopeo", "copy", "--src-tls-verify=false",
                                      "docker://" + image, "dir:" + (dir_ / "copy").string()});
    ASSERT_EQ(copied.exit_code, 0) << copied.err;
    EXPECT_TRUE(fs::exists(dir_ / "copy" / "manifest.json"));

    // podman, a third client, with a store of its own (its run root must be short: /tmp): the
    // image it gets is docker's.
    const core::ScratchDir podman_run_root;
    const std::vector<std::string> podman = {"/usr/bin/podman",
                                             "--root",
                                             (dir_ / "podman").string(),
                                             "--runroot",
                                             podman_run_root.path().string(),
                                             "--storage-driver",
                                             "vfs"};
    auto podman_run = [&](std::vector<std::string> args) {
        args.insert(args.begin(), podman.begin(), podman.end());
        return testing::run(args);
    };
    const auto podman_pulled = podman_run({"pull", "--tls-verify=false", image});
    ASSERT_EQ(podman_pulled.exit_code, 0) << podman_pulled.err;
    const auto podman_id = podman_run({"image", "inspect", "--format", "{{.Id}}", image});
    const auto docker_id = docker({"image", "inspect", "--format", "{{.Id}}", image});
    ASSERT_EQ(docker_id.exit_code, 0) << docker_id.err;
    EXPECT_EQ("sha256:" + podman_id.out, docker_id.out) << podman_id.err;

    const auto unknown =
        testing::run({"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                      "http://" + registry + "/v2/" + kApp + "/" + kWeb + "/manifests/9.9"});
    EXPECT_EQ(unknown.out, "404");
}

TEST_F(ServiceApp, PrivateMarketsAskDockerToLogIn) {
    const fs::path packages = write_packages("priv", "1.0.0", "hello");
    const std::string token = testing::create_token(FERRY_BINARY, dir_ / "data");
    testing::MarketServer market(FERRY_BINARY, dir_ / "data", {"--private"});
    publish(market, token, packages);
    const std::string registry = "127.0.0.1:" + std::to_string(market.port());
    const std::string image = registry + "/" + kApp + "/" + kWeb + ":1.0.0";
    const fs::path config = dir_ / "docker-config";
    fs::create_directories(config);
    auto with_config = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"--config", config.string()});
        return docker(args);
    };
    EXPECT_NE(with_config({"pull", image}).exit_code, 0);
    const auto login = with_config({"login", registry, "-u", "token", "-p", token});
    ASSERT_EQ(login.exit_code, 0) << login.out << login.err;
    const auto pulled = with_config({"pull", image});
    EXPECT_EQ(pulled.exit_code, 0) << pulled.out << pulled.err;
}

TEST_F(ServiceApp, ComposePackageRunsWithRunShAlone) {
    const fs::path packages = write_packages("pkg", "1.0.0", "hello");
    testing::MarketServer market(FERRY_BINARY, dir_ / "data");
    publish(market, testing::create_token(FERRY_BINARY, dir_ / "data"), packages);
    const fs::path output = dir_ / "hello.tar.gz";
    const auto exported = ferry({"export", kApp + "@1", "--server", market.url(), "--format",
                                 "compose", "-o", output.string(), "--folder", "hello-pkg"});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;

    const fs::path unpacked = dir_ / "unpacked";
    fs::create_directories(unpacked);
    ASSERT_EQ(testing::run({"/bin/tar", "-xf", output.string(), "-C", unpacked.string()}).exit_code,
              0);
    const fs::path project = unpacked / "hello-pkg";
    const auto shellcheck = testing::run({"/usr/bin/shellcheck", (project / "run.sh").string()});
    EXPECT_EQ(shellcheck.exit_code, 0) << shellcheck.out;
    const auto config =
        testing::run({"/usr/bin/docker-compose", "--project-directory", project.string(), "-f",
                      (project / "docker-compose.yaml").string(), "config", "-q"});
    EXPECT_EQ(config.exit_code, 0) << config.err;

    // This host only, and a port Docker chooses.
    auto env = formats::parse_env_file(core::read_file(project / ".env"));
    std::string text = core::read_file(project / ".env");
    text += "FERRY_BIND_ADDRESS=127.0.0.1\nWEB_PORT_8080=\n";
    core::write_file_atomic(project / ".env", text);

    const auto up = testing::run({(project / "run.sh").string(), "up"});
    ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
    const auto secrets = formats::parse_env_file(core::read_file(project / ".env"));
    const std::string password = secrets.at("SECRET_DB_DB_PASSWORD");
    EXPECT_EQ(password.size(), 32u);
    const std::string port = published_port(project, "web", 8080);
    EXPECT_THAT(page_containing("http://127.0.0.1:" + port + "/", "hello"),
                HasSubstr("hello user=app password=" + password + " host=db"));

    // A second up keeps the secret; status names the services.
    const auto again = testing::run({(project / "run.sh").string(), "up"});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(
        formats::parse_env_file(core::read_file(project / ".env")).at("SECRET_DB_DB_PASSWORD"),
        password);
    const auto status = testing::run({(project / "run.sh").string(), "status"});
    EXPECT_THAT(status.out, HasSubstr("web"));
    ASSERT_EQ(testing::run({(project / "run.sh").string(), "down"}).exit_code, 0);

    // A busy host port is named before anything starts.
    std::optional<testing::SilentListener> busy(std::in_place);
    const std::string busy_port = std::to_string(busy->port());
    text = core::read_file(project / ".env") + "WEB_PORT_8080=" + busy_port + "\n";
    core::write_file_atomic(project / ".env", text);
    const auto refused = testing::run({(project / "run.sh").string(), "up"});
    busy.reset();
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_THAT(refused.err, HasSubstr("WEB_PORT_8080=" + busy_port));
    EXPECT_EQ(docker({"ps", "-q", "--filter", "label=com.docker.compose.project=hello-pkg"}).out,
              "");
}

TEST_F(ServiceApp, InstallStartUpdateRollbackRemove) {
    const fs::path packages = write_packages("app", "1.0.0", "version one");
    const std::string token = testing::create_token(FERRY_BINARY, dir_ / "data");
    testing::MarketServer market(FERRY_BINARY, dir_ / "data");
    publish(market, token, packages);

    const fs::path root = dir_ / "target";
    fs::create_directories(root);
    // This host only, a port Docker chooses, and a project name of the test's own.
    core::write_file_atomic(root / ".env",
                            "COMPOSE_PROJECT_NAME=ferry-install-test\n"
                            "FERRY_BIND_ADDRESS=127.0.0.1\nWEB_PORT_8080=\n");
    const auto installed =
        ferry({"install", "--market", market.url(), kApp, "--root", root.string(), "--start"});
    ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
    EXPECT_THAT(installed.err, HasSubstr("services running"));
    const std::string password =
        formats::parse_env_file(core::read_file(root / ".env")).at("SECRET_DB_DB_PASSWORD");
    EXPECT_THAT(page_containing("http://127.0.0.1:" + published_port(root, "web", 8080) + "/",
                                "version one"),
                HasSubstr("version one user=app password=" + password));
    const auto status = ferry({"status", "--root", root.string()});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_THAT(status.out, HasSubstr("web"));

    // A new web version: the update recreates web, keeps db and the secret.
    const std::string db_before =
        docker({"ps", "-q", "--filter", "name=ferry-install-test_db"}).out;
    fs::remove_all(packages);
    write_packages("app", "2.0.0", "version two");
    publish(market, token, packages);
    const auto updated = ferry({"update", "--root", root.string()});
    ASSERT_EQ(updated.exit_code, 0) << updated.out << updated.err;
    EXPECT_THAT(page_containing("http://127.0.0.1:" + published_port(root, "web", 8080) + "/",
                                "version two"),
                HasSubstr("version two user=app password=" + password));
    EXPECT_EQ(docker({"ps", "-q", "--filter", "name=ferry-install-test_db"}).out, db_before);

    const auto rolled = ferry({"rollback", "--root", root.string()});
    ASSERT_EQ(rolled.exit_code, 0) << rolled.out << rolled.err;
    EXPECT_THAT(page_containing("http://127.0.0.1:" + published_port(root, "web", 8080) + "/",
                                "version one"),
                HasSubstr("version one"));

    const auto removed = ferry({"remove", "--root", root.string(), kWeb, kDb});
    ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
    EXPECT_FALSE(fs::exists(root / "docker-compose.yaml"));
    EXPECT_EQ(
        docker({"ps", "-aq", "--filter", "label=com.docker.compose.project=ferry-install-test"})
            .out,
        "");
    // The data volume stays unless --purge-data.
    EXPECT_THAT(docker({"volume", "ls", "-q"}).out, HasSubstr("ferry-install-test_db-data"));
    docker({"volume", "rm", "ferry-install-test_db-data"});
}

TEST_F(ServiceApp, AServiceThatDoesNotBecomeHealthyIsNamed) {
    const fs::path packages = write_packages("sick", "1.0.0", "hello");
    // db's probe can never pass: web, which waits for it, never starts.
    std::string db = core::read_file(packages / kDb / "meta" / "service.yaml");
    db.replace(db.find("http://127.0.0.1:7000/"), 22, "http://127.0.0.1:7999/");
    core::write_file_atomic(packages / kDb / "meta" / "service.yaml", db);
    testing::MarketServer market(FERRY_BINARY, dir_ / "data");
    publish(market, testing::create_token(FERRY_BINARY, dir_ / "data"), packages);
    const fs::path root = dir_ / "target";
    fs::create_directories(root);
    core::write_file_atomic(root / ".env",
                            "COMPOSE_PROJECT_NAME=ferry-sick-test\n"
                            "FERRY_BIND_ADDRESS=127.0.0.1\nWEB_PORT_8080=\n");
    const auto installed =
        ferry({"install", "--market", market.url(), kApp, "--root", root.string(), "--start"});
    EXPECT_EQ(installed.exit_code, 1) << installed.out << installed.err;
    EXPECT_THAT(installed.err, HasSubstr("service db did not become healthy"));
    EXPECT_THAT(installed.err, HasSubstr("its probe said: wget: can't connect"));
    // The components are installed; the project can be taken down.
    const auto removed = ferry({"remove", "--root", root.string(), kWeb, kDb, "--purge-data"});
    EXPECT_EQ(removed.exit_code, 0) << removed.out << removed.err;
    EXPECT_EQ(
        docker({"ps", "-aq", "--filter", "label=com.docker.compose.project=ferry-sick-test"}).out,
        "");
    EXPECT_THAT(docker({"volume", "ls", "-q"}).out,
                ::testing::Not(HasSubstr("ferry-sick-test_db-data")));
    EXPECT_FALSE(fs::exists(root / ".env"));
}

}  // namespace
}  // namespace ferry
