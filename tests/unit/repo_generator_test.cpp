// repogen with several jobs: components built side by side (core::parallel_for, the encoders'
// shared memory budget, progress reported from several threads) make the repository one job
// makes, byte for byte. The ThreadSanitizer build runs it (label tsan).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>

#include <fmt/format.h>

#include "core/files.hpp"
#include "repo/generator.hpp"
#include "support/test_support.hpp"

namespace ferry::repo {
namespace {

using testing::random_bytes;
using testing::read_text;
using testing::write_text;

void write_package(const fs::path& packages, const std::string& name,
                   const std::map<std::string, std::string>& files) {
    write_text(packages / name / "meta" / "package.xml",
               "<?xml version=\"1.0\"?>\n<Package>\n <DisplayName>" + name +
                   "</DisplayName>\n <Description>test</Description>\n <Version>1.0</Version>\n"
                   " <ReleaseDate>2026-01-01</ReleaseDate>\n</Package>\n");
    for (const auto& [path, content] : files) {
        write_text(packages / name / "data" / path, content);
    }
}

// Every file of a repository (its relative path) with its content.
std::map<std::string, std::string> files_of(const fs::path& repository) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(repository)) {
        if (entry.is_regular_file()) {
            files[fs::relative(entry.path(), repository).string()] = read_text(entry.path());
        }
    }
    return files;
}

TEST(RepoGenerator, SeveralJobsWriteTheRepositoryOneJobWrites) {
    core::ScratchDir scratch;
    const fs::path packages = scratch.path() / "packages";
    // Text (PPMd), incompressible data (stored) and both in one archive (LZMA2): each of the
    // codings runs beside the others.
    for (unsigned i = 0; i < 6; ++i) {
        std::string text;
        for (unsigned line = 0; line < 2000; ++line) {
            text += fmt::format("component {} line {}: the quick brown fox\n", i, line);
        }
        write_package(packages, fmt::format("com.test.c{}", i),
                      {{"doc/readme.txt", text},
                       {"bin/tool", random_bytes(150000, i)},
                       {"lib/data.bin", random_bytes(50000, 100 + i) + text}});
    }
    GenerateOptions options;
    options.packages = {packages};
    std::atomic<std::size_t> reports{0};
    options.on_progress = [&](const GenerateProgress&) { ++reports; };

    options.jobs = 1;
    generate_repository(scratch.path() / "one", options);
    options.jobs = 4;
    const GenerateReport report = generate_repository(scratch.path() / "four", options);

    ASSERT_EQ(report.components.size(), 6u);
    for (const ComponentReport& component : report.components) {
        EXPECT_EQ(component.action, ComponentReport::Action::built) << component.name;
    }
    EXPECT_GT(reports.load(), 0u);
    const auto one = files_of(scratch.path() / "one");
    const auto four = files_of(scratch.path() / "four");
    ASSERT_EQ(one.size(), four.size());
    for (const auto& [path, content] : one) {
        const auto other = four.find(path);
        ASSERT_NE(other, four.end()) << path << " is missing from the parallel build";
        EXPECT_TRUE(other->second == content) << path << " differs in the parallel build";
    }
}

}  // namespace
}  // namespace ferry::repo
