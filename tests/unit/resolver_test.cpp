// Tests of the install-set computation: dependencies with version operators, AutoDependOn,
// Virtual, ForcedInstallation, Checkable, Replaces and the errors that name the chain.
#include "client/resolver.hpp"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"

namespace ferry::client {
namespace {

using formats::PackageUpdate;

struct Spec {
    std::string name;
    std::string version = "1.0";
    std::vector<std::string> dependencies = {};
    std::vector<std::string> auto_depend_on = {};
    std::string default_value = "";
    bool is_virtual = false;
    bool forced = false;
    std::optional<bool> checkable = std::nullopt;
    std::vector<std::string> replaces = {};
};

MergedComponents remote_of(const std::vector<Spec>& specs) {
    RemoteRepository r;
    r.url = "http://repo";
    for (const Spec& s : specs) {
        PackageUpdate p;
        p.component.name = s.name;
        p.component.version = s.version;
        p.component.release_date = "2020-01-01";
        p.component.dependencies = s.dependencies;
        p.component.auto_depend_on = s.auto_depend_on;
        p.component.default_value = s.default_value;
        p.component.is_virtual = s.is_virtual;
        p.component.forced_installation = s.forced;
        p.component.checkable = s.checkable;
        p.component.replaces = s.replaces;
        r.index.packages.push_back(p);
    }
    return merge_repositories({r}, "");
}

formats::InstalledComponents installed_of(
    const std::vector<std::pair<std::string, std::string>>& components) {
    formats::InstalledComponents state;
    for (const auto& [name, version] : components) {
        formats::InstalledComponent c;
        c.name = name;
        c.version = version;
        state.components.push_back(c);
    }
    return state;
}

std::vector<std::string> order_of(const InstallPlan& plan) {
    std::vector<std::string> names;
    for (const PlannedComponent& p : plan.install) {
        names.push_back(p.name);
    }
    return names;
}

struct PlanCase {
    const char* what;
    std::vector<Spec> remote;
    std::vector<std::pair<std::string, std::string>> installed;
    std::vector<std::string> request;
    std::vector<std::string> expected_order;
    std::vector<std::string> expected_removals;
};

class ResolvePlan : public ::testing::TestWithParam<PlanCase> {};

TEST_P(ResolvePlan, InstallsDependenciesFirst) {
    const PlanCase& c = GetParam();
    const InstallPlan plan =
        resolve_install(remote_of(c.remote), installed_of(c.installed), {c.request});
    EXPECT_EQ(order_of(plan), c.expected_order) << c.what;
    EXPECT_EQ(plan.remove, c.expected_removals) << c.what;
}

INSTANTIATE_TEST_SUITE_P(
    Resolve, ResolvePlan,
    ::testing::Values(
        PlanCase{"chain",
                 {{"a", "1", {"b"}}, {"b", "1", {"c:>=1.0"}}, {"c", "1.5"}},
                 {},
                 {"a"},
                 {"c", "b", "a"},
                 {}},
        PlanCase{"diamond in declared order",
                 {{"a", "1", {"c", "b"}}, {"b", "1", {"d"}}, {"c", "1", {"d"}}, {"d"}},
                 {},
                 {"a"},
                 {"d", "c", "b", "a"},
                 {}},
        PlanCase{"installed dependency is enough",
                 {{"a", "1", {"b:>=1.0"}}, {"b", "2.0"}},
                 {{"b", "1.1"}},
                 {"a"},
                 {"a"},
                 {}},
        PlanCase{"installed too old: the remote one is installed",
                 {{"a", "1", {"b:>=2.0"}}, {"b", "2.0"}},
                 {{"b", "1.1"}},
                 {"a"},
                 {"b", "a"},
                 {}},
        PlanCase{"legacy operator syntax",
                 {{"a", "1", {"b->=1.0"}}, {"b", "1.0"}},
                 {},
                 {"a"},
                 {"b", "a"},
                 {}},
        PlanCase{"default set: Default true, forced, not virtual",
                 {{"a", "1", {}, {}, "true"},
                  {"b", "1", {}, {}, "false"},
                  {"f", "1", {}, {}, "", true, true},
                  {"s", "1", {}, {}, "script"},
                  {"v", "1", {}, {}, "true", true}},
                 {},
                 {},
                 {"a", "f"},
                 {}},
        PlanCase{"a dependency pulls a virtual component",
                 {{"qt.tools.qtcreator", "1", {"qt.tools.qtcreator.enterprise.plugins"}},
                  {"qt.tools.qtcreator.enterprise.plugins", "1", {}, {}, "", true}},
                 {},
                 {"qt.tools.qtcreator"},
                 {"qt.tools.qtcreator.enterprise.plugins", "qt.tools.qtcreator"},
                 {}},
        PlanCase{"forced added to a named request",
                 {{"a"}, {"b"}, {"e", "1", {}, {}, "", false, true}},
                 {},
                 {"b"},
                 {"b", "e"},
                 {}},
        PlanCase{"forced but installed",
                 {{"a"}, {"e", "1", {}, {}, "", false, true}},
                 {{"e", "1"}},
                 {"a"},
                 {"a"},
                 {}},
        PlanCase{
            "auto-dependency when all are present",
            {{"componentA"}, {"componentB"}, {"componentD", "1", {}, {"componentA", "componentB"}}},
            {{"componentA", "1"}},
            {"componentB"},
            {"componentB", "componentD"},
            {}},
        PlanCase{
            "auto-dependency not applying",
            {{"componentA"}, {"componentB"}, {"componentD", "1", {}, {"componentA", "componentB"}}},
            {},
            {"componentB"},
            {"componentB"},
            {}},
        PlanCase{"auto-dependencies chain to a fixed point",
                 {{"a"}, {"x", "1", {}, {"y"}}, {"y", "1", {}, {"a"}}},
                 {},
                 {"a"},
                 {"a", "y", "x"},
                 {}},
        PlanCase{"replaces removes the installed component",
                 {{"new", "2", {}, {}, "", false, false, std::nullopt, {"old", "absent"}}},
                 {{"old", "1"}},
                 {"new"},
                 {"new"},
                 {"old"}},
        PlanCase{
            "a dependency on a replaced component is met by its replacement",
            {{"app", "1", {"old"}}, {"new", "2", {}, {}, "", false, false, std::nullopt, {"old"}}},
            {},
            {"app"},
            {"new", "app"},
            {}},
        PlanCase{
            "an installed replacement meets it without a change",
            {{"app", "1", {"old"}}, {"new", "2", {}, {}, "", false, false, std::nullopt, {"old"}}},
            {{"new", "2"}},
            {"app"},
            {"app"},
            {}},
        PlanCase{"requested twice and via dependency",
                 {{"a", "1", {"b"}}, {"b"}},
                 {},
                 {"b", "a", "b"},
                 {"b", "a"},
                 {}}));

TEST(Resolve, ReportsAlreadyInstalledAndReasons) {
    const InstallPlan plan = resolve_install(remote_of({{"a", "1", {"b"}}, {"b"}, {"c"}}),
                                             installed_of({{"c", "1"}}), {{"c", "a"}});
    EXPECT_EQ(plan.already_installed, (std::vector<std::string>{"c"}));
    ASSERT_EQ(plan.install.size(), 2u);
    EXPECT_EQ(plan.install[0], (PlannedComponent{"b", "1.0", "http://repo",
                                                 PlannedComponent::Reason::dependency, "a"}));
    EXPECT_EQ(plan.install[1].reason, PlannedComponent::Reason::requested);
}

struct ErrorCase {
    const char* what;
    std::vector<Spec> remote;
    std::vector<std::pair<std::string, std::string>> installed;
    std::vector<std::string> request;
    std::string message;
};

class ResolveErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ResolveErrors, NameTheChain) {
    const ErrorCase& c = GetParam();
    try {
        resolve_install(remote_of(c.remote), installed_of(c.installed), {c.request});
        FAIL() << "resolved: " << c.what;
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), c.message) << c.what;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Resolve, ResolveErrors,
    ::testing::Values(
        ErrorCase{"version conflict",
                  {{"com.a", "1", {"com.b"}}, {"com.b", "1", {"com.c:>=2.0"}}, {"com.c", "1.5"}},
                  {},
                  {"com.a"},
                  "com.a -> com.b -> com.c: com.c:>=2.0 is not available (the repositories have "
                  "1.5)"},
        ErrorCase{"missing",
                  {{"com.a", "1", {"com.x"}}},
                  {},
                  {"com.a"},
                  "com.a -> com.x: com.x is not available (no repository has it)"},
        ErrorCase{"installed and remote both too old",
                  {{"a", "1", {"b:=3.0"}}, {"b", "2.0"}},
                  {{"b", "1.0"}},
                  {"a"},
                  "a -> b: b:=3.0 is not available (the repositories have 2.0; 1.0 is installed)"},
        ErrorCase{"circular",
                  {{"com.a", "1", {"com.b"}}, {"com.b", "1", {"com.a"}}},
                  {},
                  {"com.a"},
                  "circular dependency: com.a -> com.b -> com.a"},
        ErrorCase{"self", {{"a", "1", {"a"}}}, {}, {"a"}, "circular dependency: a -> a"},
        ErrorCase{"unknown request",
                  {{"a"}},
                  {},
                  {"zz"},
                  "component \"zz\" is not available (no repository has it)"},
        ErrorCase{"virtual request",
                  {{"v", "1", {}, {}, "", true}},
                  {},
                  {"v"},
                  "cannot install \"v\": it is virtual (installed only as a dependency)"},
        ErrorCase{"uncheckable request",
                  {{"u", "1", {}, {}, "", false, false, false}},
                  {},
                  {"u"},
                  "cannot install \"u\": it is not checkable (select one of its subcomponents)"},
        ErrorCase{"auto-dependent request",
                  {{"a"}, {"d", "1", {}, {"a", "b"}}},
                  {},
                  {"d"},
                  "cannot install \"d\": it is installed only automatically with a, b"}));

TEST(Resolve, VirtualComponentsAreHiddenUnlessAll) {
    formats::ComponentDescription c;
    EXPECT_TRUE(is_visible(c, false));
    c.is_virtual = true;
    EXPECT_FALSE(is_visible(c, false));
    EXPECT_TRUE(is_visible(c, true));
}

}  // namespace
}  // namespace ferry::client
