// An installer's configuration (IFW's config.xml, its variables, its JSON form) and the file
// format of installers: ferry's bytes, a payload and a trailer, checked before anything is used.
#include "installer/payload.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "core/error.hpp"
#include "core/files.hpp"
#include "installer/config.hpp"
#include "installer/maintenance.hpp"
#include "support/test_support.hpp"

namespace ferry::installer {
namespace {

using ferry::testing::error_of;
using ferry::testing::read_text;
using ferry::testing::write_text;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fs::path kConfig = fs::path(FERRY_TEST_DATA) / "installer" / "config" / "config.xml";

std::string config_xml(const std::string& inside) {
    return "<?xml version=\"1.0\"?>\n<Installer>\n" + inside + "</Installer>\n";
}

TEST(InstallerConfig, ReadsIfwConfigAndNamesWhatItIgnores) {
    const ConfigXml read = read_config_xml(kConfig);
    const InstallerConfig& c = read.config;
    EXPECT_EQ(c.name, "Example Suite");
    EXPECT_EQ(c.version, "2.1.0");
    EXPECT_EQ(c.title, "Example Suite Installer");
    EXPECT_EQ(c.publisher, "Example Ltd.");
    EXPECT_EQ(c.product_url, "https://example.com/suite");
    EXPECT_EQ(c.target_dir, "@HomeDir@/ExampleSuite");
    EXPECT_EQ(c.admin_target_dir, "@ApplicationsDir@/ExampleSuite");
    EXPECT_EQ(c.maintenance_tool_name, "SuiteMaintenance");
    ASSERT_EQ(c.repositories.size(), 1u);
    EXPECT_EQ(c.repositories[0].url, "https://updates.example.com/suite");
    EXPECT_FALSE(c.repositories[0].enabled);
    EXPECT_EQ(c.repositories[0].username, "builder");
    EXPECT_EQ(c.repositories[0].password, "s3cret");
    EXPECT_EQ(c.repositories[0].display_name, "Example Suite updates");
    EXPECT_THAT(read.ignored, ElementsAre("InstallerApplicationIcon", "WizardStyle", "StartMenuDir",
                                          "ControlScript"));
    EXPECT_TRUE(read.unknown.empty());
}

TEST(InstallerConfig, DefaultsAndUnknownElements) {
    const ConfigXml read = parse_config_xml(
        config_xml("<Name>Tool</Name><Version>1</Version><Colour>red</Colour>"), "c.xml");
    EXPECT_EQ(read.config.title, "Tool");
    EXPECT_EQ(read.config.maintenance_tool_name, "maintenancetool");
    EXPECT_THAT(read.unknown, ElementsAre("Colour"));
}

TEST(InstallerConfig, RefusesWhatCannotWork) {
    EXPECT_THAT(error_of([] { parse_config_xml(config_xml("<Version>1</Version>"), "c.xml"); }),
                HasSubstr("no Name"));
    EXPECT_THAT(error_of([] { parse_config_xml("<Installer><Name>x</Name>", "c.xml"); }),
                HasSubstr("c.xml:1: malformed XML"));
    EXPECT_THAT(error_of([] { parse_config_xml("<Package><Name>x</Name></Package>", "c.xml"); }),
                HasSubstr("not IFW's <Installer>"));
    for (const char* tool : {"../evil", "a/b", ".hidden", "components.xml", ".."}) {
        EXPECT_THAT(error_of([&] {
                        parse_config_xml(config_xml(std::string("<Name>x</Name>"
                                                                "<MaintenanceToolName>") +
                                                    tool + "</MaintenanceToolName>"),
                                         "c.xml");
                    }),
                    HasSubstr("MaintenanceToolName"))
            << tool;
    }
    EXPECT_THAT(error_of([] {
                    parse_config_xml(config_xml("<Name>x</Name><RemoteRepositories><Repository>"
                                                "<Url>ftp://h/r</Url></Repository>"
                                                "</RemoteRepositories>"),
                                     "c.xml");
                }),
                HasSubstr("c.xml:"));
    EXPECT_THAT(error_of([] {
                    parse_config_xml(config_xml("<Name>x</Name><RemoteRepositories><Repository>"
                                                "<Url>http://h/r</Url><Enabled>maybe</Enabled>"
                                                "</Repository></RemoteRepositories>"),
                                     "c.xml");
                }),
                HasSubstr("Enabled \"maybe\""));
}

TEST(InstallerConfig, ExpandsIfwVariables) {
    InstallerConfig config;
    config.name = "Suite";
    config.version = "2.0";
    ::setenv("HOME", "/home/user", 1);
    EXPECT_EQ(expand_variables("@HomeDir@/@ProductName@-@ProductVersion@", config, "/d/i.run"),
              "/home/user/Suite-2.0");
    EXPECT_EQ(expand_variables("@ApplicationsDir@/x", config, "/d/i.run"), "/opt/x");
    EXPECT_EQ(expand_variables("@InstallerDirPath@/t", config, "/d/i.run"), "/d/t");
    EXPECT_EQ(expand_variables("a@b", config, "/d/i.run"), "a@b");
    EXPECT_THAT(error_of([&] { expand_variables("@Nope@/x", config, "/d/i.run"); }),
                HasSubstr("unknown variable @Nope@"));
    config.target_dir = "relative/dir";
    EXPECT_EQ(default_target(config, "/d/i.run"), fs::current_path() / "relative" / "dir");
    config.target_dir.clear();
    EXPECT_EQ(default_target(config, "/d/i.run"), fs::path("/home/user/Suite"));
}

TEST(InstallerConfig, JsonRoundTripAndHostileJson) {
    InstallerConfig config = read_config_xml(kConfig).config;
    config.market = {"http://127.0.0.1:9/", "demo@2", "token"};
    EXPECT_EQ(config_from_json(to_json(config), "j"), config);
    nlohmann::json bad = to_json(config);
    bad["maintenance_tool_name"] = "../../etc/passwd";
    EXPECT_THAT(error_of([&] { config_from_json(bad, "i.run"); }),
                HasSubstr("MaintenanceToolName"));
    bad = to_json(config);
    bad.erase("name");
    EXPECT_THAT(error_of([&] { config_from_json(bad, "i.run"); }),
                HasSubstr("i.run: not an installer configuration"));
    EXPECT_THAT(error_of([] { parse_manifest("{\"format\":\"other/9\"}", "m.json"); }),
                HasSubstr("is not ferry-installer/1"));
}

class InstallerFile : public ::testing::Test {
  protected:
    InstallerFile() {
        // A real executable as the base: what an installer starts with.
        fs::copy_file("/bin/true", base());
    }
    fs::path base() const { return scratch_.path() / "base"; }
    fs::path at(const std::string& name) const { return scratch_.path() / name; }

    Manifest manifest(bool offline) const {
        Manifest m;
        m.config.name = "Demo";
        m.config.version = "1.0";
        m.config.title = "Demo";
        m.offline = offline;
        return m;
    }

    // An installer whose payload carries a small repository.
    fs::path make_installer() {
        write_text(at("repo/Updates.xml"), "<Updates/>\n");
        write_text(at("repo/a/1.0content.7z"), "content");
        write_payload(at("payload.tar"), manifest(true), at("repo"));
        write_executable(base(), at("payload.tar"), at("i.run"));
        return at("i.run");
    }

    static void flip_byte(const fs::path& file, std::uint64_t from_end) {
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(-static_cast<std::streamoff>(from_end), std::ios::end);
        char c = 0;
        f.get(c);
        f.seekp(-static_cast<std::streamoff>(from_end), std::ios::end);
        f.put(static_cast<char>(c ^ 1));
    }

  private:
    core::ScratchDir scratch_;
};

TEST_F(InstallerFile, PlainExecutableHasNoPayload) {
    EXPECT_FALSE(open_payload(base()).has_value());
    EXPECT_EQ(own_size(base()), fs::file_size(base()));
}

TEST_F(InstallerFile, CarriesManifestAndRepository) {
    const fs::path installer = make_installer();
    const auto payload = open_payload(installer);
    ASSERT_TRUE(payload.has_value());
    EXPECT_EQ(payload->manifest, manifest(true));
    EXPECT_EQ(payload->offset, fs::file_size(base()));
    EXPECT_EQ(payload->size, fs::file_size(at("payload.tar")));
    EXPECT_EQ(own_size(installer), fs::file_size(base()));
    EXPECT_EQ(fs::status(installer).permissions() & fs::perms::owner_exec, fs::perms::owner_exec);
    // The installer still runs as the program it starts with.
    EXPECT_EQ(ferry::testing::run({installer.string()}).exit_code, 0);

    fs::create_directory(at("out"));
    extract_repository(*payload, at("out"));
    EXPECT_EQ(read_text(at("out/repository/a/1.0content.7z")), "content");
    EXPECT_EQ(read_text(at("out/repository/Updates.xml")), "<Updates/>\n");

    // An installer made from an installer starts with the same program, not with the first
    // installer's payload.
    write_payload(at("small.tar"), manifest(false), std::nullopt);
    write_executable(installer, at("small.tar"), at("tool"));
    EXPECT_EQ(own_size(at("tool")), fs::file_size(base()));
    EXPECT_FALSE(open_payload(at("tool"))->manifest.offline);
}

TEST_F(InstallerFile, DamagedPayloadIsRefused) {
    const fs::path installer = make_installer();
    flip_byte(installer, kTrailerSize + 700);
    EXPECT_THAT(error_of([&] { open_payload(installer); }),
                HasSubstr(installer.string() + " is damaged: its payload's SHA-256 is"));
}

TEST_F(InstallerFile, TrailerThatLiesAboutTheSizeIsRefused) {
    const fs::path installer = make_installer();
    // The size field's highest byte: a payload larger than the file.
    flip_byte(installer, kTrailerSize - 16 - 7);
    EXPECT_THAT(error_of([&] { open_payload(installer); }), HasSubstr("more than the file holds"));
}

TEST_F(InstallerFile, InstallerCutShortIsRefused) {
    const fs::path installer = make_installer();
    fs::resize_file(installer, fs::file_size(installer) - 100);
    EXPECT_THAT(error_of([&] { open_payload(installer); }),
                HasSubstr("do not end with an installer's trailer"));
}

TEST_F(InstallerFile, MaintenanceToolNeverReplacesAnotherFile) {
    const fs::path installer = make_installer();
    const auto payload = open_payload(installer);
    fs::create_directories(at("target/.ferry"));
    write_text(at("target/maintenancetool"), "a component's file");
    EXPECT_THAT(error_of([&] { write_maintenance_tool(*payload, at("target")); }),
                HasSubstr("is not a maintenance tool"));
    EXPECT_EQ(read_text(at("target/maintenancetool")), "a component's file");

    fs::remove(at("target/maintenancetool"));
    const fs::path tool = write_maintenance_tool(*payload, at("target"));
    const auto written = open_payload(tool);
    ASSERT_TRUE(written.has_value());
    EXPECT_EQ(written->manifest.kind, PayloadKind::maintenance_tool);
    EXPECT_FALSE(written->manifest.offline);
    // Written again over itself: a second install refreshes it.
    EXPECT_EQ(write_maintenance_tool(*payload, at("target")), tool);
}

TEST(InstallerSettings, RemoteRepositoriesJoinWithoutReplacingKnownOnes) {
    InstallerConfig config;
    config.repositories.push_back({"http://a/r", 0, "A", false, "u", "p"});
    config.repositories.push_back({"http://b/r", 0, "B", true, "", ""});
    client::Settings settings;
    settings.repositories.push_back({"http://b/r", 5, "mine", true, "", ""});
    add_remote_repositories(settings, config);
    ASSERT_EQ(settings.repositories.size(), 2u);
    EXPECT_EQ(settings.repositories[0].display_name, "mine");
    EXPECT_EQ(settings.repositories[0].priority, 5);
    EXPECT_EQ(settings.repositories[1], config.repositories[0]);
}

}  // namespace
}  // namespace ferry::installer
