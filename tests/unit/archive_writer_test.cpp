#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "archive/archive.hpp"
#include "core/error.hpp"
#include "support/test_support.hpp"

namespace ferry::archive {
namespace {

using core::ScratchDir;
using testing::error_of;
using testing::read_text;
using testing::run;
using testing::write_text;

constexpr std::int64_t kMtime = 1700000000;  // 2023-11-14 22:13:20 UTC

const std::vector<ArchiveFormat> kAllFormats = {
    ArchiveFormat::sevenzip, ArchiveFormat::zip,    ArchiveFormat::tar,    ArchiveFormat::tar_gz,
    ArchiveFormat::tar_bz2,  ArchiveFormat::tar_xz, ArchiveFormat::tar_zst};

std::string format_name(ArchiveFormat format) {
    return std::string(extension(format));
}

std::string long_name() {
    return "data/" + std::string(120, 'n') + "/file-with-a-long-name-" + std::string(60, 'x') +
           ".txt";
}

// A small tree with everything the writer must keep: an executable, an empty directory, an
// empty file, a symlink, a UTF-8 name and a path longer than ustar's 100 bytes.
void make_tree(const fs::path& root, mode_t file_mode, mode_t exec_mode, mode_t dir_mode) {
    write_text(root / "bin/tool", "#!/bin/sh\necho tool\n");
    write_text(root / "data/readme.txt", "read me\n");
    write_text(root / "data/nested/deep/notes.txt", std::string(5000, 'n'));
    write_text(root / "data/empty.txt", "");
    write_text(root / "data/h\xc3\xa9llo.txt", "bonjour\n");
    write_text(root / long_name(), "long\n");
    fs::create_directories(root / "empty");
    fs::create_symlink("data/readme.txt", root / "link");
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (entry.is_symlink()) {
            continue;
        }
        ::chmod(entry.path().c_str(), entry.is_directory() ? dir_mode : file_mode);
    }
    ::chmod((root / "bin/tool").c_str(), exec_mode);
}

void touch_all(const fs::path& root, std::time_t seconds) {
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
        ::utimensat(AT_FDCWD, entry.path().c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
}

WriteOptions options_for(ArchiveFormat format, int level) {
    WriteOptions options;
    options.format = format;
    options.level = level;
    options.mtime = kMtime;
    return options;
}

// Directories and modes as a user would look at them after extraction.
std::map<std::string, std::string> modes_of(const fs::path& root) {
    std::map<std::string, std::string> modes;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        struct stat st {};
        ::lstat(entry.path().c_str(), &st);
        const char* kind = S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" : "file";
        modes[entry.path().lexically_relative(root).generic_string()] =
            fmt::format("{} {:o}", kind, st.st_mode & 07777);
    }
    return modes;
}

TEST(ArchiveNames, FormatsAndLevelsParse) {
    for (ArchiveFormat format : kAllFormats) {
        EXPECT_EQ(parse_archive_format(extension(format)), format);
    }
    EXPECT_EQ(extension(ArchiveFormat::tar_zst), "tar.zst");
    EXPECT_THROW(parse_archive_format("rar"), Error);
    EXPECT_THROW(parse_archive_format("TAR.GZ"), Error);
    for (int level : {0, 1, 3, 5, 7, 9}) {
        EXPECT_EQ(parse_compression_level(std::to_string(level)), level);
    }
    for (const char* bad : {"2", "10", "", "-1", "5 "}) {
        EXPECT_THROW(parse_compression_level(bad), Error) << bad;
    }
}

TEST(CollectTree, ListsEverythingSortedWithPrefix) {
    ScratchDir dir;
    make_tree(dir.path(), 0644, 0755, 0755);
    std::vector<ArchiveInput> inputs = collect_tree(dir.path(), "pkg/");
    std::vector<std::string> names;
    for (const ArchiveInput& input : inputs) {
        names.push_back(input.entry_name);
        EXPECT_EQ(input.source, dir.path() / input.entry_name.substr(4));
    }
    std::vector<std::string> expected = {"pkg/bin",
                                         "pkg/bin/tool",
                                         "pkg/data",
                                         "pkg/data/empty.txt",
                                         "pkg/data/h\xc3\xa9llo.txt",
                                         "pkg/data/nested",
                                         "pkg/data/nested/deep",
                                         "pkg/data/nested/deep/notes.txt",
                                         "pkg/data/readme.txt",
                                         "pkg/" + long_name().substr(0, long_name().rfind('/')),
                                         "pkg/" + long_name(),
                                         "pkg/empty",
                                         "pkg/link"};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(names, expected);
}

TEST(CollectTree, RefusesFifos) {
    ScratchDir dir;
    write_text(dir.path() / "a.txt", "a");
    ASSERT_EQ(::mkfifo((dir.path() / "pipe").c_str(), 0644), 0);
    std::string message = error_of([&] { collect_tree(dir.path(), ""); });
    EXPECT_NE(message.find((dir.path() / "pipe").string()), std::string::npos) << message;
}

// The same content written twice, with different mtimes, permissions (except the executable
// bit), source directories and archive names, gives the same bytes.
TEST(WriteArchive, SameInputGivesSameBytesInEveryFormat) {
    ScratchDir first_dir;
    ScratchDir second_dir;
    ScratchDir out;
    make_tree(first_dir.path() / "src", 0644, 0755, 0755);
    make_tree(second_dir.path() / "other-name", 0600, 0700, 0700);
    touch_all(first_dir.path() / "src", 1000000000);
    touch_all(second_dir.path() / "other-name", 1600000000);
    for (ArchiveFormat format : kAllFormats) {
        for (int level : {0, 5}) {
            SCOPED_TRACE(format_name(format) + " level " + std::to_string(level));
            const fs::path a = out.path() / ("a." + format_name(format));
            const fs::path b = out.path() / ("second-" + std::to_string(level) + ".bin");
            write_archive(a, collect_tree(first_dir.path() / "src", ""),
                          options_for(format, level));
            write_archive(b, collect_tree(second_dir.path() / "other-name", ""),
                          options_for(format, level));
            EXPECT_EQ(read_text(a), read_text(b));
        }
    }
}

TEST(WriteArchive, GzipHeaderHasNoTimestampOrName) {
    ScratchDir dir;
    make_tree(dir.path() / "src", 0644, 0755, 0755);
    const fs::path out = dir.path() / "named.tar.gz";
    write_archive(out, collect_tree(dir.path() / "src", ""), options_for(ArchiveFormat::tar_gz, 9));
    std::string bytes = read_text(out);
    ASSERT_GE(bytes.size(), 10u);
    EXPECT_EQ(bytes.substr(0, 3), "\x1f\x8b\x08");
    EXPECT_EQ(bytes[3], '\0') << "no FNAME or other flags";
    EXPECT_EQ(bytes.substr(4, 4), std::string(4, '\0')) << "MTIME must be zero";
    EXPECT_EQ(bytes.find("named"), std::string::npos);
}

// Zip stores an MS-DOS time that libarchive computes in local time; the bytes must not depend
// on the time zone of the machine that writes them.
TEST(WriteArchive, ZipBytesDoNotDependOnTheTimeZone) {
    ScratchDir dir;
    make_tree(dir.path() / "src", 0644, 0755, 0755);
    const char* saved = std::getenv("TZ");
    const std::string saved_tz = saved != nullptr ? saved : "";
    auto write_in = [&](const char* zone, const std::string& name) {
        ::setenv("TZ", zone, 1);
        ::tzset();
        write_archive(dir.path() / name, collect_tree(dir.path() / "src", ""),
                      options_for(ArchiveFormat::zip, 5));
    };
    write_in("UTC0", "utc.zip");
    write_in("JST-9", "tokyo.zip");
    write_in("PST8PDT", "pacific.zip");
    if (saved != nullptr) {
        ::setenv("TZ", saved_tz.c_str(), 1);
    } else {
        ::unsetenv("TZ");
    }
    ::tzset();
    EXPECT_EQ(read_text(dir.path() / "utc.zip"), read_text(dir.path() / "tokyo.zip"));
    EXPECT_EQ(read_text(dir.path() / "utc.zip"), read_text(dir.path() / "pacific.zip"));
    auto listing = run({"/usr/bin/7z", "l", (dir.path() / "tokyo.zip").string()}, {{"TZ", "UTC"}});
    EXPECT_NE(listing.out.find("2023-11-14 22:13:20"), std::string::npos) << listing.out;
}

TEST(WriteArchive, EveryFormatRoundTripsThroughExtraction) {
    ScratchDir dir;
    const fs::path source = dir.path() / "src";
    make_tree(source, 0640, 0750, 0700);
    const auto expected_files = testing::snapshot_tree(source);
    for (ArchiveFormat format : kAllFormats) {
        SCOPED_TRACE(format_name(format));
        const fs::path out = dir.path() / ("tree." + format_name(format));
        WriteResult result = write_archive(out, collect_tree(source, ""), options_for(format, 5));
        EXPECT_EQ(result.uncompressed_size, 20u + 8 + 5000 + 8 + 5);
        EXPECT_EQ(content_size(out), result.uncompressed_size);
        const fs::path target = dir.path() / ("x-" + format_name(format));
        fs::create_directories(target);
        extract_archive(out, target);
        EXPECT_EQ(testing::snapshot_tree(target), expected_files);
        auto modes = modes_of(target);
        EXPECT_EQ(modes["bin/tool"], "file 755");
        EXPECT_EQ(modes["data/readme.txt"], "file 644");
        EXPECT_EQ(modes["empty"].substr(0, 3), "dir");
        EXPECT_EQ(modes["link"], "link 777");
        EXPECT_EQ(fs::read_symlink(target / "link"), "data/readme.txt");
    }
}

TEST(WriteArchive, RealToolsReadTheArchivesAndSeeOwnerZeroAndTheFixedTime) {
    ScratchDir dir;
    make_tree(dir.path() / "src", 0644, 0755, 0755);
    for (ArchiveFormat format : kAllFormats) {
        SCOPED_TRACE(format_name(format));
        const fs::path out = dir.path() / ("tools." + format_name(format));
        write_archive(out, collect_tree(dir.path() / "src", ""), options_for(format, 5));
        if (format == ArchiveFormat::sevenzip || format == ArchiveFormat::zip) {
            auto tested = run({"/usr/bin/7z", "t", out.string()});
            EXPECT_EQ(tested.exit_code, 0) << tested.out << tested.err;
            EXPECT_NE(tested.out.find("Everything is Ok"), std::string::npos) << tested.out;
        }
        auto listing = run({"/usr/bin/bsdtar", "-tvf", out.string()}, {{"TZ", "UTC"}});
        ASSERT_EQ(listing.exit_code, 0) << listing.err;
        EXPECT_NE(listing.out.find("bin/tool"), std::string::npos);
        EXPECT_NE(listing.out.find("link -> data/readme.txt"), std::string::npos) << listing.out;
        if (format == ArchiveFormat::sevenzip || format == ArchiveFormat::zip) {
            continue;
        }
        std::istringstream lines(listing.out);
        std::string line;
        int count = 0;
        while (std::getline(lines, line)) {
            std::istringstream fields(line);
            std::string mode, links, owner, group;
            fields >> mode >> links >> owner >> group;
            EXPECT_EQ(owner, "0") << line;
            EXPECT_EQ(group, "0") << line;
            EXPECT_NE(line.find("Nov 14  2023"), std::string::npos) << line;
            ++count;
        }
        EXPECT_EQ(count, 13);
    }
}

TEST(WriteArchive, IncompressibleContentIsStoredAndTextIsCompressed) {
    ScratchDir dir;
    for (int i = 0; i < 3; ++i) {
        write_text(dir.path() / "random" / ("r" + std::to_string(i)),
                   testing::random_bytes(1 << 20, static_cast<unsigned>(i)));
    }
    std::string text;
    for (int i = 0; text.size() < (1 << 20); ++i) {
        text += "line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog\n";
    }
    write_text(dir.path() / "text/a.txt", text);
    write_text(dir.path() / "text/b.txt", text + "b");
    for (ArchiveFormat format : {ArchiveFormat::sevenzip, ArchiveFormat::zip, ArchiveFormat::tar_gz,
                                 ArchiveFormat::tar_zst}) {
        SCOPED_TRACE(format_name(format));
        const fs::path random_out = dir.path() / ("random." + format_name(format));
        WriteResult random = write_archive(random_out, collect_tree(dir.path() / "random", ""),
                                           options_for(format, 5));
        EXPECT_TRUE(random.stored);
        EXPECT_EQ(random.uncompressed_size, 3u << 20);
        EXPECT_LT(fs::file_size(random_out), (3u << 20) + (3u << 20) / 100);
        const fs::path text_out = dir.path() / ("text." + format_name(format));
        WriteResult compressed =
            write_archive(text_out, collect_tree(dir.path() / "text", ""), options_for(format, 5));
        EXPECT_FALSE(compressed.stored);
        EXPECT_LT(fs::file_size(text_out), compressed.uncompressed_size / 5);
    }
}

TEST(WriteArchive, MostlyIncompressibleContentIsCompressedWithLzmasFastestPreset) {
    ScratchDir dir;
    const std::string random = testing::random_bytes(3 << 20, 4);
    std::string text;
    for (int i = 0; text.size() < (512 << 10); ++i) {
        text += "entry " + std::to_string(i * 7919 % 10007) + " of the manual, page " +
                std::to_string(i / 40) + "\n";
    }
    write_text(dir.path() / "mixed/random.bin", random);
    write_text(dir.path() / "mixed/manual.txt", text);
    write_text(dir.path() / "text/manual.txt", text);
    for (ArchiveFormat format : {ArchiveFormat::sevenzip, ArchiveFormat::tar_xz}) {
        SCOPED_TRACE(format_name(format));
        const fs::path out = dir.path() / ("mixed." + format_name(format));
        const WriteResult mixed =
            write_archive(out, collect_tree(dir.path() / "mixed", ""), options_for(format, 5));
        EXPECT_FALSE(mixed.stored);
        EXPECT_EQ(mixed.level, 1);
        // The text is still compressed, and everything comes back as it was.
        EXPECT_LT(fs::file_size(out), random.size() + text.size() / 4);
        const fs::path target = dir.path() / ("out-" + format_name(format));
        fs::create_directory(target);
        extract_archive(out, target);
        EXPECT_EQ(read_text(target / "random.bin"), random);
        EXPECT_EQ(read_text(target / "manual.txt"), text);
        // Content that compresses keeps the level asked for.
        const WriteResult plain =
            write_archive(dir.path() / ("text." + format_name(format)),
                          collect_tree(dir.path() / "text", ""), options_for(format, 5));
        EXPECT_EQ(plain.level, 5);
    }
}

TEST(WriteArchive, ZipStoresOnlyTheEntriesThatDoNotCompress) {
    ScratchDir dir;
    write_text(dir.path() / "src/random.bin", testing::random_bytes(1 << 20, 3));
    write_text(dir.path() / "src/text.txt", std::string(1 << 20, 't'));
    const fs::path out = dir.path() / "mixed.zip";
    WriteResult result = write_archive(out, collect_tree(dir.path() / "src", ""),
                                       options_for(ArchiveFormat::zip, 5));
    EXPECT_FALSE(result.stored);
    EXPECT_LT(fs::file_size(out), (1u << 20) + 20000);
    auto details = run({"/usr/bin/7z", "l", "-slt", out.string()});
    EXPECT_NE(details.out.find("Method = Store"), std::string::npos) << details.out;
    EXPECT_NE(details.out.find("Method = Deflate"), std::string::npos) << details.out;
}

TEST(WriteArchive, LevelZeroStoresAndReportsProgress) {
    ScratchDir dir;
    write_text(dir.path() / "src/a.txt", std::string(3 << 20, 'a'));
    write_text(dir.path() / "src/b.txt", std::string(1000, 'b'));
    std::vector<std::uint64_t> seen;
    WriteOptions options = options_for(ArchiveFormat::sevenzip, 0);
    options.on_progress = [&](std::uint64_t bytes) { seen.push_back(bytes); };
    const fs::path out = dir.path() / "stored.7z";
    WriteResult result = write_archive(out, collect_tree(dir.path() / "src", ""), options);
    EXPECT_TRUE(result.stored);
    EXPECT_GT(fs::file_size(out), 3u << 20);
    ASSERT_GE(seen.size(), 3u) << "a 3 MiB file is read in several chunks";
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_EQ(seen.back(), (3u << 20) + 1000);
}

TEST(WriteArchive, VanishedSourceFailsNamingArchiveAndEntryAndLeavesNothing) {
    ScratchDir dir;
    write_text(dir.path() / "src/a.txt", "a");
    std::vector<ArchiveInput> inputs = collect_tree(dir.path() / "src", "");
    inputs.push_back({"gone.txt", dir.path() / "src/gone.txt"});
    const fs::path out = dir.path() / "out/broken.7z";
    fs::create_directories(out.parent_path());
    std::string message =
        error_of([&] { write_archive(out, inputs, options_for(ArchiveFormat::sevenzip, 5)); });
    EXPECT_NE(message.find(out.string()), std::string::npos) << message;
    EXPECT_NE(message.find("gone.txt"), std::string::npos) << message;
    EXPECT_TRUE(fs::is_empty(out.parent_path())) << "no archive and no temporary file";
}

// An entry made while it is written: streamed in pieces into every format, read back the same.
ArchiveInput produced(const std::string& name, const std::string& content, std::uint64_t size) {
    ArchiveInput input;
    input.entry_name = name;
    input.size = size;
    input.produce = [content](const core::ByteSink& sink) {
        for (std::size_t at = 0; at < content.size(); at += 1000) {
            sink(content.data() + at, std::min<std::size_t>(1000, content.size() - at));
        }
    };
    return input;
}

TEST(WriteArchive, ProducedEntriesAreStreamedInAsTheyAreMade) {
    ScratchDir dir;
    write_text(dir.path() / "src/a.txt", "a");
    std::string content;
    for (int i = 0; content.size() < 300000; ++i) {
        content += "line " + std::to_string(i) + "\n";
    }
    for (ArchiveFormat format : kAllFormats) {
        SCOPED_TRACE(format_name(format));
        std::vector<ArchiveInput> inputs = collect_tree(dir.path() / "src", "");
        inputs.push_back(produced("made/stream.txt", content, content.size()));
        const fs::path out = dir.path() / ("made." + format_name(format));
        write_archive(out, inputs, options_for(format, 5));
        const fs::path target = dir.path() / ("x-" + format_name(format));
        fs::create_directories(target);
        extract_archive(out, target);
        EXPECT_EQ(read_text(target / "made/stream.txt"), content);
        EXPECT_EQ(read_text(target / "a.txt"), "a");
    }
}

TEST(WriteArchive, AProducedEntryOfAnotherSizeThanAnnouncedFailsAndLeavesNothing) {
    ScratchDir dir;
    const fs::path out = dir.path() / "out/made.tar";
    fs::create_directories(out.parent_path());
    for (std::uint64_t announced : {10u, 30u}) {
        SCOPED_TRACE(announced);
        const std::string message = error_of([&] {
            write_archive(out, {produced("made.bin", std::string(20, 'x'), announced)},
                          options_for(ArchiveFormat::tar, 0));
        });
        EXPECT_THAT(message, ::testing::HasSubstr(out.string()));
        EXPECT_THAT(message, ::testing::HasSubstr("entry \"made.bin\""));
        EXPECT_THAT(message,
                    ::testing::HasSubstr(announced == 10 ? "more than the 10 bytes announced"
                                                         : "20 bytes made, 30 announced"));
        EXPECT_TRUE(fs::is_empty(out.parent_path())) << "no archive and no temporary file";
    }
}

TEST(WriteArchive, SourceThatIsNotAFileDirectoryOrSymlinkIsRefused) {
    ScratchDir dir;
    write_text(dir.path() / "src/a.txt", "a");
    const fs::path out = dir.path() / "out.tar";
    std::vector<ArchiveInput> inputs = {{"a.txt", dir.path() / "src/a.txt"},
                                        {"fifo", dir.path() / "src/fifo"}};
    ASSERT_EQ(::mkfifo((dir.path() / "src/fifo").c_str(), 0644), 0);
    std::string message =
        error_of([&] { write_archive(out, inputs, options_for(ArchiveFormat::tar, 5)); });
    EXPECT_NE(message.find("\"fifo\""), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(out));
}

TEST(WriteArchive, RefusesBadAndDuplicateEntryNames) {
    ScratchDir dir;
    write_text(dir.path() / "a.txt", "a");
    const fs::path out = dir.path() / "out.zip";
    for (const char* bad : {"/abs", "../up", "a/../b", "a//b", "./a", ""}) {
        std::string message = error_of([&] {
            write_archive(out, {{bad, dir.path() / "a.txt"}}, options_for(ArchiveFormat::zip, 5));
        });
        EXPECT_NE(message.find(out.string()), std::string::npos) << bad << ": " << message;
    }
    std::string message = error_of([&] {
        write_archive(out, {{"x", dir.path() / "a.txt"}, {"x", dir.path() / "a.txt"}},
                      options_for(ArchiveFormat::zip, 5));
    });
    EXPECT_NE(message.find("twice"), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace ferry::archive

namespace ferry::archive {
namespace {

// The coding method 7-Zip itself reports for the archive's first file.
std::string method_of(const fs::path& archive) {
    auto r = testing::run({"/usr/bin/7z", "l", "-slt", archive.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto at = r.out.find("\nMethod = ");
    return at == std::string::npos ? "" : r.out.substr(at + 10, r.out.find('\n', at + 1) - at - 10);
}

TEST(WriteArchive, TextIn7zAtLevelFiveAndAboveIsCodedWithPpmdAndBinaryWithLzma2) {
    ScratchDir dir;
    std::string text;
    for (int i = 0; text.size() < (1 << 20); ++i) {
        text += "entry " + std::to_string(i * 7919 % 1000) + " installs the component\n";
    }
    write_text(dir.path() / "text/doc.txt", text);
    std::string binary = testing::random_bytes(1 << 19, 3) + std::string(1 << 19, '\0');
    write_text(dir.path() / "binary/lib.so", binary);
    for (int level : {1, 5, 9}) {
        SCOPED_TRACE(level);
        const fs::path text_out = dir.path() / ("text" + std::to_string(level) + ".7z");
        write_archive(text_out, collect_tree(dir.path() / "text", ""),
                      options_for(ArchiveFormat::sevenzip, level));
        EXPECT_THAT(method_of(text_out), ::testing::HasSubstr(level >= 5 ? "PPMD" : "LZMA2"));
        EXPECT_EQ(testing::run({"/usr/bin/7z", "t", text_out.string()}).exit_code, 0);
        ScratchDir extracted;
        extract_archive(text_out, extracted.path());
        EXPECT_EQ(testing::read_text(extracted.path() / "doc.txt"), text);

        const fs::path binary_out = dir.path() / ("binary" + std::to_string(level) + ".7z");
        write_archive(binary_out, collect_tree(dir.path() / "binary", ""),
                      options_for(ArchiveFormat::sevenzip, level));
        EXPECT_THAT(method_of(binary_out), ::testing::HasSubstr("LZMA2"));
    }
}

}  // namespace
}  // namespace ferry::archive
