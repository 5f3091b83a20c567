// Tests of service descriptions (meta/service.yaml): what a full description reads as, the
// defaults, every refusal with its line and field path, the canonical JSON (a golden file and
// round trips). The checks of an app's services together are in service_app_check_test.cpp,
// the value parsers' in service_values_test.cpp.
//
// Golden file: tests/data/golden/service_example.json is to_json of the example below. After an
// intended format change, regenerate it with
//   FERRY_UPDATE_GOLDEN=1 ./build/test/tests/ferry_unit_tests --gtest_filter='Service*'
#include "formats/service.hpp"

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "formats/package_xml.hpp"
#include "support/test_support.hpp"

namespace ferry::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using testing::error_of;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kExample = R"(# The example of docs/SERVICES.md.
name: web
image: example/web:1.0
entrypoint: [/bin/busybox]
command: [httpd, -f, -p, "8080"]
ports:
  - container: 8080
    protocol: tcp
    publish: true
    host: 18080
    name: http
  - container: 5353
    protocol: udp
environment:
  GREETING: hello
  WORKERS: 4
  DEBUG: false
connection:
  DB_USER: app
  DB_PASSWORD: {generate: true}
volumes:
  - name: data
    path: /var/lib/db
  - path: /etc/web/app.conf
    config: |
      greeting=hello
    mode: "0600"
  - path: /shared
    from: com.example.files
    volume: uploads
    read_only: true
depends: [com.example.db]
health:
  http: {port: 8080, path: /healthz}
  interval: 1m30s
  timeout: 5s
  retries: 4
  start_period: 0s
memory: 256M
cpus: 0.5
restart: on-failure
)";

ServiceDescription parse(std::string_view text, std::string_view component = "com.example.web") {
    return parse_service(text, "svc.yaml", component);
}

std::string error_in(std::string_view text, std::string_view component = "com.example.web") {
    return error_of([&] { parse(text, component); });
}

TEST(Service, ReadsEveryField) {
    const ServiceDescription d = parse(kExample);
    EXPECT_EQ(d.name, "web");
    EXPECT_EQ(d.image, "example/web:1.0");
    EXPECT_THAT(d.entrypoint, ElementsAre("/bin/busybox"));
    EXPECT_THAT(d.command, ElementsAre("httpd", "-f", "-p", "8080"));
    ASSERT_EQ(d.ports.size(), 2u);
    EXPECT_EQ(d.ports[0], (ServicePort{8080, "tcp", true, 18080, "http"}));
    EXPECT_EQ(d.ports[1], (ServicePort{5353, "udp", false, 5353, ""}));
    EXPECT_EQ(d.environment, (std::map<std::string, std::string>{
                                 {"GREETING", "hello"}, {"WORKERS", "4"}, {"DEBUG", "false"}}));
    // Kept in name order, whatever the file's order.
    EXPECT_THAT(d.connection, ElementsAre(ConnectionValue{"DB_PASSWORD", "", true},
                                          ConnectionValue{"DB_USER", "app", false}));
    ASSERT_EQ(d.volumes.size(), 3u);
    EXPECT_EQ(d.volumes[0].kind, ServiceVolume::Kind::data);
    EXPECT_EQ(d.volumes[0].name, "data");
    EXPECT_EQ(d.volumes[0].path, "/var/lib/db");
    EXPECT_FALSE(d.volumes[0].read_only);
    EXPECT_EQ(d.volumes[1].kind, ServiceVolume::Kind::config);
    EXPECT_EQ(d.volumes[1].path, "/etc/web/app.conf");
    EXPECT_EQ(d.volumes[1].content, "greeting=hello\n");
    EXPECT_EQ(d.volumes[1].mode, 0600u);
    EXPECT_EQ(d.volumes[2].kind, ServiceVolume::Kind::shared);
    EXPECT_EQ(d.volumes[2].from, "com.example.files");
    EXPECT_EQ(d.volumes[2].volume, "uploads");
    EXPECT_TRUE(d.volumes[2].read_only);
    EXPECT_THAT(d.depends, ElementsAre("com.example.db"));
    ASSERT_TRUE(d.health.has_value());
    EXPECT_EQ(d.health->kind, HealthProbe::Kind::http);
    EXPECT_EQ(d.health->port, 8080);
    EXPECT_EQ(d.health->path, "/healthz");
    EXPECT_EQ(d.health->interval, std::chrono::seconds(90));
    EXPECT_EQ(d.health->timeout, std::chrono::seconds(5));
    EXPECT_EQ(d.health->retries, 4u);
    EXPECT_EQ(d.health->start_period, std::chrono::seconds(0));
    EXPECT_EQ(d.memory, 256u << 20);
    EXPECT_EQ(d.cpus, 0.5);
    EXPECT_EQ(d.restart, "on-failure");
}

TEST(Service, FillsTheDefaults) {
    const ServiceDescription d = parse("image: busybox\n", "com.Example.My_web");
    EXPECT_EQ(d.name, "com-example-my-web");
    EXPECT_EQ(d.image, "busybox");
    EXPECT_TRUE(d.entrypoint.empty());
    EXPECT_TRUE(d.command.empty());
    EXPECT_TRUE(d.ports.empty());
    EXPECT_TRUE(d.volumes.empty());
    EXPECT_FALSE(d.health.has_value());
    EXPECT_EQ(d.memory, 0u);
    EXPECT_EQ(d.cpus, 0);
    EXPECT_EQ(d.restart, "unless-stopped");

    const ServiceDescription p = parse(
        "image: busybox\nports: [{container: 53}]\nvolumes: [{path: /etc/x, config: ''}]\n"
        "health: {tcp: {port: 53}}\n");
    EXPECT_EQ(p.ports[0], (ServicePort{53, "tcp", false, 53, ""}));
    EXPECT_EQ(p.volumes[0].mode, 0644u);
    EXPECT_EQ(p.health, (HealthProbe{HealthProbe::Kind::tcp,
                                     53,
                                     "/",
                                     {},
                                     std::chrono::seconds(10),
                                     std::chrono::seconds(5),
                                     std::chrono::seconds(0),
                                     3}));
}

TEST(Service, ReadsJson) {
    const ServiceDescription d =
        parse(R"({"image": "registry.example:5000/team/db@sha256:)"
              R"(0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "ports": [{"container": 5432, "publish": false}],
            "health": {"command": ["pg_isready", "-q"], "retries": 5},
            "memory": 1073741824, "cpus": 2})");
    EXPECT_EQ(d.ports[0].container, 5432);
    EXPECT_EQ(d.health->kind, HealthProbe::Kind::command);
    EXPECT_THAT(d.health->command, ElementsAre("pg_isready", "-q"));
    EXPECT_EQ(d.memory, 1u << 30);
    EXPECT_EQ(d.cpus, 2);
}

struct BadCase {
    std::string yaml;
    std::string where;  // the message's start: "svc.yaml:<line>: <field path>:"
    std::string cause;  // a part of the rest
};

void PrintTo(const BadCase& c, std::ostream* os) {
    *os << c.where << " (" << c.yaml << ")";
}

class ServiceRefuses : public ::testing::TestWithParam<BadCase> {};

TEST_P(ServiceRefuses, NamingTheLineAndTheField) {
    const BadCase& c = GetParam();
    const std::string message = error_in(c.yaml);
    EXPECT_THAT(message, StartsWith(c.where));
    EXPECT_THAT(message, HasSubstr(c.cause));
    EXPECT_THAT(message, ::testing::Not(HasSubstr("yaml-cpp")));
}

const std::string kImage = "image: example/web:1.0\n";

INSTANTIATE_TEST_SUITE_P(
    Document, ServiceRefuses,
    ::testing::Values(
        BadCase{"", "svc.yaml: the description is empty", "expected a mapping"},
        BadCase{"- a\n- b\n", "svc.yaml:1: the description is a list", "expected a mapping"},
        BadCase{"hello\n", "svc.yaml:1: the description is \"hello\"", "expected a mapping"},
        BadCase{kImage + "---\n" + kImage, "svc.yaml:2:1: a second YAML document",
                "(a description is one document)"},
        BadCase{"{image: a}, 2]\n", "svc.yaml:1:", "a second YAML document, or text after"},
        BadCase{"---\n", "svc.yaml: the description is empty (null)", ""},
        BadCase{"# nothing\n", "svc.yaml: the description is empty", ""},
        BadCase{kImage + "ports: [a\n", "svc.yaml:3:1: ", "end of sequence flow"},
        BadCase{"image: a: b\n", "svc.yaml:1:9: ", "illegal map value"},
        BadCase{"image: a\n  b: c\n", "svc.yaml:2:4: ", "illegal map value"},
        BadCase{"{image: a\n", "svc.yaml:2:1: ", "end of map flow not found"},
        BadCase{"image: *x\n", "svc.yaml:1:8: ", "the referenced anchor is not defined"},
        BadCase{kImage + "ports:\n",
                "svc.yaml:2: ports: has no value (give one, or leave the field out)", ""},
        BadCase{kImage + "health: ~\ncpus: 0\nrestart:\n", "svc.yaml:4: restart: has no value", ""},
        BadCase{kImage + "[a]: b\n", "svc.yaml:2: has a key that is a list", ""},
        BadCase{kImage + "imgae: b\n", "svc.yaml:2: imgae: unknown field",
                "(known: name, image, entrypoint, command, ports, environment, connection, "
                "volumes, depends, health, memory, cpus, restart)"},
        BadCase{kImage + "image: b\n", "svc.yaml:2: image: is given twice", ""},
        BadCase{"name: web\n", "svc.yaml:1: image: is missing", "example/web:1.0"},
        BadCase{std::string(1u << 20, '#') + "x", "svc.yaml: 1048577 bytes",
                "more than the 1048576"}));

INSTANTIATE_TEST_SUITE_P(
    NameAndImage, ServiceRefuses,
    ::testing::Values(
        BadCase{kImage + "name: [web]\n", "svc.yaml:2: name: is a list, expected a string", ""},
        BadCase{kImage + "name: Web\n", "svc.yaml:2: name: \"Web\" contains 'W'", "DNS name"},
        BadCase{kImage + "name: web-\n", "svc.yaml:2: name: \"web-\" ends with '-'", ""},
        BadCase{kImage + "name: we_b\n", "svc.yaml:2: name: \"we_b\" contains '_'", ""},
        BadCase{kImage + "name: " + std::string(64, 'a') + "\n",
                "svc.yaml:2: name: ", "longer than 63"},
        BadCase{"image: ''\n", "svc.yaml:1: image: \"\" is empty", ""},
        BadCase{"image: {a: b}\n", "svc.yaml:1: image: is a mapping, expected a string", ""},
        BadCase{"image: Example/web:1.0\n", "svc.yaml:1: image: \"Example/web:1.0\"",
                "name component \"Example\""},
        BadCase{"image: web:-1\n", "svc.yaml:1: image: \"web:-1\"", "has the tag \"-1\""},
        BadCase{"image: web@sha256:abc\n", "svc.yaml:1: image: ", "sha256 digest of 3 hex"},
        BadCase{"image: web@md5\n", "svc.yaml:1: image: ", "not algorithm:hex"},
        BadCase{"image: a b\n", "svc.yaml:1: image: \"a b\" contains a space", ""},
        BadCase{"image: registry..x/web\n", "svc.yaml:1: image: ", "registry \"registry..x\""},
        BadCase{"image: web__-x\n", "svc.yaml:1: image: ", "name component \"web__-x\""},
        BadCase{"image: :1.0\n", "svc.yaml:1: image: \":1.0\" has no name", ""},
        BadCase{kImage + "entrypoint: /bin/sh\n",
                "svc.yaml:2: entrypoint: is \"/bin/sh\", expected a list", ""},
        BadCase{kImage + "command: [a, {b: c}]\n",
                "svc.yaml:2: command[1]: is a mapping, expected a string", ""},
        BadCase{kImage + "command: [a, ~]\n", "svc.yaml:2: command[1]: is empty (null)", ""},
        BadCase{kImage + "command: [\"a\\0b\"]\n", "svc.yaml:2: command[0]: contains a NUL", ""},
        BadCase{kImage + "command: [\"caf\xc3\"]\n", "svc.yaml:2: command[0]: is not valid UTF-8",
                ""}));

INSTANTIATE_TEST_SUITE_P(
    Ports, ServiceRefuses,
    ::testing::Values(
        BadCase{kImage + "ports:\n  - container: 8080\n  - container: 70000\n",
                "svc.yaml:4: ports[1].container: 70000 is not a port (1..65535)", ""},
        BadCase{kImage + "ports:\n  - container: abc\n",
                "svc.yaml:3: ports[0].container: \"abc\" is not a port (1..65535)", ""},
        BadCase{kImage + "ports:\n  - container: 0\n", "svc.yaml:3: ports[0].container: 0 is not",
                ""},
        BadCase{kImage + "ports:\n  - container: -1\n", "svc.yaml:3: ports[0].container: \"-1\"",
                ""},
        BadCase{kImage + "ports:\n  container: 80\n",
                "svc.yaml:3: ports: is a mapping, expected a list", ""},
        BadCase{kImage + "ports: [80]\n", "svc.yaml:2: ports[0]: is 80, expected a mapping", ""},
        BadCase{kImage + "ports:\n  - host: 80\n", "svc.yaml:3: ports[0].container: is missing",
                ""},
        BadCase{kImage + "ports:\n  - container: 80\n    hots: 80\n",
                "svc.yaml:4: ports[0].hots: unknown field",
                "(known: container, protocol, publish, host, name)"},
        BadCase{kImage + "ports:\n  - container: 80\n    protocol: sctp\n",
                "svc.yaml:4: ports[0].protocol: \"sctp\" is not a protocol (tcp, udp)", ""},
        BadCase{kImage + "ports:\n  - container: 80\n    publish: yes\n",
                "svc.yaml:4: ports[0].publish: \"yes\" is not true or false", ""},
        BadCase{kImage + "ports:\n  - container: 80\n    host: 65536\n",
                "svc.yaml:4: ports[0].host: 65536 is not a port", ""},
        BadCase{kImage + "ports:\n  - container: 80\n    name: Web\n",
                "svc.yaml:4: ports[0].name: \"Web\" contains 'W'", ""},
        BadCase{kImage + "ports:\n  - container: 80\n  - {container: 81}\n  - container: 80\n",
                "svc.yaml:5: ports[2]: 80/tcp is listed twice (also ports[0])", ""},
        BadCase{kImage + "ports:\n  - {container: 80, publish: true}\n"
                         "  - {container: 81, publish: true, host: 80}\n",
                "svc.yaml:4: ports[1].host: host port 80/tcp is published by ports[0] already",
                ""}));

INSTANTIATE_TEST_SUITE_P(
    EnvironmentAndConnection, ServiceRefuses,
    ::testing::Values(
        BadCase{kImage + "environment:\n  - A=b\n",
                "svc.yaml:3: environment: is a list, expected a mapping", ""},
        BadCase{kImage + "environment:\n  1X: a\n",
                "svc.yaml:3: environment.1X: \"1X\" starts with a digit", ""},
        BadCase{kImage + "environment:\n  A-B: a\n",
                "svc.yaml:3: environment.A-B: \"A-B\" contains '-'", ""},
        BadCase{kImage + "environment:\n  A: [1]\n",
                "svc.yaml:3: environment.A: is a list, expected a string", ""},
        BadCase{kImage + "environment:\n  A:\n  B: b\n",
                "svc.yaml:3: environment.A: has no value (write \"\" for an empty one)", ""},
        BadCase{kImage + "connection:\n  A: ~\n", "svc.yaml:3: connection.A: has no value", ""},
        BadCase{kImage + "environment:\n  A: a\n  A: b\n",
                "svc.yaml:4: environment.A: is given twice", ""},
        BadCase{kImage + "connection:\n  P: [a]\n",
                "svc.yaml:3: connection.P: is a list, expected a string or {generate: true}", ""},
        BadCase{kImage + "connection:\n  P: {}\n",
                "svc.yaml:3: connection.P: is a mapping, expected a string or {generate: true}",
                ""},
        BadCase{kImage + "connection:\n  P: {generate: false}\n",
                "svc.yaml:3: connection.P.generate: is false", ""},
        BadCase{kImage + "connection:\n  P: {generate: maybe}\n",
                "svc.yaml:3: connection.P.generate: \"maybe\" is not true or false", ""},
        BadCase{kImage + "connection:\n  P:\n    gen: true\n",
                "svc.yaml:4: connection.P.gen: unknown field (known: generate)", ""},
        BadCase{kImage + "connection:\n  P: a\n  P: b\n",
                "svc.yaml:4: connection.P: is given twice", ""},
        BadCase{kImage + "connection:\n  A: a\nenvironment:\n  A: b\n",
                "svc.yaml:3: connection.A: is also in environment", ""}));

INSTANTIATE_TEST_SUITE_P(
    Volumes, ServiceRefuses,
    ::testing::Values(
        BadCase{kImage + "volumes:\n  - path: /x\n", "svc.yaml:3: volumes[0]: is of no kind", ""},
        BadCase{kImage + "volumes:\n  - path: /x\n    name: d\n    config: c\n",
                "svc.yaml:3: volumes[0]: mixes kinds", "a config file with config"},
        BadCase{kImage + "volumes:\n  - name: d\n    from: com.x\n    volume: v\n    path: /x\n",
                "svc.yaml:3: volumes[0]: mixes kinds", ""},
        BadCase{kImage + "volumes:\n  - name: d\n", "svc.yaml:3: volumes[0].path: is missing", ""},
        BadCase{kImage + "volumes:\n  - name: d\n    path: var/x\n",
                "svc.yaml:4: volumes[0].path: \"var/x\" is not an absolute path", ""},
        BadCase{kImage + "volumes:\n  - name: d\n    path: /a/../b\n",
                "svc.yaml:4: volumes[0].path: \"/a/../b\" has the path element \"..\"", ""},
        BadCase{kImage + "volumes:\n  - name: d\n    path: /a//b\n",
                "svc.yaml:4: volumes[0].path: \"/a//b\" has an empty path element", ""},
        BadCase{kImage + "volumes:\n  - name: d\n    path: /a/\n",
                "svc.yaml:4: volumes[0].path: \"/a/\" ends with '/'", ""},
        BadCase{kImage + "volumes:\n  - name: d\n    path: /\n",
                "svc.yaml:4: volumes[0].path: \"/\" is the container's root", ""},
        BadCase{kImage + "volumes:\n  - name: d\n    path: /a:b\n",
                "svc.yaml:4: volumes[0].path: \"/a:b\" contains ':'", ""},
        BadCase{kImage + "volumes:\n  - name: Data\n    path: /x\n",
                "svc.yaml:3: volumes[0].name: \"Data\" contains 'D'", ""},
        BadCase{kImage + "volumes:\n  - path: /x\n    config: [a]\n",
                "svc.yaml:4: volumes[0].config: is a list, expected a string", ""},
        BadCase{kImage + "volumes:\n  - path: /x\n    config: a\n    mode: 644\n",
                "svc.yaml:5: volumes[0].mode: 644 is not a file mode in octal like \"0644\"", ""},
        BadCase{kImage + "volumes:\n  - path: /x\n    config: a\n    mode: \"0999\"\n",
                "svc.yaml:5: volumes[0].mode: 0999 is not a file mode", ""},
        BadCase{kImage + "volumes:\n  - path: /x\n    mode: \"0600\"\n",
                "svc.yaml:4: volumes[0].config: is missing", ""},
        BadCase{kImage + "volumes:\n  - path: /x\n    from: com.x\n",
                "svc.yaml:3: volumes[0].volume: is missing", ""},
        BadCase{kImage + "volumes:\n  - path: /x\n    from: com/x\n    volume: v\n",
                "svc.yaml:4: volumes[0].from: \"com/x\" contains '/'", ""},
        BadCase{kImage + "volumes:\n  - path: /x\n    name: d\n    read_only: 1\n",
                "svc.yaml:5: volumes[0].read_only: 1 is not true or false", ""},
        BadCase{kImage + "volumes:\n  - {name: a, path: /x}\n  - {path: /x, config: c}\n",
                "svc.yaml:4: volumes[1].path: \"/x\" is mounted by volumes[0] already", ""},
        BadCase{kImage + "volumes:\n  - {name: a, path: /x}\n  - {name: a, path: /y}\n",
                "svc.yaml:4: volumes[1].name: \"a\" is the name of volumes[0] already", ""},
        BadCase{kImage + "volumes:\n  - {name: a, path: /x, size: 1G}\n",
                "svc.yaml:3: volumes[0].size: unknown field",
                "(known: name, path, config, mode, from, volume, read_only)"}));

INSTANTIATE_TEST_SUITE_P(
    Depends, ServiceRefuses,
    ::testing::Values(
        BadCase{kImage + "depends: com.example.db\n",
                "svc.yaml:2: depends: is \"com.example.db\", expected a list", ""},
        BadCase{kImage + "depends: {com.example.db: true}\n",
                "svc.yaml:2: depends: is a mapping, expected a list", ""},
        BadCase{kImage + "depends:\n  - com.example.db\n  - com/x\n",
                "svc.yaml:4: depends[1]: \"com/x\" contains '/'", "component name"},
        BadCase{kImage + "depends: [com.example.web]\n",
                "svc.yaml:2: depends[0]: \"com.example.web\" is this component itself", ""},
        BadCase{kImage + "depends: [com.a, com.b, com.a]\n",
                "svc.yaml:2: depends[2]: \"com.a\" is listed twice", ""}));

INSTANTIATE_TEST_SUITE_P(
    Health, ServiceRefuses,
    ::testing::Values(
        BadCase{kImage + "health:\n  http: {port: 80}\n  tcp: {port: 80}\n",
                "svc.yaml:3: health: names more than one probe (http, tcp); give one", ""},
        BadCase{kImage + "health:\n  interval: 5s\n",
                "svc.yaml:3: health: names no probe (give one of http, tcp, command)", ""},
        BadCase{kImage + "health: [http]\n", "svc.yaml:2: health: is a list, expected a mapping",
                ""},
        BadCase{kImage + "health:\n  http: {path: /}\n", "svc.yaml:3: health.http.port: is missing",
                ""},
        BadCase{kImage + "health:\n  http: {port: 80, path: x}\n",
                "svc.yaml:3: health.http.path: \"x\" is not a URL path", ""},
        BadCase{kImage + "health:\n  tcp: {port: 80, path: /}\n",
                "svc.yaml:3: health.tcp.path: unknown field (known: port)", ""},
        BadCase{kImage + "health:\n  command: []\n", "svc.yaml:3: health.command: is empty", ""},
        BadCase{kImage + "health:\n  command: pg_isready\n",
                "svc.yaml:3: health.command: is \"pg_isready\", expected a list", ""},
        BadCase{kImage + "health:\n  tcp: {port: 80}\n  interval: 1500ms\n",
                "svc.yaml:4: health.interval: \"1500ms\" is not a whole number of seconds", ""},
        BadCase{kImage + "health:\n  tcp: {port: 80}\n  interval: 10\n",
                "svc.yaml:4: health.interval: 10 has no unit", ""},
        BadCase{kImage + "health:\n  tcp: {port: 80}\n  interval: 10 s\n",
                "svc.yaml:4: health.interval: \"10 s\" is not a duration", ""},
        BadCase{kImage + "health:\n  tcp: {port: 80}\n  timeout: 0s\n",
                "svc.yaml:4: health.timeout: \"0s\" is not longer than nothing", ""},
        BadCase{kImage + "health:\n  tcp: {port: 80}\n  start_period: 25h\n",
                "svc.yaml:4: health.start_period: \"25h\" is longer than a day", ""},
        BadCase{kImage + "health:\n  tcp: {port: 80}\n  retries: 0\n",
                "svc.yaml:4: health.retries: 0 is not a number of retries (1..100)", ""},
        BadCase{kImage + "health:\n  tcp: {port: 80}\n  retries: many\n",
                "svc.yaml:4: health.retries: \"many\" is not a number of retries", ""}));

INSTANTIATE_TEST_SUITE_P(
    Limits, ServiceRefuses,
    ::testing::Values(
        BadCase{kImage + "memory: 1.5G\n", "svc.yaml:2: memory: \"1.5G\" is not a size", ""},
        BadCase{kImage + "memory: 512Q\n", "svc.yaml:2: memory: \"512Q\" is not a size", ""},
        BadCase{kImage + "memory: 1k\n", "svc.yaml:2: memory: \"1k\" is below Docker's", "6M"},
        BadCase{kImage + "memory: 99999999999999999999\n", "svc.yaml:2: memory: ", "is too large"},
        BadCase{kImage + "memory: 99999999999t\n", "svc.yaml:2: memory: ", "is too large"},
        BadCase{kImage + "memory: [1G]\n", "svc.yaml:2: memory: is a list, expected a string", ""},
        BadCase{kImage + "cpus: -1\n", "svc.yaml:2: cpus: \"-1\" is not a number of CPUs", ""},
        BadCase{kImage + "cpus: 1e3\n", "svc.yaml:2: cpus: \"1e3\" is not a number of CPUs", ""},
        BadCase{kImage + "cpus: 0.001\n", "svc.yaml:2: cpus: \"0.001\" is below 0.01", ""},
        BadCase{kImage + "cpus: 2000\n", "svc.yaml:2: cpus: 2000 is more than 1024", ""},
        BadCase{kImage + "restart: sometimes\n",
                "svc.yaml:2: restart: \"sometimes\" is not a restart policy (no, always, "
                "on-failure, unless-stopped)",
                ""}));

TEST(Service, RefusesADefaultNameThatIsNoDnsName) {
    EXPECT_THAT(error_in("image: a\n", std::string(70, 'a')),
                StartsWith("svc.yaml:1: name: the default \"" + std::string(70, 'a') +
                           "\" (made of the component's name) is longer than 63"));
}

TEST(Service, TakesScalarsAsTheirText) {
    const ServiceDescription d = parse(
        "image: a\nenvironment: {N: 08, F: 1.50, B: true, E: '', Q: \"x: y\"}\n"
        "connection: {PORT: 5432}\n");
    EXPECT_EQ(d.environment,
              (std::map<std::string, std::string>{
                  {"N", "08"}, {"F", "1.50"}, {"B", "true"}, {"E", ""}, {"Q", "x: y"}}));
    EXPECT_THAT(d.connection, ElementsAre(ConnectionValue{"PORT", "5432", false}));
}

TEST(Service, AcceptsAPortNumberTwiceWithTwoProtocols) {
    const ServiceDescription d = parse(
        "image: a\nports: [{container: 53, publish: true}, {container: 53, protocol: udp, "
        "publish: true}]\n");
    EXPECT_EQ(d.ports.size(), 2u);
}

TEST(Service, WritesCanonicalJson) {
    const ServiceDescription d = parse(kExample);
    testing::expect_matches_golden("service_example.json", to_json(d));
}

TEST(Service, ReadsItsJsonBackAsItWas) {
    for (std::string_view text :
         {kExample, std::string_view("image: busybox\n"),
          std::string_view("image: a\nhealth: {command: [\"true\"], timeout: 1h}\nmemory: 0\n"),
          std::string_view("image: a\nhealth: {tcp: {port: 1}}\ncpus: 1024\nmemory: 1T\n"),
          std::string_view("image: a\nenvironment: {A: \"line\\nline\\ttab \\\" caf\\u00e9 "
                           "\\U0001F600 \\u2028\"}\n")}) {
        const ServiceDescription d = parse(text);
        const std::string json = to_json(d);
        EXPECT_EQ(parse_service(json, "canonical.json", "com.other"), d) << json;
        EXPECT_EQ(to_json(parse_service(json, "canonical.json", "com.other")), json);
    }
}

TEST(Service, ReadsTheFileOfAMetaDirectory) {
    const core::ScratchDir dir;
    const fs::path meta = dir.path() / "meta";
    fs::create_directories(meta);
    EXPECT_EQ(read_service(meta, "com.example.web"), std::nullopt);

    testing::write_text(meta / "service.yaml", "image: a\nports: [{container: 0}]\n");
    EXPECT_THAT(
        error_of([&] { read_service(meta, "com.example.web"); }),
        StartsWith((meta / "service.yaml").string() + ":2: ports[0].container: 0 is not a port"));

    testing::write_text(meta / "service.yaml", "image: a\n");
    EXPECT_EQ(read_service(meta, "com.example.web")->name, "com-example-web");

    testing::write_text(meta / "service.json", R"({"image": "a"})");
    EXPECT_THAT(error_of([&] { read_service(meta, "com.example.web"); }),
                HasSubstr("both service.yaml and service.json"));

    fs::remove(meta / "service.yaml");
    EXPECT_EQ(read_service(meta, "com.example.web")->image, "a");

    testing::write_text(meta / "service.json", std::string((1u << 20) + 1, ' '));
    EXPECT_THAT(error_of([&] { read_service(meta, "com.example.web"); }),
                HasSubstr("larger than the 1048576 bytes allowed"));
}

TEST(Service, RefusesDeepNestingWithAnError) {
    EXPECT_THAT(error_in(std::string(100000, '[')), StartsWith("svc.yaml:1:"));
    EXPECT_THAT(error_in("image: a\ncommand: " + std::string(3000, '[') + std::string(3000, ']')),
                StartsWith("svc.yaml:"));
}

TEST(Service, ReadsTheExampleApp) {
    const fs::path packages = fs::path(FERRY_SOURCE_DIR) / "examples/services/packages";
    std::map<std::string, ServiceDescription> app;
    for (const auto& entry : fs::directory_iterator(packages)) {
        const std::string component = entry.path().filename().string();
        EXPECT_EQ(read_package_xml(entry.path()).name, component);
        auto d = read_service(entry.path() / "meta", component);
        ASSERT_TRUE(d.has_value()) << component;
        app.emplace(component, std::move(*d));
    }
    EXPECT_NO_THROW(check_app_services(app));
    EXPECT_THAT(start_order(app), ElementsAre("com.example.hello.db", "com.example.hello.web"));
}

}  // namespace
}  // namespace ferry::formats
