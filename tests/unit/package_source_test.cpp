// How data/ becomes archives (IFW's layout) and which meta files ship, on real directories.
#include "repo/package_source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/test_support.hpp"

namespace ferry::repo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> entry_names(const std::vector<archive::ArchiveInput>& inputs) {
    std::vector<std::string> names;
    for (const auto& input : inputs) {
        names.push_back(input.entry_name);
    }
    return names;
}

TEST(PlanDataArchives, LooseFilesGoToContentAndEachTopDirectoryToItsOwnArchive) {
    core::ScratchDir dir;
    const fs::path data = dir.path() / "data";
    testing::write_text(data / "readme.txt", "r");
    testing::write_text(data / "bin/tool", "t");
    testing::write_text(data / "bin/sub/more", "m");
    testing::write_text(data / "share/x", "x");
    fs::create_symlink("readme.txt", data / "link");
    archive::write_archive(dir.path() / "prebuilt.tar.gz",
                           archive::collect_tree(data / "share", ""),
                           {archive::ArchiveFormat::tar_gz, 5, 0, {}, {}});
    fs::rename(dir.path() / "prebuilt.tar.gz", data / "payload.bin");

    auto plans = plan_data_archives(data, archive::ArchiveFormat::zip, "a");
    ASSERT_EQ(plans.size(), 4u);
    EXPECT_EQ(plans[0].name, "bin.zip");
    EXPECT_THAT(entry_names(plans[0].inputs),
                ElementsAre("bin", "bin/sub", "bin/sub/more", "bin/tool"));
    EXPECT_EQ(plans[1].name, "content.zip");
    EXPECT_THAT(entry_names(plans[1].inputs), ElementsAre("link", "readme.txt"));
    EXPECT_EQ(plans[2].name, "payload.bin") << "an archive is recognised by content, not name";
    EXPECT_EQ(plans[2].prebuilt, data / "payload.bin");
    EXPECT_TRUE(plans[2].inputs.empty());
    EXPECT_EQ(plans[3].name, "share.zip");
}

TEST(PlanDataArchives, NoDataDirectoryMeansNoArchives) {
    core::ScratchDir dir;
    EXPECT_TRUE(
        plan_data_archives(dir.path() / "data", archive::ArchiveFormat::sevenzip, "a").empty());
}

TEST(PlanDataArchives, ClashingArchiveNamesAreAnError) {
    core::ScratchDir dir;
    const fs::path data = dir.path() / "data";
    testing::write_text(data / "loose.txt", "l");
    testing::write_text(data / "content/inner.txt", "i");
    try {
        plan_data_archives(data, archive::ArchiveFormat::sevenzip, "com.example.a");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("content.7z"));
        EXPECT_THAT(e.what(), HasSubstr("com.example.a"));
    }
}

TEST(PlanMetaFiles, ShipsMetaFilesButPackageXmlAndChecksReferencedFiles) {
    core::ScratchDir dir;
    const fs::path meta = dir.path() / "meta";
    testing::write_text(meta / "package.xml", "<Package/>");
    testing::write_text(meta / "script.qs", "s");
    testing::write_text(meta / "de.qm", "t");
    formats::ComponentDescription component;
    component.name = "a";
    component.script = "script.qs";
    component.translations = {"de.qm"};
    EXPECT_THAT(entry_names(plan_meta_files(meta, component, false)),
                ElementsAre("a", "a/de.qm", "a/script.qs"));
    EXPECT_THAT(entry_names(plan_meta_files(meta, component, true)),
                ElementsAre("a", "a/script.qs"));

    component.licenses = {{"License", "missing.txt", ""}};
    try {
        plan_meta_files(meta, component, false);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("package.xml"));
        EXPECT_THAT(e.what(), HasSubstr("License file \"missing.txt\" not found"));
    }
}

TEST(Selection, IncludeAndExclude) {
    EXPECT_TRUE(is_selected("a", {}, {}));
    EXPECT_TRUE(is_selected("a", {"a"}, {}));
    EXPECT_FALSE(is_selected("b", {"a"}, {}));
    EXPECT_FALSE(is_selected("a", {}, {"a"}));
    EXPECT_FALSE(is_selected("a", {"a"}, {"a"}));
}

}  // namespace
}  // namespace ferry::repo
