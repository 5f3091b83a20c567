// Shared fixture of the end-to-end tests: runs the real ferry binary in a scratch directory
// with a fixed SOURCE_DATE_EPOCH, and builds small packages trees.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <system_error>
#include <vector>

#include "core/files.hpp"
#include "support/test_support.hpp"

namespace ferry::testing {

class FerryTest : public ::testing::Test {
  protected:
    const fs::path& root() const { return scratch_.path(); }

    CommandResult ferry(std::vector<std::string> args,
                        std::map<std::string, std::string> env = {}) const {
        args.insert(args.begin(), FERRY_BINARY);
        env.emplace("SOURCE_DATE_EPOCH", "1767225600");  // 2026-01-01
        env.emplace("FERRY_CACHE_DIR", (root() / "cache").string());  // not the user's cache
        return run(args, env, root());
    }

    // Copies examples/packages into the scratch dir (so tests may change it) and returns it.
    fs::path example_packages() const {
        const fs::path destination = root() / "packages";
        fs::copy(fs::path(FERRY_SOURCE_DIR) / "examples" / "packages", destination,
                 fs::copy_options::recursive | fs::copy_options::copy_symlinks);
        return destination;
    }

    // A package with the given version and files (relative path → content) under data/.
    static void make_package(const fs::path& packages, const std::string& name,
                             const std::string& version,
                             const std::map<std::string, std::string>& data,
                             const std::string& extra_xml = "") {
        write_text(packages / name / "meta" / "package.xml",
                   "<?xml version=\"1.0\"?>\n<Package>\n <DisplayName>" + name +
                       "</DisplayName>\n <Description>test</Description>\n <Version>" + version +
                       "</Version>\n <ReleaseDate>2026-01-01</ReleaseDate>\n" + extra_xml +
                       "</Package>\n");
        for (const auto& [file, content] : data) {
            write_text(packages / name / "data" / file, content);
        }
    }

    // Runs `ferry repogen -r -p packages repository` (creating or replacing the repository).
    // Updates.xml is dated a little in the past, later than any earlier publication of this
    // test: a client does not trust validators of a file changed within the second it was
    // served (HTTP dates have whole seconds), and tests check conditional requests right after
    // publishing.
    void make_repository(const fs::path& packages, const fs::path& repository) {
        const CommandResult r =
            ferry({"repogen", "-r", "-p", packages.string(), repository.string()});
        ASSERT_EQ(r.exit_code, 0) << "repogen: exit " << r.exit_code << "\n" << r.err;
        ++publications_;
        fs::last_write_time(repository / "Updates.xml",
                            fs::file_time_type::clock::now() - std::chrono::minutes(10) +
                                std::chrono::seconds(2 * publications_));
    }

    static std::string file_url(const fs::path& path) { return "file://" + path.string(); }

  private:
    core::ScratchDir scratch_;
    int publications_ = 0;
};

inline std::string describe(const CommandResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

}  // namespace ferry::testing
