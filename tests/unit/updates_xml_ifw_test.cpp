// Updates.xml files from IFW's own tests (../shared/ifw-reference) read by ferry's reader: every
// one parses, and the fields IFW's tests rely on come out as IFW means them.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "formats/updates_xml.hpp"
#include "support/test_support.hpp"

namespace ferry::formats {
namespace {

namespace fs = std::filesystem;

// IFW's own test repositories, kept in ../shared beside the project (not part of a clone).
const fs::path kIfwReference = fs::path(FERRY_SOURCE_DIR "/../shared/ifw-reference/updates-xml");

RepositoryIndex read_ifw(const std::string& relative) {
    const fs::path path = kIfwReference / relative / "Updates.xml";
    return parse_updates_xml(testing::read_text(path), path.string());
}

class IfwReference : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!fs::is_directory(kIfwReference)) {
            GTEST_SKIP() << kIfwReference << " does not exist (IFW's reference files live in "
                         << "../shared beside the main checkout only)";
        }
    }
};

TEST_F(IfwReference, EveryUpdatesXmlParses) {
    int count = 0;
    for (const auto& entry : fs::recursive_directory_iterator(kIfwReference)) {
        if (entry.is_regular_file() && entry.path().filename() == "Updates.xml") {
            ++count;
            SCOPED_TRACE(entry.path().string());
            EXPECT_NO_THROW(
                parse_updates_xml(testing::read_text(entry.path()), entry.path().string()));
        }
    }
    EXPECT_GE(count, 40) << "fewer reference files than expected under " << kIfwReference;
}

TEST_F(IfwReference, RepositoryActions) {
    const RepositoryIndex add = read_ifw("installer/metadatajob/repositoryActionAdd");
    ASSERT_EQ(add.repository_updates.size(), 1u);
    EXPECT_EQ(add.repository_updates[0].kind, RepositoryAction::Kind::add);
    EXPECT_EQ(add.repository_updates[0].url, "../repository");
    EXPECT_EQ(add.repository_updates[0].display_name, "Example repository");
    const RepositoryIndex remove = read_ifw("installer/metadatajob/repositoryActionRemove");
    ASSERT_EQ(remove.repository_updates.size(), 1u);
    EXPECT_EQ(remove.repository_updates[0].kind, RepositoryAction::Kind::remove);
    EXPECT_EQ(remove.repository_updates[0].url, "../repository");
}

TEST_F(IfwReference, ContentSha1) {
    const RepositoryIndex index = read_ifw("installer/contentshaupdate/repository");
    EXPECT_FALSE(index.checksum);
    ASSERT_NE(index.find("componentA"), nullptr);
    EXPECT_EQ(index.find("componentA")->component.content_sha1, "10");
    EXPECT_EQ(index.find("componentB")->component.content_sha1, "");
    EXPECT_EQ(index.find("componentA")->component.sorting_priority, 100);
    EXPECT_EQ(index.find("componentA")->compressed_size, 283u);
}

TEST_F(IfwReference, UnitedMetadataAtTheRoot) {
    const RepositoryIndex index = read_ifw("tools/repotest/repository_componentAndUnite");
    EXPECT_EQ(index.metadata_sha1, "d674e6574895c02d3a02fb97a46b159d35f17c68");
    EXPECT_EQ(index.metadata_name, "2020-11-10-0816_meta.7z");
    ASSERT_EQ(index.packages.size(), 2u);
    EXPECT_EQ(index.find("A")->component.script, "script2.0.0.qs");
    EXPECT_EQ(index.find("A")->meta_sha1, "11f74e8fbc7d6c155dd6503c460c2c1955340cc1");
}

TEST_F(IfwReference, TreeNames) {
    const RepositoryIndex index = read_ifw("installer/treename/repository_children");
    EXPECT_EQ(index.find("componentA")->component.tree_name, (TreeName{"componentANew", true}));
    EXPECT_FALSE(index.find("componentA.subcomponent1")->component.tree_name.has_value());
    EXPECT_EQ(index.find("componentM")->component.replaces, std::vector<std::string>{"componentL"});
    const RepositoryIndex plain = read_ifw("installer/treename/repository");
    EXPECT_EQ(plain.find("componentA.sub2")->component.tree_name, (TreeName{"ASub2ToRoot", false}));
}

TEST_F(IfwReference, LicensesAndUserInterfaces) {
    const RepositoryIndex index = read_ifw("installer/createoffline/repository-bothmeta-license");
    ASSERT_EQ(index.packages.size(), 1u);
    EXPECT_EQ(index.packages[0].component.licenses,
              (std::vector<License>{{"Creative Commons (CC0 1.0)", "cc0.txt", ""},
                                    {"GNU GENERAL PUBLIC LICENSE Version 3", "gpl3.txt", ""}}));
    EXPECT_EQ(index.metadata_name, "2020-12-01-1511_meta.7z");
    const RepositoryIndex ui = read_ifw("installer/createoffline/repository-bothmeta-userinteface");
    EXPECT_EQ(ui.packages[0].component.user_interfaces,
              std::vector<std::string>{"readmecheckboxform.ui"});
}

}  // namespace
}  // namespace ferry::formats
