// `ferry repo verify`: checks a repository (ferry's or IFW's) against its Updates.xml and lists
// every problem found: missing archives, wrong sizes, bad .sha1 sidecars, hash mismatches.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace ferry::repo {

struct VerifyProblem {
    std::string file;  // repository-relative
    std::string message;
};

struct VerifyReport {
    std::size_t components = 0;
    std::size_t files_checked = 0;
    std::vector<VerifyProblem> problems;
    bool ok() const { return problems.empty(); }
};

// A malformed or missing Updates.xml throws; everything else becomes a problem in the report.
VerifyReport verify_repository(const std::filesystem::path& dir);

// The same for a repository served over http(s):// or file://: every file the index references
// is downloaded and checked. Network failures other than a missing file throw.
VerifyReport verify_repository_url(const std::string& url);

}  // namespace ferry::repo
