// Tests of IFW-compatible version ordering and dependency expressions, checked against the
// facts that Qt IFW's own tests assert and against IFW's versionMatches semantics.
#include "core/version.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace ferry::core {
namespace {

int sign(int value) {
    return (value > 0) - (value < 0);
}

struct CompareCase {
    const char* a;
    const char* b;
    int expected;  // sign of compare_versions(a, b)
};

// Verbatim rows of ifw-reference/compareversion.tsv (facts from Qt IFW's own tests), kept here
// so that a clone without ../shared still checks them.
const std::vector<CompareCase> kIfwFacts = {
    {"2.0", "2.1", -1},
    {"2.1", "2.0", 1},
    {"2.0", "2.0", 0},
    {"2.1", "2.1", 0},
    {"2.1", "2.1-201903190747", -1},
    {"2.1-201903190747", "2.1", 1},
    {"2.1-201903190747", "2.1-201903190747", 0},
    {"2.1-0", "2.1-201903190747", -1},
    {"2.1-201903190747", "2.1-0", 1},
    {"2.0.12.4", "2.1.10.4", -1},
    {"2.0", "2.x", 0},
    {"2.x", "2.0", 0},
    {"2.0.12.x", "2.0.x", 0},
    {"2.1.12.x", "2.0.x", 1},
    {"2.1.12.x", "2.x", 0},
    {"2.x", "2.1.12.x", 0},
    {"version-1", "version-2", -1},
    {"v2.0", "v2.x", 0},
    {"v2.x", "v2.0", 0},
    {"v2.0-alpha", "v2.0-alpha", 0},
    {"v2.0-alpha", "v2.0-beta", -1},
    {"v2.0-beta", "v2.0-alpha", 1},
    {"v2.0-rc1", "v2.0-beta", 1},
    {"v2.0-rc1", "v2.0-rc2", -1},
    {"v2.0-rc2", "v2.0-rc11", -1},
    {"v2.0-rc22", "v2.0-rc2", 1},
    {"v2.0", "v2.0-rc3", 1},
    {"OpenSSL_1_0_2k", "OpenSSL_1_0_2l", -1},
    {"OpenSSL_1_1_0f", "OpenSSL_1_0_2k", 1},
};

// Orderings users rely on, stated in the issue that asked for IFW's comparison.
const std::vector<CompareCase> kIssueFacts = {
    {"2.0.0a", "2.0.0", 1},   {"2.0.0a", "2.0.1", -1}, {"1.0.0-1", "1.0.0", 1},
    {"1.0.0a", "1.0.0.1", 1}, {"10a", "9b", -1},       {"v1.2", "1.2", 1},
    {"1_2", "1.2", 0},
};

// Consequences of the rules, each pinning one branch of the algorithm.
const std::vector<CompareCase> kRuleCases = {
    // Numeric parts compare by value, whatever their width or leading zeros.
    {"01", "1", 0},
    {"1.01", "1.1", 0},
    {"1.10", "1.9", 1},
    {"0", "00", 0},
    {"1.0.0", "1.0.00", 0},
    // Longer than any integer type: still by value, never by overflowed parse.
    {"2.1-99999999999999999999", "2.1-100000000000000000000", -1},
    {"18446744073709551616", "18446744073709551615", 1},
    {"000000000000000000000000001", "1", 0},
    // All three separators are interchangeable.
    {"1-2_3", "1.2.3", 0},
    {"1_0", "1-0", 0},
    // Non-numeric parts: shared prefix stripped, numeric remainders by value.
    {"alpha", "beta", -1},
    {"rc2", "rc11", -1},
    {"rc22", "rc2", 1},
    {"rc10", "rc9", 1},
    {"a01", "a1", 0},
    {"1_0_2k", "1_0_2l", -1},
    {"beta2", "beta", 1},
    {"1.0-beta", "1.0-alpha2", 1},
    // Numeric against non-numeric: plain string order.
    {"1.0a", "1.0", 1},
    {"1.9", "1.10a", 1},
    {"1.a", "1.1", 1},
    // One side runs out: an extra numeric part is newer, an extra suffix older.
    {"1.0", "1.0.0", -1},
    {"2.1-2019", "2.1", 1},
    {"v2.0-rc3", "v2.0", -1},
    {"1.0-beta", "1.0", -1},
    {"1.0.0.0.1", "1.0", 1},
    // Wildcards decide only where they are reached.
    {"x", "123", 0},
    {"1.x", "2.0", -1},
    {"1.2.x", "1.2.3.4.5", 0},
    // IFW evaluates the remainders after the shared prefix again, wildcard included.
    {"vx", "v2", 0},
    // IFW checks for a missing part before it looks for a wildcard: an extra "x" is a suffix.
    {"2.0", "2.0.x", 1},
    {"1.x", "1", -1},
};

// Empty strings and empty parts ("1..2") are one empty, non-numeric part, as Qt splits them.
const std::vector<CompareCase> kEmptyCases = {
    {"", "", 0},     {"", "1", -1},         {"", "a", -1}, {"", "0", -1},       {"", "x", 0},
    {"1.", "1", -1}, {"1..2", "1.0.2", -1}, {".", "", -1}, {"1..2", "1..2", 0}, {"-", "_", 0},
};

void expect_table(const std::vector<CompareCase>& table) {
    for (const auto& c : table) {
        EXPECT_EQ(sign(compare_versions(c.a, c.b)), c.expected)
            << "compare_versions(\"" << c.a << "\", \"" << c.b << "\")";
    }
}

TEST(VersionCompare, IfwReferenceFacts) {
    expect_table(kIfwFacts);
}

TEST(VersionCompare, IssueFacts) {
    expect_table(kIssueFacts);
}

TEST(VersionCompare, RuleConsequences) {
    expect_table(kRuleCases);
}

TEST(VersionCompare, EmptyVersionsAndEmptyParts) {
    expect_table(kEmptyCases);
}

TEST(VersionCompare, ResultIsMinusOneZeroOrOne) {
    // Callers of IFW's function switch on these exact values.
    EXPECT_EQ(compare_versions("1", "20000"), -1);
    EXPECT_EQ(compare_versions("zzz", "a"), 1);
    EXPECT_EQ(compare_versions("1.0", "1.0"), 0);
}

TEST(VersionCompare, AntisymmetricOverEveryPairOfTableVersions) {
    std::set<std::string> versions;
    for (const auto* table : {&kIfwFacts, &kIssueFacts, &kRuleCases, &kEmptyCases}) {
        for (const auto& c : *table) {
            versions.insert(c.a);
            versions.insert(c.b);
        }
    }
    for (const auto& a : versions) {
        for (const auto& b : versions) {
            EXPECT_EQ(sign(compare_versions(a, b)), -sign(compare_versions(b, a)))
                << "\"" << a << "\" vs \"" << b << "\"";
        }
        EXPECT_EQ(compare_versions(a, a), 0) << "\"" << a << "\"";
    }
}

TEST(VersionCompare, SharedIfwReferenceFileHolds) {
    const std::filesystem::path file =
        FERRY_SOURCE_DIR "/../shared/ifw-reference/compareversion.tsv";
    if (!std::filesystem::exists(file)) {
        GTEST_SKIP() << file << " not found: the IFW reference facts live beside the checkout "
                     << "only on the development machine; the embedded copy is checked anyway";
    }
    std::ifstream in(file);
    ASSERT_TRUE(in) << "cannot read " << file;
    std::string line;
    int line_number = 0;
    int facts = 0;
    while (std::getline(in, line)) {
        ++line_number;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::istringstream fields(line);
        std::string a;
        std::string b;
        std::string expected;
        ASSERT_TRUE(std::getline(fields, a, '\t') && std::getline(fields, b, '\t') &&
                    std::getline(fields, expected, '\t'))
            << file << ":" << line_number << ": expected three tab-separated columns";
        ++facts;
        EXPECT_EQ(sign(compare_versions(a, b)), std::stoi(expected))
            << file << ":" << line_number << ": compare_versions(\"" << a << "\", \"" << b << "\")";
    }
    EXPECT_GT(facts, 0) << file << " holds no facts";
}

struct ParseCase {
    const char* expression;
    Dependency expected;
};

const std::vector<ParseCase> kParseCases = {
    {"a", {"a", VersionOp::any, ""}},
    {"org.qt.component", {"org.qt.component", VersionOp::any, ""}},
    {"  a\t", {"a", VersionOp::any, ""}},
    {"a:>=1.0", {"a", VersionOp::greater_equal, "1.0"}},
    {"a:>1.0", {"a", VersionOp::greater, "1.0"}},
    {"a:<=1.0", {"a", VersionOp::less_equal, "1.0"}},
    {"a:<1.0", {"a", VersionOp::less, "1.0"}},
    {"a:=1.0", {"a", VersionOp::equal, "1.0"}},
    {"a:1.0", {"a", VersionOp::equal, "1.0"}},
    {"a:1.0-beta_2", {"a", VersionOp::equal, "1.0-beta_2"}},
    {"a:2.x", {"a", VersionOp::equal, "2.x"}},
    {" \ta:>=1.0 \n", {"a", VersionOp::greater_equal, "1.0"}},
    {"com.acme.app:>=2.1-201903190747",
     {"com.acme.app", VersionOp::greater_equal, "2.1-201903190747"}},
    // With a ':' the name ends there; a '-' after it belongs to the version.
    {"a:b-1", {"a", VersionOp::equal, "b-1"}},
    // Legacy form: no ':', the first '-' separates.
    {"a->=1.0", {"a", VersionOp::greater_equal, "1.0"}},
    {"a-<2", {"a", VersionOp::less, "2"}},
    {"a-1.0", {"a", VersionOp::equal, "1.0"}},
    {"a-1.0-beta", {"a", VersionOp::equal, "1.0-beta"}},
    {"a-=1.0", {"a", VersionOp::equal, "1.0"}},
};

TEST(Dependency, ParsesNameOperatorAndVersion) {
    for (const auto& c : kParseCases) {
        EXPECT_EQ(parse_dependency(c.expression), c.expected)
            << "parse_dependency(\"" << c.expression << "\")";
    }
}

struct ErrorCase {
    const char* expression;
    const char* cause;  // a fragment the message must contain besides the quoted expression
};

const std::vector<ErrorCase> kErrorCases = {
    {"", "empty component name"},
    {"   ", "empty component name"},
    {":1.0", "empty component name"},
    {":>=1.0", "empty component name"},
    {"-1.0", "empty component name"},
    {"a:>=", "\">=\" is not followed by a version"},
    {"a:<", "\"<\" is not followed by a version"},
    {"a:=", "\"=\" is not followed by a version"},
    {"a->=", "\">=\" is not followed by a version"},
    {"a:=>1", "unknown operator \"=>\""},
    {"a:<>1", "unknown operator \"<>\""},
    {"a:==1", "unknown operator \"==\""},
    {"a:>>1", "unknown operator \">>\""},
    {"a:=<1", "unknown operator \"=<\""},
    {"a->=>1", "unknown operator \">=>\""},
    {"a:", "no version after ':'"},
    {"a-", "no version after '-'"},
    {"a :>=1.0", "whitespace"},
    {"a:>= 1.0", "whitespace"},
    {"a b", "whitespace"},
};

TEST(Dependency, RejectsMalformedExpressionsQuotingThem) {
    for (const auto& c : kErrorCases) {
        const std::string quoted = "\"" + std::string(c.expression) + "\"";
        try {
            parse_dependency(c.expression);
            ADD_FAILURE() << "parse_dependency(" << quoted << ") did not throw";
        } catch (const Error& e) {
            const std::string message = e.what();
            EXPECT_NE(message.find(quoted), std::string::npos)
                << "message does not quote the expression: " << message;
            EXPECT_NE(message.find(c.cause), std::string::npos)
                << "message does not name the cause \"" << c.cause << "\": " << message;
        }
    }
}

struct SatisfiesCase {
    const char* requirement;
    const char* version;
    bool expected;
};

const std::vector<SatisfiesCase> kSatisfiesCases = {
    {"a", "1.0", true},
    {"a", "", true},
    {"a", "anything-at-all", true},
    // "=" is an exact string match, not an equal comparison.
    {"a:=1.2", "1.2", true},
    {"a:1.2", "1.2", true},
    {"a:=1.2", "1_2", false},
    {"a:=1.2", "1.2.0", false},
    {"a:=1.2", "01.2", false},
    {"a:=2.x", "2.5", false},
    {"a:=2.x", "2.x", true},
    // ">=": string match or strictly newer.
    {"a:>=1.0", "1.0", true},
    {"a:>=1.0", "1.1", true},
    {"a:>=1.0", "1.0.0", true},
    {"a:>=1.0", "0.9", false},
    {"a:>=1.0.0", "1.0", false},  // IFW quirk: 1.0 < 1.0.0
    {"a:>=1.0", "1_0", false},    // compares equal but is not the same string
    {"a:>=2.x", "2.5", false},    // the wildcard compares equal, never newer
    {"a:>=2.x", "2.x", true},
    {"a:>=v2.0", "v2.0-rc3", false},
    {"a:>=2.1", "2.1-201903190747", true},
    // ">": strictly newer.
    {"a:>1.0", "1.0", false},
    {"a:>1.0", "1.0.1", true},
    {"a:>1.0", "1.0-1", true},
    {"a:>1.0", "1.0-beta", false},
    {"a:>1.0", "1_0", false},
    {"a:>v2.0-rc1", "v2.0-rc11", true},
    // "<=": string match or strictly older.
    {"a:<=1.0", "1.0", true},
    {"a:<=1.0", "0.9", true},
    {"a:<=1.0", "1.0.1", false},
    {"a:<=1.0", "1_0", false},
    {"a:<=1.0", "1.0-beta", true},
    // "<": strictly older.
    {"a:<1.0", "0.9", true},
    {"a:<1.0", "1.0", false},
    {"a:<1.0.0", "1.0", true},
    {"a:<v2.0", "v2.0-rc3", true},
    {"a:<2.0", "10.0", false},
    // The legacy form means the same.
    {"a->=1.0", "1.1", true},
    {"a-1.0", "1.0", true},
    {"a-1.0", "1.0.0", false},
};

TEST(Dependency, SatisfiesFollowsIfwVersionMatches) {
    for (const auto& c : kSatisfiesCases) {
        EXPECT_EQ(satisfies(parse_dependency(c.requirement), c.version), c.expected)
            << "satisfies(\"" << c.requirement << "\", \"" << c.version << "\")";
    }
}

TEST(Dependency, SplitListTrimsAndDropsEmptyItems) {
    using List = std::vector<std::string>;
    const std::vector<std::pair<const char*, List>> cases = {
        {"a, b ,c,,", {"a", "b", "c"}},
        {"", {}},
        {" , ,, ", {}},
        {"a", {"a"}},
        {",a", {"a"}},
        {"\ta\n,b\r\n", {"a", "b"}},
        {"a:>=1.0, b-2, c:<3", {"a:>=1.0", "b-2", "c:<3"}},
        {"com.acme.one,com.acme.two", {"com.acme.one", "com.acme.two"}},
    };
    for (const auto& [input, expected] : cases) {
        EXPECT_EQ(split_list(input), expected) << "split_list(\"" << input << "\")";
    }
}

TEST(Dependency, ToStringIsCanonical) {
    const std::vector<std::pair<Dependency, const char*>> cases = {
        {{"a", VersionOp::any, ""}, "a"},
        {{"a", VersionOp::equal, "1.0"}, "a:=1.0"},
        {{"a", VersionOp::less, "1.0"}, "a:<1.0"},
        {{"a", VersionOp::less_equal, "1.0"}, "a:<=1.0"},
        {{"a", VersionOp::greater, "1.0"}, "a:>1.0"},
        {{"a", VersionOp::greater_equal, "1.0"}, "a:>=1.0"},
        {{"org.x", VersionOp::greater_equal, "2.1-201903190747"}, "org.x:>=2.1-201903190747"},
    };
    for (const auto& [dependency, expected] : cases) {
        EXPECT_EQ(to_string(dependency), expected);
    }
    // Legacy and implicit forms come back in the canonical spelling.
    EXPECT_EQ(to_string(parse_dependency("a->=1.0")), "a:>=1.0");
    EXPECT_EQ(to_string(parse_dependency(" a-1.0 ")), "a:=1.0");
}

TEST(Dependency, ToStringRoundTripsThroughParse) {
    for (const auto& c : kParseCases) {
        const std::string canonical = to_string(c.expected);
        EXPECT_EQ(parse_dependency(canonical), c.expected) << canonical;
    }
}

}  // namespace
}  // namespace ferry::core
