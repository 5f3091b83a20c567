// Tests of the Compose project written for an app's services: the golden docker-compose.yaml
// (regenerate with FERRY_UPDATE_GOLDEN=1 after an intended change), the .env variables and the
// rules that keep a user's values and secrets.
#include "formats/compose.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/test_support.hpp"

namespace ferry::formats {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ComposeProject hello_project() {
    ServiceDescription db;
    db.name = "db";
    db.image = "example/db:1";
    db.command = {"/bin/busybox", "httpd", "-f", "-p", "7000"};
    db.ports = {{7000, "tcp", false, 0, "api"}};
    db.connection = {{"DB_USER", "app", false}, {"DB_PASSWORD", "", true}};
    db.volumes = {{ServiceVolume::Kind::data, "/var/lib/db", "data", "", 0644, "", "", false}};
    HealthProbe probe;
    probe.kind = HealthProbe::Kind::tcp;
    probe.port = 7000;
    db.health = probe;
    db.memory = 64u << 20;

    ServiceDescription web;
    web.name = "web";
    web.image = "example/web:1";
    web.entrypoint = {"/bin/busybox"};
    web.command = {"httpd", "-f", "-p", "8080", "-h", "/www"};
    web.ports = {{8080, "tcp", true, 18080, "http"}, {9000, "udp", true, 0, ""}};
    web.environment = {{"GREETING", "yes"}, {"PRICE", "$5"}};
    web.volumes = {
        {ServiceVolume::Kind::config, "/etc/web/app.conf", "", "greeting=hi\n", 0644, "", "",
         false},
        {ServiceVolume::Kind::shared, "/shared", "", "", 0644, "com.example.db", "data", true}};
    web.depends = {"com.example.db"};
    HealthProbe http;
    http.port = 8080;
    http.path = "/index.html";
    web.health = http;
    web.cpus = 0.5;
    web.restart = "no";
    return {"hello",
            {{"com.example.db", db, "com.example.db:1.0.0"},
             {"com.example.web", web, "com.example.web:2.0.0"}}};
}

TEST(Compose, MatchesGolden) {
    testing::expect_matches_golden("compose_hello.yaml", write_compose(hello_project()));
}

TEST(Compose, QuotesEveryStringAndEscapesDollars) {
    const std::string yaml = write_compose(hello_project());
    EXPECT_THAT(yaml, HasSubstr("GREETING: \"yes\""));  // not YAML 1.1's true
    EXPECT_THAT(yaml, HasSubstr("PRICE: \"$$5\""));     // not a variable
    EXPECT_THAT(yaml, HasSubstr("restart: \"no\""));
}

TEST(Compose, DependantsSeeHostPortAndConnectionValues) {
    const std::string yaml = write_compose(hello_project());
    EXPECT_THAT(yaml, HasSubstr("DB_HOST: \"db\""));
    EXPECT_THAT(yaml, HasSubstr("DB_PORT: \"7000\""));
    EXPECT_THAT(yaml, HasSubstr("DB_USER: \"app\""));
    EXPECT_THAT(yaml, HasSubstr("DB_PASSWORD: \"${SECRET_DB_DB_PASSWORD}\""));
    EXPECT_THAT(yaml, HasSubstr("condition: \"service_healthy\""));
    EXPECT_THAT(yaml,
                HasSubstr("\"${FERRY_BIND_ADDRESS:-0.0.0.0}:${WEB_PORT_8080-18080}:8080/tcp\""));
    EXPECT_THAT(yaml, HasSubstr("\"db-data:/shared:ro\""));
    EXPECT_THAT(yaml, HasSubstr("\"./service-config/web/etc/web/app.conf:/etc/web/app.conf:ro\""));
}

TEST(Compose, UnknownDependencyIsAnError) {
    auto project = hello_project();
    project.services.erase(project.services.begin());
    EXPECT_THROW(write_compose(project), Error);
}

TEST(Compose, VariablesNameEveryPortAndSecret) {
    std::vector<std::string> names;
    for (const auto& v : compose_variables(hello_project())) {
        names.push_back(v.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"COMPOSE_PROJECT_NAME", "FERRY_BIND_ADDRESS",
                                               "SECRET_DB_DB_PASSWORD", "WEB_PORT_8080",
                                               "WEB_PORT_9000_UDP"}));
}

TEST(Compose, EnvFileKeepsValuesAndMakesSecretsOnce) {
    const auto variables = compose_variables(hello_project());
    const auto first = parse_env_file(write_env_file(variables, {}));
    EXPECT_EQ(first.at("WEB_PORT_8080"), "18080");
    EXPECT_EQ(first.at("WEB_PORT_9000_UDP"), "9000");
    EXPECT_EQ(first.at("COMPOSE_PROJECT_NAME"), "hello");
    ASSERT_EQ(first.at("SECRET_DB_DB_PASSWORD").size(), 32u);
    auto changed = first;
    changed["WEB_PORT_8080"] = "28080";
    const auto second = parse_env_file(write_env_file(variables, changed));
    EXPECT_EQ(second.at("WEB_PORT_8080"), "28080");
    EXPECT_EQ(second.at("SECRET_DB_DB_PASSWORD"), first.at("SECRET_DB_DB_PASSWORD"));
    EXPECT_NE(parse_env_file(write_env_file(variables, {})).at("SECRET_DB_DB_PASSWORD"),
              first.at("SECRET_DB_DB_PASSWORD"));
}

TEST(Compose, PackagesLeaveSecretsToRunSh) {
    const auto values =
        parse_env_file(write_env_file(compose_variables(hello_project()), {}, false));
    EXPECT_EQ(values.at("SECRET_DB_DB_PASSWORD"), "");
    EXPECT_EQ(values.at("WEB_PORT_8080"), "18080");
}

TEST(Compose, ImageTagsAreLowercaseComponentAndVersion) {
    EXPECT_EQ(image_tag("com.Example.Web", "1.0.0-2"), "com.example.web:1.0.0-2");
    EXPECT_EQ(image_tag("a", "1+b"), "a:1_b");
}

TEST(Compose, EnvFileParserSkipsCommentsAndBlankLines) {
    EXPECT_EQ(parse_env_file("# c\n\n  A=1\nB==2\nnoequals\n"),
              (std::map<std::string, std::string>{{"A", "1"}, {"B", "=2"}}));
}

}  // namespace
}  // namespace ferry::formats
