// The checks of an app's services together (formats::check_app_services): references between
// services, cycles, each refusal naming the service and the field; and their start order.
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "formats/service.hpp"
#include "support/test_support.hpp"

namespace ferry::formats {
namespace {

using ::testing::ElementsAre;
using testing::error_of;
using ::testing::HasSubstr;

// An app of services made from "component: yaml" pairs.
std::map<std::string, ServiceDescription> app_of(
    std::initializer_list<std::pair<std::string, std::string>> services) {
    std::map<std::string, ServiceDescription> app;
    for (const auto& [component, yaml] : services) {
        app.emplace(component, parse_service("image: a\n" + yaml, component + ".yaml", component));
    }
    return app;
}

TEST(ServiceApp, AcceptsReferencesToItsServices) {
    const auto app = app_of({
        {"com.web",
         "depends: [com.db, com.files]\nvolumes: [{path: /up, from: com.files, "
         "volume: uploads}]\nenvironment: {PORT: '80'}\n"},
        {"com.db", "connection: {DB_USER: app, DB_PASSWORD: {generate: true}}\n"},
        {"com.files", "volumes: [{name: uploads, path: /srv}]\nconnection: {FILES_URL: x}\n"},
    });
    EXPECT_NO_THROW(check_app_services(app));
    EXPECT_THAT(start_order(app), ElementsAre("com.db", "com.files", "com.web"));
}

struct AppCase {
    std::string label;
    std::map<std::string, ServiceDescription> app;
    std::string message;
};

void PrintTo(const AppCase& c, std::ostream* os) {
    *os << c.label;
}

class ServiceAppRefuses : public ::testing::TestWithParam<AppCase> {};

TEST_P(ServiceAppRefuses, NamingTheServiceAndTheField) {
    EXPECT_EQ(error_of([&] { check_app_services(GetParam().app); }), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ServiceAppRefuses,
    ::testing::Values(
        AppCase{"a dependency that is no service",
                app_of({{"com.a", "depends: [com.b, com.x]\n"}, {"com.b", ""}}),
                "service com.a: depends[1]: com.x is not a service component of the app (a "
                "service depends only on services)"},
        AppCase{"a shared volume of no service",
                app_of({{"com.a", "volumes: [{path: /x, from: com.x, volume: v}]\n"}}),
                "service com.a: volumes[0].from: com.x is not a service component of the app"},
        AppCase{"a shared volume the other service lacks",
                app_of({{"com.a", "volumes: [{path: /x, from: com.b, volume: v}]\n"},
                        {"com.b",
                         "volumes: [{name: data, path: /d}, {name: logs, path: /l}, "
                         "{path: /c, config: c}]\n"}}),
                "service com.a: volumes[0].volume: com.b has no data volume \"v\" (its data "
                "volumes: data, logs)"},
        AppCase{
            "a shared volume of a service without any",
            app_of({{"com.a", "volumes: [{path: /x, from: com.b, volume: v}]\n"}, {"com.b", ""}}),
            "service com.a: volumes[0].volume: com.b has no data volume \"v\" (it has none)"},
        AppCase{"one name twice", app_of({{"com.a", "name: x\n"}, {"com.b", "name: x\n"}}),
                "services com.a and com.b have the same name \"x\" (a service's name is its host "
                "name in the app; give one of them another name)"},
        AppCase{"a default name taken", app_of({{"com.a", "name: com-b\n"}, {"com.b", ""}}),
                "services com.a and com.b have the same name \"com-b\" (a service's name is its "
                "host name in the app; give one of them another name)"},
        AppCase{"a cycle of two",
                app_of({{"com.a", "depends: [com.b]\n"}, {"com.b", "depends: [com.a]\n"}}),
                "the services depend on each other in a cycle: com.a -> com.b -> com.a"},
        AppCase{"a cycle behind a dependency",
                app_of({{"com.a", "depends: [com.b]\n"},
                        {"com.b", "depends: [com.c]\n"},
                        {"com.c", "depends: [com.d]\n"},
                        {"com.d", "depends: [com.b]\n"}}),
                "the services depend on each other in a cycle: com.b -> com.c -> com.d -> com.b"},
        AppCase{"two dependencies offering one name",
                app_of({{"com.a", "depends: [com.b, com.c]\n"},
                        {"com.b", "connection: {HOST: b}\n"},
                        {"com.c", "connection: {HOST: c}\n"}}),
                "service com.a: depends: com.c offers HOST, which is offered by com.b; rename one "
                "of them"},
        AppCase{"a dependency offering a name of the environment",
                app_of({{"com.a", "depends: [com.b]\nenvironment: {HOST: a}\n"},
                        {"com.b", "connection: {HOST: b}\n"}}),
                "service com.a: depends: com.b offers HOST, which is in the environment of "
                "com.a; rename one of them"}));

TEST(ServiceApp, FindsACycleOfOneMadeByHand) {
    auto app = app_of({{"com.a", ""}});
    app.at("com.a").depends = {"com.a"};
    EXPECT_THAT(error_of([&] { check_app_services(app); }), HasSubstr("com.a -> com.a"));
    EXPECT_THAT(error_of([&] { start_order(app); }), HasSubstr("com.a -> com.a"));
}

TEST(ServiceApp, StartsDependenciesFirstAndTiesByName) {
    EXPECT_TRUE(start_order({}).empty());
    EXPECT_THAT(start_order(app_of({{"com.c", ""}, {"com.a", ""}, {"com.b", ""}})),
                ElementsAre("com.a", "com.b", "com.c"));
    EXPECT_THAT(start_order(app_of({{"com.a", "depends: [com.z]\n"}, {"com.z", ""}})),
                ElementsAre("com.z", "com.a"));
    // A diamond with a free service: each one as soon as it may start, the smallest name first.
    EXPECT_THAT(start_order(app_of({{"com.app", "depends: [com.cache, com.db]\n"},
                                    {"com.cache", "depends: [com.net]\n"},
                                    {"com.db", "depends: [com.net]\n"},
                                    {"com.net", ""},
                                    {"com.b", ""}})),
                ElementsAre("com.b", "com.net", "com.cache", "com.db", "com.app"));
    EXPECT_THAT(
        error_of([&] {
            start_order(app_of(
                {{"com.a", "depends: [com.b]\n"}, {"com.b", "depends: [com.a]\n"}, {"com.c", ""}}));
        }),
        HasSubstr("com.a -> com.b -> com.a"));
}

}  // namespace
}  // namespace ferry::formats
