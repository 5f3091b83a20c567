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
    const std::string token = create_token(FERRY_BINARY, data());
    const std::vector<std::string> publish = {
        "publish", packages().string(), "--server",  server.url(), "--token", token,
        "--app",   "com.test.app",      "--version", "1",          "-q"};
    const CommandResult untrusted_publish = ferry(publish);
    EXPECT_EQ(untrusted_publish.exit_code, 1) << testing::describe(untrusted_publish);
    EXPECT_THAT(untrusted_publish.err, HasSubstr("certificate"));
    std::vector<std::string> trusted = publish;
    trusted.insert(trusted.end(), {"--ca-file", cert().string()});
    const CommandResult published = ferry(trusted);
    ASSERT_EQ(published.exit_code, 0) << testing::describe(published);

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

    // An internal market reaches the https market as its upstream with --upstream-ca-file.
    MarketServer internal(FERRY_BINARY, root() / "internal",
                          {"--upstream", server.url(), "--upstream-ca-file", cert().string()});
    const CommandResult remote = ferry({"market", "remote", "--server", internal.url(), "--json"});
    ASSERT_EQ(remote.exit_code, 0) << testing::describe(remote);
    EXPECT_EQ(Json::parse(remote.out).at("apps").at(0).at("key"), "com.test.app") << remote.out;
    const CommandResult pulled =
        ferry({"market", "pull", "com.test.app", "--server", internal.url(), "--token",
               create_token(FERRY_BINARY, root() / "internal"), "-q"});
    EXPECT_EQ(pulled.exit_code, 0) << testing::describe(pulled);
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
