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

TEST(Resolve, ReplacementThatDependsOnWhatItReplacesIsACycle) {
    // "new" replaces "old" and depends on "old": the replacement would meet its own dependency.
    try {
        resolve_install(
            remote_of({{"app", "1", {"old"}},
                       {"new", "2", {"old"}, {}, "", false, false, std::nullopt, {"old"}}}),
            {}, {{"app"}});
        FAIL() << "resolved";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "circular dependency: app -> new -> new");
    }
}

// c0 -> c1 -> ... -> c(n-1), each depending on the next (the last on last_dependency, when
// given). Built in place: the names are already in order, and copies of 20,000 packages
// would cost the test more than the resolution does.
MergedComponents chain_of(int n, const std::string& last_dependency = "") {
    MergedComponents merged;
    merged.components.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        RemoteComponent& r = merged.components[static_cast<std::size_t>(i)];
        r.repository_url = "http://repo";
        r.update.component.name = fmt::format("c{:05}", i);
        r.update.component.version = "1.0";
        if (i + 1 < n) {
            r.update.component.dependencies = {fmt::format("c{:05}", i + 1)};
        } else if (!last_dependency.empty()) {
            r.update.component.dependencies = {last_dependency};
        }
    }
    return merged;
}

TEST(Resolve, DeepChainIsResolvedWithoutRecursion) {
    // 20,000 levels overflowed the stack of a recursive walk.
    constexpr int kDepth = 20'000;
    const InstallPlan plan = resolve_install(chain_of(kDepth), {}, {{"c00000"}});
    ASSERT_EQ(plan.install.size(), static_cast<std::size_t>(kDepth));
    EXPECT_EQ(plan.install.front().name, "c19999");
    EXPECT_EQ(plan.install.front().required_by, "c19998");
    EXPECT_EQ(plan.install.back().name, "c00000");
    EXPECT_EQ(plan.install.back().reason, PlannedComponent::Reason::requested);
}

TEST(Resolve, DeepChainErrorShowsItsEnds) {
    try {
        resolve_install(chain_of(20'000, "c00000"), {}, {{"c00000"}});
        FAIL() << "resolved";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "circular dependency: c00000 -> c00001 -> c00002 -> c00003 -> ... (19991 more) "
                  "... -> c19995 -> c19996 -> c19997 -> c19998 -> c19999 -> c00000");
    }
}

TEST(Resolve, LongAutoDependOnChainIsAddedInOrder) {
    // z00999 waits for a, z00998 for z00999, ...: each addition enables the one before it by
    // name, the worst order for rounds over every component.
    std::vector<Spec> specs{{"a"}};
    constexpr int kCount = 1000;
    for (int i = 0; i < kCount; ++i) {
        Spec s{fmt::format("z{:05}", i)};
        s.auto_depend_on = {i + 1 < kCount ? fmt::format("z{:05}", i + 1) : std::string("a")};
        specs.push_back(std::move(s));
    }
    const InstallPlan plan = resolve_install(remote_of(specs), {}, {{"a"}});
    ASSERT_EQ(plan.install.size(), static_cast<std::size_t>(kCount + 1));
    EXPECT_EQ(plan.install[1].name, "z00999");
    EXPECT_EQ(plan.install.back().name, "z00000");
    EXPECT_EQ(plan.install.back().reason, PlannedComponent::Reason::auto_dependency);
}

struct ResolvableCase {
    const char* what;
    std::vector<Spec> components;
    std::string message;  // empty: resolvable
};

class CheckResolvable : public ::testing::TestWithParam<ResolvableCase> {};

TEST_P(CheckResolvable, RefusesWhatAClientCannotInstall) {
    const ResolvableCase& c = GetParam();
    formats::RepositoryIndex index;
    for (const RemoteComponent& r : remote_of(c.components).components) {
        index.packages.push_back(r.update);
    }
    if (c.message.empty()) {
        EXPECT_NO_THROW(check_resolvable(index)) << c.what;
        return;
    }
    try {
        check_resolvable(index);
        FAIL() << "accepted: " << c.what;
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), c.message) << c.what;
        EXPECT_EQ(e.kind(), ErrorKind::invalid_input) << c.what;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Resolve, CheckResolvable,
    ::testing::Values(
        ResolvableCase{
            "fine", {{"a", "1", {"b:>=1.0"}}, {"b", "1.2"}, {"v", "1", {}, {}, "", true}}, ""},
        ResolvableCase{
            "met by a replacement",
            {{"app", "1", {"old"}}, {"new", "2", {}, {}, "", false, false, std::nullopt, {"old"}}},
            ""},
        ResolvableCase{"missing",
                       {{"a"}, {"b", "1", {"gone"}}},
                       "b -> gone: gone is not available (no repository has it)"},
        ResolvableCase{"too old",
                       {{"a", "1", {"b:>=2.0"}}, {"b", "1.5"}},
                       "a -> b: b:>=2.0 is not available (the repositories have 1.5)"},
        ResolvableCase{"cycle through a virtual component",
                       {{"a", "1", {"v"}}, {"v", "1", {"a"}, {}, "", true}},
                       "circular dependency: a -> v -> a"},
        ResolvableCase{"malformed expression",
                       {{"a", "1", {"b: 1"}}, {"b"}},
                       "a: dependency \"b: 1\": whitespace inside the expression"}));

TEST(Resolve, VirtualComponentsAreHiddenUnlessAll) {
    formats::ComponentDescription c;
    EXPECT_TRUE(is_visible(c, false));
    c.is_virtual = true;
    EXPECT_FALSE(is_visible(c, false));
    EXPECT_TRUE(is_visible(c, true));
}

}  // namespace
}  // namespace ferry::client
