#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "archive/archive.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "support/test_support.hpp"

namespace ferry::archive {
namespace {

using core::ScratchDir;
using testing::read_text;
using testing::write_text;

// One entry of a hand-made archive: whatever name and type a hostile archive could carry.
struct Spec {
    enum class Kind { file, directory, symlink, hardlink, fifo, character_device, block_device };
    std::string name;
    Kind kind = Kind::file;
    std::string data{};  // file content, or link target
    mode_t perm = 0644;
};

enum class Container { tar, tar_gz, zip };

void craft(const fs::path& out, const std::vector<Spec>& specs,
           Container container = Container::tar) {
    std::unique_ptr<struct archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                          &archive_write_free);
    struct archive* a = writer.get();
    if (container == Container::zip) {
        archive_write_set_format_zip(a);
    } else {
        archive_write_set_format_pax_restricted(a);
    }
    if (container == Container::tar_gz) {
        archive_write_add_filter_gzip(a);
    }
    ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK) << archive_error_string(a);
    for (const Spec& spec : specs) {
        std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(
            archive_entry_new(), &archive_entry_free);
        struct archive_entry* e = entry.get();
        archive_entry_set_pathname(e, spec.name.c_str());
        archive_entry_set_perm(e, spec.perm);
        archive_entry_set_mtime(e, 1700000000, 0);
        switch (spec.kind) {
            case Spec::Kind::file:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_size(e, static_cast<la_int64_t>(spec.data.size()));
                break;
            case Spec::Kind::directory:
                archive_entry_set_filetype(e, AE_IFDIR);
                break;
            case Spec::Kind::symlink:
                archive_entry_set_filetype(e, AE_IFLNK);
                archive_entry_set_symlink(e, spec.data.c_str());
                break;
            case Spec::Kind::hardlink:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_hardlink(e, spec.data.c_str());
                break;
            case Spec::Kind::fifo:
                archive_entry_set_filetype(e, AE_IFIFO);
                break;
            case Spec::Kind::character_device:
                archive_entry_set_filetype(e, AE_IFCHR);
                archive_entry_set_rdev(e, makedev(1, 3));
                break;
            case Spec::Kind::block_device:
                archive_entry_set_filetype(e, AE_IFBLK);
                archive_entry_set_rdev(e, makedev(8, 0));
                break;
        }
        ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << spec.name << archive_error_string(a);
        if (spec.kind == Spec::Kind::file && !spec.data.empty()) {
            ASSERT_EQ(archive_write_data(a, spec.data.data(), spec.data.size()),
                      static_cast<la_ssize_t>(spec.data.size()));
        }
    }
    ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
}

// Every path below root (symlinks not followed), with its kind: what "nothing changed" means.
std::map<std::string, std::string> listing_of(const fs::path& root) {
    std::map<std::string, std::string> paths;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        paths[entry.path().lexically_relative(root).generic_string()] = entry.is_symlink() ? "link"
                                                                        : entry.is_directory()
                                                                            ? "dir"
                                                                            : "file";
    }
    return paths;
}

std::string unique_tmp_name() {
    return "ferry-evil-" + std::to_string(::getpid()) + "-" + std::to_string(::time(nullptr));
}

using Kind = Spec::Kind;

struct MaliciousCase {
    std::string label;
    std::vector<Spec> specs;
    std::string entry;  // the entry the error must name
    ExtractLimits limits = {};
    Container container = Container::tar;
};

std::vector<MaliciousCase> malicious_cases(const std::string& evil_tmp) {
    ExtractLimits small_bytes;
    small_bytes.max_total_bytes = 1000;
    ExtractLimits few_entries;
    few_entries.max_entries = 5;
    std::vector<Spec> six_files;
    for (int i = 0; i < 6; ++i) {
        six_files.push_back({"f" + std::to_string(i), Kind::file, "x"});
    }
    return {
        {"absolute path", {{"/tmp/" + evil_tmp, Kind::file, "evil"}}, "/tmp/" + evil_tmp},
        {"dot-dot", {{"../evil", Kind::file, "evil"}}, "../evil"},
        {"dot-dot inside", {{"a/../../evil", Kind::file, "evil"}}, "a/../../evil"},
        {"symlink to /tmp then a file below it",
         {{"a", Kind::symlink, "/tmp"}, {"a/" + evil_tmp, Kind::file, "evil"}},
         "\"a\""},
        {"symlink to .. then a file below it",
         {{"a", Kind::symlink, ".."}, {"a/evil", Kind::file, "evil"}},
         "\"a\""},
        {"file below a symlink that stays inside",
         {{"sub", Kind::directory}, {"a", Kind::symlink, "sub"}, {"a/x", Kind::file, "x"}},
         "\"a/x\""},
        {"symlink with an absolute target", {{"l", Kind::symlink, "/etc/passwd"}}, "\"l\""},
        {"symlink leading outside",
         {{"sub", Kind::directory}, {"sub/l", Kind::symlink, "../../outside"}},
         "\"sub/l\""},
        {"symlink climbing through another symlink",
         {{"d/e", Kind::directory},
          {"d/e/b", Kind::symlink, "../.."},
          {"d/e/c", Kind::symlink, "b/../escape"}},
         "\"d/e/c\""},
        {"hardlink to /etc/passwd", {{"h", Kind::hardlink, "/etc/passwd"}}, "\"h\""},
        {"hardlink to ../x", {{"h", Kind::hardlink, "../x"}}, "\"h\""},
        {"hardlink to nothing", {{"h", Kind::hardlink, "missing"}}, "\"h\""},
        {"fifo", {{"ok", Kind::file, "ok"}, {"pipe", Kind::fifo}}, "\"pipe\""},
        {"character device", {{"null", Kind::character_device}}, "\"null\""},
        {"block device", {{"disk", Kind::block_device}}, "\"disk\""},
        {"size bomb",
         {{"a", Kind::file, std::string(600, 'a')}, {"b", Kind::file, std::string(600, 'b')}},
         "\"b\"",
         small_bytes},
        {"compressed size bomb",
         {{"zeros", Kind::file, std::string(4 << 20, '\0')}},
         "\"zeros\"",
         small_bytes,
         Container::tar_gz},
        {"too many entries", six_files, "\"f5\"", few_entries},
        {"zip with dot-dot", {{"../evil", Kind::file, "evil"}}, "../evil", {}, Container::zip},
        {"zip symlink outside", {{"l", Kind::symlink, "../../etc"}}, "\"l\"", {}, Container::zip},
    };
}

TEST(ExtractArchive, RefusesEveryMaliciousArchiveAndWritesNothingOutside) {
    const std::string evil_tmp = unique_tmp_name();
    for (const MaliciousCase& test : malicious_cases(evil_tmp)) {
        SCOPED_TRACE(test.label);
        ScratchDir base;
        const fs::path archive = base.path() / "evil.archive";
        craft(archive, test.specs, test.container);
        const fs::path target = base.path() / "stage/target";
        fs::create_directories(target);
        write_text(base.path() / "stage/x", "precious");
        const auto before = listing_of(base.path());
        std::string message;
        try {
            extract_archive(archive, target, test.limits);
        } catch (const Error& e) {
            message = e.what();
        }
        EXPECT_NE(message.find(archive.string()), std::string::npos) << message;
        EXPECT_NE(message.find(test.entry), std::string::npos) << message;
        auto after = listing_of(base.path());
        std::erase_if(after,
                      [](const auto& item) { return item.first.starts_with("stage/target/"); });
        EXPECT_EQ(after, before);
        EXPECT_EQ(read_text(base.path() / "stage/x"), "precious");
        EXPECT_FALSE(fs::exists(fs::path("/tmp") / evil_tmp));
        EXPECT_FALSE(fs::exists(base.path() / "evil"));
        EXPECT_FALSE(fs::exists(base.path() / "stage/evil"));
        if (test.label.find("size bomb") != std::string::npos) {
            std::uint64_t written = 0;
            for (const auto& entry : fs::recursive_directory_iterator(target)) {
                written += entry.is_regular_file() ? entry.file_size() : 0;
            }
            EXPECT_LE(written, test.limits.max_total_bytes);
        }
        std::string listed;
        try {
            list_archive(archive);
        } catch (const Error& e) {
            listed = e.what();
        }
        if (test.limits.max_entries == ExtractLimits{}.max_entries &&
            test.limits.max_total_bytes == UINT64_MAX) {
            EXPECT_NE(listed.find(test.entry), std::string::npos) << "list: " << listed;
        }
    }
}

// Zip keeps sizes in the central directory; a zip that claims 10 bytes but inflates to 4 MiB
// is stopped by the bytes really written, not by the claim.
TEST(ExtractArchive, CountsTheBytesWrittenNotTheSizeTheHeaderClaims) {
    ScratchDir base;
    const fs::path archive = base.path() / "liar.zip";
    craft(archive, {{"zeros", Kind::file, std::string(4 << 20, '\0')}}, Container::zip);
    std::string bytes = read_text(archive);
    const std::size_t end = bytes.size() - 22;
    ASSERT_EQ(bytes.compare(end, 4, "PK\5\6"), 0);
    const std::size_t central = static_cast<unsigned char>(bytes[end + 16]) |
                                static_cast<unsigned char>(bytes[end + 17]) << 8 |
                                static_cast<unsigned char>(bytes[end + 18]) << 16;
    ASSERT_EQ(bytes.compare(central, 4, "PK\1\2"), 0);
    const std::string ten("\x0a\0\0\0", 4);
    bytes.replace(22, 4, ten);  // the local header
    bytes.replace(central + 24, 4, ten);
    const std::size_t descriptor = bytes.rfind("PK\7\x08", central);
    ASSERT_NE(descriptor, std::string::npos);
    bytes.replace(descriptor + 12, 4, ten);
    write_text(archive, bytes);
    ASSERT_EQ(list_archive(archive).at(0).size, 10u) << "the header now lies";
    ExtractLimits limits;
    limits.max_total_bytes = 1 << 20;
    fs::create_directories(base.path() / "target");
    try {
        extract_archive(archive, base.path() / "target", limits);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("\"zeros\""), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(base.path() / "target/zeros")) << "the partial file is removed";
}

TEST(ExtractArchive, CorruptContentIsAnErrorNamingTheEntry) {
    ScratchDir base;
    write_text(base.path() / "src/payload.bin", testing::random_bytes(100000, 5));
    for (ArchiveFormat format : {ArchiveFormat::sevenzip, ArchiveFormat::zip}) {
        SCOPED_TRACE(std::string(extension(format)));
        const fs::path archive = base.path() / ("corrupt." + std::string(extension(format)));
        WriteOptions options;
        options.format = format;
        options.level = 0;
        write_archive(archive, collect_tree(base.path() / "src", ""), options);
        std::string bytes = read_text(archive);
        bytes[50000] = static_cast<char>(bytes[50000] ^ 0x5a);  // inside the stored payload
        write_text(archive, bytes);
        const fs::path target = base.path() / ("x-" + std::string(extension(format)));
        fs::create_directories(target);
        try {
            extract_archive(archive, target);
            FAIL() << "expected an error";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(archive.string()), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("\"payload.bin\""), std::string::npos) << e.what();
        }
    }
}

TEST(ExtractArchive, RefusesToWriteThroughASymlinkAlreadyInTheTarget) {
    ScratchDir base;
    fs::create_directories(base.path() / "outside");
    fs::create_directories(base.path() / "target");
    fs::create_directory_symlink(base.path() / "outside", base.path() / "target/a");
    const fs::path archive = base.path() / "a.tar";
    craft(archive, {{"a/x", Kind::file, "x"}});
    try {
        extract_archive(archive, base.path() / "target");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("\"a/x\""), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::is_empty(base.path() / "outside"));
}

TEST(ExtractArchive, NormalisesModesAndReplacesExistingFiles) {
    ScratchDir base;
    const fs::path archive = base.path() / "modes.tar";
    craft(archive, {{"./", Kind::directory, "", 0755},
                    {"./bin", Kind::directory, "", 0700},
                    {"./bin/setuid", Kind::file, "s", 04755},
                    {"./private", Kind::file, "p", 0600},
                    {"./replaced", Kind::file, "new", 0644},
                    {"./was-link", Kind::file, "file now", 0644},
                    {"./hard", Kind::hardlink, "replaced"},
                    {"./dir/link", Kind::symlink, "../replaced"}});
    const fs::path target = base.path() / "target";
    write_text(target / "replaced", "old content");
    fs::create_symlink("/etc/passwd", target / "was-link");
    std::vector<ExtractedEntry> entries = extract_archive(archive, target);
    auto mode_of = [&](const char* name) {
        struct stat st {};
        ::lstat((target / name).c_str(), &st);
        return st.st_mode & 07777;
    };
    EXPECT_EQ(mode_of("bin/setuid"), 0755u);
    EXPECT_EQ(mode_of("private"), 0644u);
    EXPECT_EQ(read_text(target / "replaced"), "new");
    EXPECT_FALSE(fs::is_symlink(target / "was-link"));
    EXPECT_EQ(read_text(target / "was-link"), "file now");
    EXPECT_TRUE(fs::equivalent(target / "hard", target / "replaced"));
    EXPECT_EQ(fs::read_symlink(target / "dir/link"), "../replaced");
    struct stat st {};
    ASSERT_EQ(::stat((target / "private").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtime, 1700000000);
    ASSERT_EQ(entries.size(), 7u) << "the root entry is not reported";
    EXPECT_EQ(entries[0].path, "bin");
    EXPECT_EQ(entries[0].type, ExtractedEntry::Type::directory);
    EXPECT_EQ(entries[1].path, "bin/setuid");
    EXPECT_EQ(entries[1].size, 1u);
    EXPECT_EQ(entries[5].type, ExtractedEntry::Type::hardlink);
    EXPECT_EQ(entries[6].type, ExtractedEntry::Type::symlink);
}

TEST(ListArchive, ListsWithoutWriting) {
    ScratchDir base;
    const fs::path archive = base.path() / "list.tar.gz";
    craft(archive,
          {{"d", Kind::directory}, {"d/f", Kind::file, "12345"}, {"d/l", Kind::symlink, "f"}},
          Container::tar_gz);
    std::vector<ExtractedEntry> entries = list_archive(archive);
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[1].path, "d/f");
    EXPECT_EQ(entries[1].size, 5u);
    EXPECT_EQ(entries[2].type, ExtractedEntry::Type::symlink);
    EXPECT_EQ(listing_of(base.path()).size(), 1u);
}

TEST(IsArchive, DecidesByContentNotByName) {
    ScratchDir dir;
    write_text(dir.path() / "src/a.txt", "hello");
    WriteOptions options;
    write_archive(dir.path() / "real.7z", collect_tree(dir.path() / "src", ""), options);
    fs::rename(dir.path() / "real.7z", dir.path() / "renamed.bin");
    EXPECT_TRUE(is_archive(dir.path() / "renamed.bin"));

    write_text(dir.path() / "x.zip", "just some text, not a zip\n");
    EXPECT_FALSE(is_archive(dir.path() / "x.zip"));

    std::unique_ptr<struct archive, decltype(&archive_write_free)> gz(archive_write_new(),
                                                                      &archive_write_free);
    archive_write_set_format_raw(gz.get());
    archive_write_add_filter_gzip(gz.get());
    ASSERT_EQ(archive_write_open_filename(gz.get(), (dir.path() / "text.tar.gz").c_str()),
              ARCHIVE_OK);
    std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                               &archive_entry_free);
    archive_entry_set_pathname(entry.get(), "text");
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_write_header(gz.get(), entry.get());
    archive_write_data(gz.get(), "plain text inside gzip\n", 23);
    archive_write_close(gz.get());
    EXPECT_FALSE(is_archive(dir.path() / "text.tar.gz"));

    options.format = ArchiveFormat::tar_zst;
    write_archive(dir.path() / "real.tar.zst", collect_tree(dir.path() / "src", ""), options);
    EXPECT_TRUE(is_archive(dir.path() / "real.tar.zst"));

    options.format = ArchiveFormat::tar;
    write_archive(dir.path() / "real.tar", collect_tree(dir.path() / "src", ""), options);
    EXPECT_TRUE(is_archive(dir.path() / "real.tar"));

    // An empty tar cannot be told from a file of zeros: both are data, never a prebuilt archive.
    write_archive(dir.path() / "empty.tar", {}, options);
    EXPECT_FALSE(is_archive(dir.path() / "empty.tar"));
    write_text(dir.path() / "zeros.bin", std::string(10240, '\0'));
    EXPECT_FALSE(is_archive(dir.path() / "zeros.bin"));
    options.format = ArchiveFormat::tar_gz;
    write_archive(dir.path() / "empty.tar.gz", {}, options);
    EXPECT_FALSE(is_archive(dir.path() / "empty.tar.gz"));
    // A signature alone is not enough: the header after it must be readable.
    write_text(dir.path() / "fake.7z", std::string("7z\xBC\xAF\x27\x1C") + std::string(100, 'x'));
    EXPECT_FALSE(is_archive(dir.path() / "fake.7z"));

    write_text(dir.path() / "empty-file", "");
    EXPECT_FALSE(is_archive(dir.path() / "empty-file"));
    EXPECT_FALSE(is_archive(dir.path() / "missing"));
}

TEST(ContentSize, SumsRegularFilesOnly) {
    ScratchDir dir;
    const fs::path archive = dir.path() / "sizes.tar";
    craft(archive, {{"d", Kind::directory},
                    {"d/a", Kind::file, "123"},
                    {"d/b", Kind::file, std::string(1000, 'b')},
                    {"d/l", Kind::symlink, "a"},
                    {"d/h", Kind::hardlink, "d/a"}});
    EXPECT_EQ(content_size(archive), 1003u);
    write_text(dir.path() / "text", "not an archive");
    EXPECT_THROW(content_size(dir.path() / "text"), Error);
}

}  // namespace
TEST(ExtractArchive, ReportsEachFilesDigestModeAndLinkTarget) {
    ScratchDir base;
    const fs::path archive = base.path() / "record.tar";
    craft(archive, {{"bin", Kind::directory, "", 0755},
                    {"bin/tool", Kind::file, "#!/bin/sh\n", 0755},
                    {"readme.txt", Kind::file, "hello\n", 0644},
                    {"current", Kind::symlink, "bin/tool"},
                    {"copy.txt", Kind::hardlink, "readme.txt"}});
    const fs::path target = base.path() / "target";
    fs::create_directories(target);
    std::vector<ExtractedEntry> entries = extract_archive(archive, target);
    ASSERT_EQ(entries.size(), 5u);
    EXPECT_EQ(entries[1].path, "bin/tool");
    EXPECT_TRUE(entries[1].executable);
    EXPECT_EQ(entries[1].sha256, core::sha256_hex(read_text(target / "bin/tool")));
    EXPECT_EQ(entries[2].sha256, core::sha256_hex("hello\n"));
    EXPECT_EQ(entries[2].size, 6u);
    EXPECT_FALSE(entries[2].executable);
    EXPECT_EQ(entries[3].link, "bin/tool");
    EXPECT_EQ(entries[4].link, "readme.txt");
}

namespace {

// An archive inside a larger file (an installer's payload): read from its span alone, whatever
// comes before and after, the 7z format (whose header is at its end) included.
TEST(ArchiveSpan, ExtractsAndReadsAnArchiveInsideAnotherFile) {
    ScratchDir dir;
    write_text(dir.path() / "in" / "a.txt", "alpha");
    write_text(dir.path() / "in" / "sub" / "b.txt", "beta");
    for (const ArchiveFormat format : {ArchiveFormat::sevenzip, ArchiveFormat::tar}) {
        const fs::path archive = dir.path() / "a.archive";
        WriteOptions options;
        options.format = format;
        write_archive(archive, collect_tree(dir.path() / "in", ""), options);
        const std::string bytes = read_text(archive);
        const std::string before(3000, 'x');
        write_text(dir.path() / "whole", before + bytes + std::string(100, 'y'));
        const ArchiveSpan span{before.size(), bytes.size()};

        const fs::path out = dir.path() / ("out-" + std::string(extension(format)));
        fs::create_directories(out);
        extract_archive(dir.path() / "whole", out, {}, span);
        EXPECT_EQ(read_text(out / "a.txt"), "alpha");
        EXPECT_EQ(read_text(out / "sub" / "b.txt"), "beta");
        const auto entry = read_entry(
            dir.path() / "whole", [](std::string_view path) { return path == "sub/b.txt"; }, 100,
            span);
        ASSERT_TRUE(entry.has_value());
        EXPECT_EQ(entry->second, "beta");
        // A span past the end of the file is an error naming the file.
        EXPECT_THROW(extract_archive(dir.path() / "whole", out, {}, {1u << 30, 10}), Error);
    }
}

}  // namespace

}  // namespace ferry::archive
