// End-to-end: running `ferry serve` the ways an operator does: over TLS with a certificate of
// their own (and clients that trust it only when told to), from a config file whose options a
// flag overrides, from the environment, and refusing a config file it cannot read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "e2e/market_support.hpp"
#include "support/nginx_server.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MarketServe : public FerryTest {
  protected:
    fs::path data() const { return root() / "data"; }
    fs::path packages() const { return root() / "packages"; }

    // A self-signed certificate for 127.0.0.1 and localhost (as subjectAltName: clients
    // ignore the common name) and its key.
    void make_certificate() {
        const CommandResult r =
            run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key().string(),
                 "-out", cert().string()});
        ASSERT_EQ(r.exit_code, 0) << testing::describe(r);
    }
    fs::path cert() const { return root() / "cert.pem"; }
    fs::path key() const { return root() / "key.pem"; }

    // GET path on 127.0.0.1:port over http, with a bearer token when given.
    static Answer get(int port, const std::string& path, const std::string& token = "") {
        httplib::Client client("127.0.0.1", port);
        client.set_read_timeout(30, 0);
        httplib::Headers headers;
        if (!token.empty()) {
            headers.emplace("Authorization", "Bearer " + token);
        }
        const httplib::Result result = client.Get(path.c_str(), headers);
        return result ? Answer{result->status, result->body} : Answer{};
    }
};

// Publishes the repository built from packages the way any HTTP client may (docs/API.md):
// the missing blobs, each blob, then the revision; over TLS, trusting only cert.
void publish_over_tls(int port, const fs::path& cert, const std::string& token,
                      const fs::path& repository) {
    httplib::SSLClient client("127.0.0.1", port);
    client.set_ca_cert_path(cert.c_str());
    client.enable_server_certificate_verification(true);
    client.set_read_timeout(30, 0);
    const httplib::Headers headers = {{"Authorization", "Bearer " + token}};
    Json files = Json::array();
    Json blobs = Json::array();
    std::map<std::string, fs::path> contents;  // one blob for files with the same bytes
    for (const auto& file : files_below(repository)) {
        if (file != "Updates.xml") {
            const std::string content = read_text(repository / file);
            const std::string sha256 = sha256_of(content);
            files.push_back({{"path", file}, {"sha256", sha256}, {"size", content.size()}});
            if (contents.emplace(sha256, repository / file).second) {
                blobs.push_back({{"sha256", sha256}, {"size", content.size()}});
            }
        }
    }
    auto missing = client.Post("/api/v1/blobs/missing", headers, Json{{"blobs", blobs}}.dump(),
                               "application/json");
    ASSERT_TRUE(missing) << "no answer over TLS: " << httplib::to_string(missing.error());
    ASSERT_EQ(missing->status, 200) << missing->body;
    EXPECT_EQ(Json::parse(missing->body).at("missing").size(), contents.size());
    for (const auto& [sha256, file] : contents) {
        auto put = client.Put(("/api/v1/blobs/" + sha256).c_str(), headers, read_text(file),
                              "application/octet-stream");
        ASSERT_TRUE(put);
        ASSERT_EQ(put->status, 201) << put->body;
    }
    auto revision = client.Post(
        "/api/v1/apps/com.test.app/versions/1/revisions", headers,
        Json{{"updates_xml", read_text(repository / "Updates.xml")}, {"files", files}}.dump(),
        "application/json");
    ASSERT_TRUE(revision);
    ASSERT_EQ(revision->status, 201) << revision->body;
}

TEST_F(MarketServe, ServesHttpsAndTheClientTrustsTheCertificateOnlyWithItsCaFile) {
    make_certificate();
    MarketServer server(FERRY_BINARY, data(),
                        {"--tls-cert", cert().string(), "--tls-key", key().string()});
    ASSERT_THAT(server.url(), ::testing::StartsWith("https://127.0.0.1:"));
    // The start line follows the opening of the port.
    EXPECT_TRUE(wait_until([&] { return server.log().find(server.url()) != std::string::npos; }))
        << server.log();
    make_package(packages(), "com.test.a", "1.0", {{"a.txt", "a over TLS\n"}},
                 " <Default>true</Default>\n");
    make_repository(packages(), root() / "built");
    publish_over_tls(server.port(), cert(), create_token(FERRY_BINARY, data()), root() / "built");

    const fs::path trusting = root() / "trusting";
    const CommandResult installed =
        ferry({"install", "--market", server.url(), "com.test.app", "--ca-file", cert().string(),
               "--root", trusting.string(), "-q"});
    ASSERT_EQ(installed.exit_code, 0) << testing::describe(installed);
    EXPECT_EQ(read_text(trusting / "a.txt"), "a over TLS\n");

    const fs::path untrusting = root() / "untrusting";
    const CommandResult refused =
        ferry({"install", "--market", server.url(), "com.test.app", "--root", untrusting.string()});
    EXPECT_EQ(refused.exit_code, 1) << testing::describe(refused);
    EXPECT_THAT(refused.err, HasSubstr(server.url()));
    EXPECT_THAT(refused.err, HasSubstr("certificate"));
    EXPECT_FALSE(fs::exists(untrusting / "a.txt"));
}

TEST_F(MarketServe, AConfigFileSetsTheOptionsAndAFlagOverridesIt) {
    const int configured_port = free_port();
    const fs::path config = root() / "serve.toml";
    // Port 1 refuses at once: the upstream only has to be named, not reached.
    write_text(config,
               "# the market of the test\n"
               "data = \"" +
                   data().string() + "\"\nlisten = \"127.0.0.1:" + std::to_string(configured_port) +
                   "\"\nprivate = true\nupstream = [\"http://127.0.0.1:1\"]\n");
    {
        MarketServer server(FERRY_BINARY, {"serve", "--config", config.string()}, {},
                            configured_port, root() / "serve.log");
        EXPECT_TRUE(fs::exists(data() / "catalog.db")) << "data from the config file";
        const Answer anonymous = get(configured_port, "/api/v1/apps");
        EXPECT_EQ(anonymous.status, 401) << describe(anonymous);
        EXPECT_THAT(anonymous.body, HasSubstr("private"));
        const std::string token = create_token(FERRY_BINARY, data());
        EXPECT_EQ(get(configured_port, "/api/v1/apps", token).status, 200);
        const Answer upstream = get(configured_port, "/api/v1/upstream/apps", token);
        EXPECT_THAT(upstream.body, HasSubstr("http://127.0.0.1:1")) << describe(upstream);
    }

    const int flag_port = free_port();
    MarketServer server(FERRY_BINARY,
                        {"serve", "--config", config.string(), "--listen",
                         "127.0.0.1:" + std::to_string(flag_port)},
                        {}, flag_port, root() / "serve.log");
    EXPECT_FALSE(wait_for_port(configured_port, 200)) << "the flag's address replaces the file's";
    EXPECT_EQ(get(flag_port, "/api/v1/apps").status, 401) << "the rest of the file still holds";
}

TEST_F(MarketServe, TheEnvironmentNamesTheDataDirectoryAndTheAddress) {
    const int port = free_port();
    const fs::path env_data = root() / "from-environment";
    MarketServer server(
        FERRY_BINARY, {"serve"},
        {{"FERRY_DATA", env_data.string()}, {"FERRY_LISTEN", "127.0.0.1:" + std::to_string(port)}},
        port, root() / "serve.log");
    EXPECT_TRUE(fs::exists(env_data / "catalog.db"));
    EXPECT_TRUE(wait_until([&] {
        return server.log().find(env_data.string()) != std::string::npos;
    })) << server.log();
    const Answer health = get(port, "/api/v1/health");
    EXPECT_EQ(health.status, 200) << describe(health);
    EXPECT_EQ(health.json().value("status", ""), "ok");
}

TEST_F(MarketServe, AConfigFileItCannotUseIsNamedInTheError) {
    const fs::path typo = root() / "typo.toml";
    write_text(typo, "data = \"" + data().string() + "\"\nlissten = \"127.0.0.1:8080\"\n");
    const CommandResult unknown = ferry({"serve", "--config", typo.string()});
    EXPECT_EQ(unknown.exit_code, 2) << testing::describe(unknown);
    EXPECT_THAT(unknown.err, HasSubstr(typo.string()));
    EXPECT_THAT(unknown.err, HasSubstr("lissten"));
    EXPECT_FALSE(fs::exists(data())) << "nothing was started";

    const fs::path missing = root() / "missing.toml";
    const CommandResult absent = ferry({"serve", "--config", missing.string()});
    EXPECT_EQ(absent.exit_code, 2) << testing::describe(absent);
    EXPECT_THAT(absent.err, HasSubstr(missing.string()));
}

}  // namespace
}  // namespace ferry::testing
