// Tests of the update decisions: merging repositories, IFW's update rule (ContentSha1, version,
// dates) and the mandatory Essential/ForcedUpdate updates, inline and on IFW's own test data.
#include "client/update_decision.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace ferry::client {
namespace {

namespace fs = std::filesystem;
using formats::InstalledComponent;
using formats::InstalledComponents;
using formats::PackageUpdate;

PackageUpdate package(const std::string& name, const std::string& version,
                      const std::string& sha1 = "", const std::string& date = "2020-01-01") {
    PackageUpdate p;
    p.component.name = name;
    p.component.version = version;
    p.component.content_sha1 = sha1;
    p.component.release_date = date;
    return p;
}

InstalledComponent installed(const std::string& name, const std::string& version,
                             const std::string& sha1 = "", const std::string& date = "2020-01-01") {
    InstalledComponent c;
    c.name = name;
    c.version = version;
    c.content_sha1 = sha1;
    c.last_update_date = date;
    return c;
}

struct ReasonCase {
    const char* what;
    InstalledComponent local;
    PackageUpdate remote;
    UpdateReason expected;
};

class UpdateReasonTable : public ::testing::TestWithParam<ReasonCase> {};

TEST_P(UpdateReasonTable, FollowsTheDocumentedRule) {
    const ReasonCase& c = GetParam();
    EXPECT_EQ(update_reason(c.local, c.remote), c.expected) << c.what;
    EXPECT_EQ(needs_update(c.local, c.remote), c.expected != UpdateReason::none) << c.what;
}

INSTANTIATE_TEST_SUITE_P(
    UpdateDecision, UpdateReasonTable,
    ::testing::Values(
        ReasonCase{"newer version", installed("a", "1.0"), package("a", "1.1"),
                   UpdateReason::newer_version},
        ReasonCase{"same version", installed("a", "1.0"), package("a", "1.0"), UpdateReason::none},
        ReasonCase{"older version", installed("a", "2.0"), package("a", "1.9"), UpdateReason::none},
        ReasonCase{"numeric parts", installed("a", "1.9"), package("a", "1.10"),
                   UpdateReason::newer_version},
        ReasonCase{"sha differs, lower version", installed("a", "1.0", "10"),
                   package("a", "0.1", "5"), UpdateReason::content_changed},
        ReasonCase{"sha new on the remote side", installed("a", "1.0"), package("a", "0.1", "10"),
                   UpdateReason::content_changed},
        // IFW's code lets an unchanged ContentSha1 hide a greater version; the documented rule
        // (a greater version is an update) wins.
        ReasonCase{"same sha, higher version", installed("a", "1.0", "10"),
                   package("a", "2.0", "10"), UpdateReason::newer_version},
        ReasonCase{"same sha, same version", installed("a", "1.0", "10"), package("a", "1.0", "10"),
                   UpdateReason::none},
        ReasonCase{"sha gone, higher version", installed("a", "1.0", "10"), package("a", "2.0"),
                   UpdateReason::newer_version},
        // IFW's code hides these two: the installation is newer than the release date. The
        // publisher raised Version (or the content) and forgot ReleaseDate; the update counts.
        ReasonCase{"updated after the release", installed("a", "1.0", "", "2021-05-01"),
                   package("a", "2.0", "", "2021-04-30"), UpdateReason::newer_version},
        ReasonCase{"updated on the release day", installed("a", "1.0", "", "2021-05-01"),
                   package("a", "2.0", "", "2021-05-01"), UpdateReason::newer_version},
        ReasonCase{"no date guard for sha either", installed("a", "1.0", "1", "2022-01-01"),
                   package("a", "1.0", "2", "2021-01-01"), UpdateReason::content_changed},
        ReasonCase{"no installed date", installed("a", "1.0", "", ""), package("a", "2.0"),
                   UpdateReason::newer_version}));

struct ExplainCase {
    const char* what;
    InstalledComponent local;
    PackageUpdate remote;
    std::string expected;
};

class ExplainUpdate : public ::testing::TestWithParam<ExplainCase> {};

TEST_P(ExplainUpdate, SaysWhyAComponentIsOrIsNotOffered) {
    const ExplainCase& c = GetParam();
    EXPECT_EQ(explain_update(c.local, c.remote), c.expected) << c.what;
}

INSTANTIATE_TEST_SUITE_P(
    UpdateDecision, ExplainUpdate,
    ::testing::Values(
        ExplainCase{"greater version", installed("a", "1.0"), package("a", "1.1"),
                    "offered: the repository's version 1.1 is greater than the installed 1.0"},
        ExplainCase{"forgotten release date", installed("a", "1.0", "", "2021-05-01"),
                    package("a", "2.0", "", "2021-04-30"),
                    "offered: the repository's version 2.0 is greater than the installed 1.0; "
                    "its ReleaseDate 2021-04-30 is before the installed LastUpdateDate "
                    "2021-05-01, so IFW's maintenance tool would not offer it"},
        ExplainCase{"content", installed("a", "1.0", "10"), package("a", "0.9", "11"),
                    "offered: the repository's ContentSha1 11 differs from the installed 10 "
                    "(version 0.9, less than the installed 1.0)"},
        ExplainCase{"same", installed("a", "1.0", "10"), package("a", "1.0", "10"),
                    "not offered: the repository's version 1.0 is the same as the installed 1.0 "
                    "and its ContentSha1 is the same"},
        ExplainCase{"older", installed("a", "2.0"), package("a", "1.9"),
                    "not offered: the repository's version 1.9 is less than the installed "
                    "2.0"}));

RemoteRepository repository(const std::string& url, int priority, std::vector<PackageUpdate> p,
                            const std::string& application = "{AnyApplication}") {
    RemoteRepository r;
    r.url = url;
    r.priority = priority;
    r.index.application_name = application;
    r.index.packages = std::move(p);
    return r;
}

TEST(UpdateDecision, MergeTakesHigherVersionThenHigherPriority) {
    const MergedComponents merged =
        merge_repositories({repository("http://one", 1, {package("b", "1.0"), package("a", "2.0")}),
                            repository("http://two", 5, {package("a", "1.5"), package("b", "1.0")}),
                            repository("http://three", 5, {package("b", "1.0")})},
                           "My App");
    ASSERT_EQ(merged.components.size(), 2u);
    EXPECT_EQ(merged.components[0].update.component.name, "a");  // sorted by name
    EXPECT_EQ(merged.find("a")->repository_url, "http://one");   // version beats priority
    EXPECT_EQ(merged.find("a")->update.component.version, "2.0");
    EXPECT_EQ(merged.find("b")->repository_url, "http://two");  // priority, then first listed
    EXPECT_EQ(merged.find("b")->priority, 5);
    EXPECT_EQ(merged.find("c"), nullptr);
    EXPECT_TRUE(merged.skipped.empty());
}

TEST(UpdateDecision, MergeSkipsRepositoriesOfOtherApplications) {
    const MergedComponents merged = merge_repositories(
        {repository("http://mine", 0, {package("a", "1.0")}, "My App"),
         repository("http://other", 0, {package("a", "9.0"), package("x", "1.0")}, "Other App")},
        "My App");
    ASSERT_EQ(merged.components.size(), 1u);
    EXPECT_EQ(merged.find("a")->update.component.version, "1.0");
    ASSERT_EQ(merged.skipped.size(), 1u);
    EXPECT_EQ(merged.skipped[0].url, "http://other");
    EXPECT_THAT(merged.skipped[0].reason, ::testing::HasSubstr("\"Other App\", not \"My App\""));
}

TEST(UpdateDecision, EssentialAndForcedUpdatesAreMandatory) {
    InstalledComponents state;
    state.components = {installed("a", "1.0"), installed("h", "1.0"), installed("e", "1.0")};
    PackageUpdate forced = package("h", "2.0");
    forced.component.forced_update = true;
    PackageUpdate essential_new = package("n", "1.0");
    essential_new.component.essential = true;
    PackageUpdate essential_current = package("e", "1.0");
    essential_current.component.essential = true;
    const UpdateCheck check = check_updates(
        state, merge_repositories({repository("http://r", 0,
                                              {package("a", "1.1"), forced, essential_new,
                                               essential_current, package("z", "1.0")})},
                                  ""));
    ASSERT_EQ(check.updates.size(), 3u);
    EXPECT_EQ(check.updates[0], (AvailableUpdate{"a", "1.0", "1.1", UpdateReason::newer_version,
                                                 false, false, "http://r"}));
    EXPECT_EQ(check.updates[1].name, "h");
    EXPECT_TRUE(check.updates[1].forced_update);
    EXPECT_EQ(check.updates[2].reason, UpdateReason::new_essential);
    EXPECT_TRUE(check.mandatory_pending);
    EXPECT_EQ(check.mandatory_names, (std::vector<std::string>{"h", "n"}));
}

TEST(UpdateDecision, NothingPendingWhenUpToDate) {
    InstalledComponents state;
    state.components = {installed("a", "1.0")};
    const UpdateCheck check =
        check_updates(state, merge_repositories({repository("u", 0, {package("a", "1.0")})}, ""));
    EXPECT_TRUE(check.updates.empty());
    EXPECT_FALSE(check.mandatory_pending);
}

// IFW's own test repositories: installing from the first and checking against the second.
fs::path ifw_data(const std::string& suite, const std::string& repository) {
    return fs::path(FERRY_SOURCE_DIR) / ".." / "shared" / "ifw-reference" / "updates-xml" /
           "installer" / suite / repository / "Updates.xml";
}

RemoteRepository read_ifw(const fs::path& path) {
    RemoteRepository r;
    r.url = path.parent_path().string();
    r.index = formats::parse_updates_xml(testing::read_text(path), path.string());
    return r;
}

// What the maintenance tool records after installing everything a repository offers.
InstalledComponents install_all(const RemoteRepository& r) {
    InstalledComponents state;
    for (const PackageUpdate& p : r.index.packages) {
        state.components.push_back(installed(p.component.name, p.component.version,
                                             p.component.content_sha1, p.component.release_date));
    }
    return state;
}

std::vector<std::string> names(const UpdateCheck& check) {
    std::vector<std::string> out;
    for (const AvailableUpdate& u : check.updates) {
        out.push_back(u.name + " " + u.new_version + " (" + std::string(to_string(u.reason)) + ")");
    }
    return out;
}

struct IfwScenario {
    const char* suite;
    const char* installed_from;
    const char* update_from;
    std::vector<std::string> updates;
    std::vector<std::string> mandatory;
};

class IfwReferenceScenario : public ::testing::TestWithParam<IfwScenario> {};

TEST_P(IfwReferenceScenario, OffersTheUpdatesIfwOffers) {
    const IfwScenario& s = GetParam();
    const fs::path before = ifw_data(s.suite, s.installed_from);
    const fs::path after = ifw_data(s.suite, s.update_from);
    if (!fs::exists(before) || !fs::exists(after)) {
        GTEST_SKIP() << "IFW reference data not present at " << before;
    }
    const UpdateCheck check =
        check_updates(install_all(read_ifw(before)), merge_repositories({read_ifw(after)}, ""));
    EXPECT_EQ(names(check), s.updates);
    EXPECT_EQ(check.mandatory_names, s.mandatory);
    EXPECT_EQ(check.mandatory_pending, !s.mandatory.empty());
}

INSTANTIATE_TEST_SUITE_P(
    UpdateDecision, IfwReferenceScenario,
    ::testing::Values(
        // A and B change content (A even with a lower version), C keeps its content but has
        // the greater version 2.0.0 (IFW's code would not offer it), D lost its sha and has the
        // greater version.
        IfwScenario{"contentshaupdate",
                    "repository",
                    "repositoryUpdate",
                    {"componentA 0.1.0 (content changed)", "componentB 0.1.0 (content changed)",
                     "componentC 2.0.0 (newer version)", "componentD 2.0.0 (newer version)"},
                    {}},
        IfwScenario{
            "contentshaupdate",
            "repositoryWithEssential",
            "repositoryUpdateWithEssential",
            {"componentA 0.1.0 (content changed)", "componentEssential 1.0.0 (content changed)"},
            {"componentEssential"}},
        IfwScenario{
            "commandlineupdate",
            "installPackagesRepository",
            "installPackagesRepositoryUpdate",
            {"componentB 2.0.0 (newer version)", "componentC 2.0.0 (newer version)",
             "componentD 2.0.0 (newer version)", "componentE 2.0.0 (newer version)",
             "componentF 2.0.0 (newer version)", "componentF.subcomponent2 2.0.0 (newer version)",
             "componentG 2.0.0 (newer version)"},
            {}},
        IfwScenario{"commandlineupdate",
                    "installPackagesRepository",
                    "installPackagesRepositoryUpdateWithEssential",
                    {"componentA 2.0.0 (newer version)", "componentB 2.0.0 (newer version)",
                     "componentC 2.0.0 (newer version)", "componentD 2.0.0 (newer version)",
                     "componentE 2.0.0 (newer version)", "componentF 2.0.0 (newer version)",
                     "componentF.subcomponent2 2.0.0 (newer version)",
                     "componentG 2.0.0 (newer version)", "componentH 2.0.0 (newer version)"},
                    {"componentA", "componentH"}}));

}  // namespace
}  // namespace ferry::client
