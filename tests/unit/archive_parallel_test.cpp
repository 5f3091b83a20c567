// Archives written and extracted side by side, as repogen writes them and the client extracts
// its components (core::parallel_for): each thread's archive holds its own files, names in UTF-8
// included (the UTF-8 locale is set per thread). The ThreadSanitizer build runs it (label tsan).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "archive/archive.hpp"
#include "core/files.hpp"
#include "core/parallel.hpp"
#include "support/test_support.hpp"

namespace ferry::archive {
namespace {

using testing::random_bytes;
using testing::read_text;
using testing::write_text;

TEST(ArchiveParallel, ArchivesWrittenAndExtractedSideBySideKeepTheirOwnFiles) {
    core::ScratchDir scratch;
    constexpr std::size_t count = 6;
    const ArchiveFormat formats[] = {ArchiveFormat::sevenzip, ArchiveFormat::zip,
                                     ArchiveFormat::tar_xz};
    const auto content = [](std::size_t i) {
        return random_bytes(40000, static_cast<unsigned>(i)) +
               std::string(20000, static_cast<char>('a' + i));
    };
    const auto source = [&](std::size_t i) { return scratch.path() / fmt::format("src{}", i); };
    const auto archive = [&](std::size_t i) {
        return scratch.path() / fmt::format("a{}.{}", i, extension(formats[i % 3]));
    };
    for (std::size_t i = 0; i < count; ++i) {
        write_text(source(i) / fmt::format("dir{}/data.bin", i), content(i));
        write_text(source(i) / "größe.txt", fmt::format("archive {}", i));
    }

    core::parallel_for(count, 3, [&](std::size_t i) {
        WriteOptions options;
        options.format = formats[i % 3];
        write_archive(archive(i), collect_tree(source(i), ""), options);
    });
    std::vector<std::vector<ExtractedEntry>> extracted(count);
    core::parallel_for(count, 3, [&](std::size_t i) {
        const fs::path target = scratch.path() / fmt::format("out{}", i);
        fs::create_directories(target);
        extracted[i] = extract_archive(archive(i), target);
    });

    for (std::size_t i = 0; i < count; ++i) {
        const fs::path target = scratch.path() / fmt::format("out{}", i);
        EXPECT_TRUE(read_text(target / fmt::format("dir{}/data.bin", i)) == content(i)) << i;
        EXPECT_EQ(read_text(target / "größe.txt"), fmt::format("archive {}", i));
        EXPECT_EQ(extracted[i].size(), 3u) << i;  // a directory and two files
    }
}

}  // namespace
}  // namespace ferry::archive
