// End-to-end: the client against repositories that are hostile or careless: an index without
// end, text that would drive the terminal, a download the user cancels half way, and an update
// whose publisher forgot to raise ReleaseDate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/client_faults_support.hpp"
#include "support/stand_in_server.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// --- An index without end: cut at the bound, with the setting named. ---

TEST_F(ClientFaults, EndlessUpdatesXmlIsCutAtTheBound) {
    StandInServer server([](httplib::Server& s) {
        s.Get("/repo/Updates.xml", [](const httplib::Request&, httplib::Response& response) {
            serve_endless(response, "text/xml");
        });
    });
    const std::string index = server.url("repo/Updates.xml");
    auto r = ferry({"install", "--root", target().string(), "--repo", server.url("repo"), "a"},
                   {{"FERRY_MAX_INDEX_SIZE", "2M"}});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(index + ": larger than the 2097152 bytes allowed "
                                         "(FERRY_MAX_INDEX_SIZE raises the bound)"));
    // The documented default.
    r = ferry({"repos", "add", "--root", target().string(), server.url("repo")});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = ferry({"check-updates", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(index + ": larger than the 67108864 bytes allowed"));

    r = ferry({"check-updates", "--root", target().string()}, {{"FERRY_MAX_INDEX_SIZE", "lots"}});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("FERRY_MAX_INDEX_SIZE=\"lots\" is not a size"));
}

// --- Text from the repository never drives the terminal or breaks components.xml. ---

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

TEST_F(ClientFaults, ControlCharactersInTitlesAreReplaced) {
    // A package.xml may write them as references: repogen reads them as U+FFFD.
    set_package("com.evil", "1.0", v1_);
    write_text(packages() / "com.evil/meta/package.xml",
               "<?xml version=\"1.0\"?>\n<Package>\n <DisplayName>Bell&#7;Title</DisplayName>\n"
               " <Description>d</Description>\n <Version>1.0</Version>\n"
               " <ReleaseDate>2026-01-01</ReleaseDate>\n</Package>\n");
    publish();
    EXPECT_THAT(read_text(repo() / "Updates.xml"),
                HasSubstr("<DisplayName>Bell" + std::string(kReplacement) + "Title</DisplayName>"));

    // A hostile repository writes them raw into its index: an escape sequence that sets the
    // terminal's title and turns the text red, and a bell.
    std::string index = read_text(repo() / "Updates.xml");
    const std::string shown = "Bell" + std::string(kReplacement) + "Title";
    index.replace(index.find(shown), shown.size(), "Evil\x1b]0;owned\x07\x1b[31mApp");
    write_text(repo() / "Updates.xml", index);
    const std::string replaced = "Evil" + std::string(kReplacement) + "]0;owned" +
                                 std::string(kReplacement) + std::string(kReplacement) + "[31mApp";

    auto r = ferry({"install", "--root", target().string(), "--repo", repo_url(), "com.evil"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(read_text(target() / "components.xml"),
                HasSubstr("<Title>" + replaced + "</Title>"));
    r = ferry({"list", "--root", target().string()});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("com.evil 1.0  " + replaced));
    r = ferry({"search", "--root", target().string(), "evil"});
    EXPECT_THAT(r.out, HasSubstr(replaced));

    // The same title on an update: check-updates in every form.
    set_package("com.evil", "2.0", v2_);
    publish();
    index = read_text(repo() / "Updates.xml");
    index.replace(index.find("com.evil</DisplayName>"), 8, "\x1b[2J\x07");
    write_text(repo() / "Updates.xml", index);
    for (const auto& form : std::vector<std::string>{"--xml", "--json", "-v"}) {
        r = ferry({"check-updates", "--root", target().string(), form});
        EXPECT_EQ(r.exit_code, 0) << form << ": " << describe(r);
        EXPECT_THAT(r.out + r.err, HasSubstr("com.evil")) << form;
        EXPECT_THAT(r.out + r.err, Not(HasSubstr("\x1b"))) << form;
        EXPECT_THAT(r.out + r.err, Not(HasSubstr("\x07"))) << form;
    }
    r = ferry({"update", "--root", target().string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(recorded_version(target(), "com.evil"), "2.0");
    EXPECT_THAT(read_text(target() / "components.xml"), Not(HasSubstr("\x1b")));
    expect_verifies(target());
}

// --- Ctrl-C or SIGTERM during a download. ---

class ClientCancel : public ClientFaults, public ::testing::WithParamInterface<int> {};

// The first request for an archive trickles (as a slow link would); a resumed one (with Range)
// is served at full speed, so that the rerun shows it continued the .part.
constexpr const char* kTrickle =
    "location ~ \\.7z$ { if ($http_range = \"\") { set $limit_rate 64k; } }\n";

fs::path find_part(const fs::path& downloads) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(downloads, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->path().extension() == ".part") {
            return it->path();
        }
    }
    return {};
}

TEST_P(ClientCancel, StopsWithinASecondKeepsThePartAndTheRerunResumes) {
    const std::string payload = random_bytes(3 << 20, 7);  // random: stored, ~48 s at 64 KiB/s
    set_package("com.big", "1.0", {{"big.bin", payload}});
    publish();
    NginxServer server(repo(), kTrickle);
    const fs::path part_dir = target() / ".ferry" / "downloads";
    Background install(
        {FERRY_BINARY, "install", "--root", target().string(), "--repo", server.url(), "com.big"},
        root() / "install");
    ASSERT_TRUE(install.started());

    // Waits until the download is under way: its .part exists and grows.
    using Clock = std::chrono::steady_clock;
    fs::path part;
    std::uintmax_t seen = 0;
    for (const auto deadline = Clock::now() + std::chrono::seconds(60);
         Clock::now() < deadline && install.running();) {
        std::error_code ec;
        part = find_part(part_dir);
        const auto size = part.empty() ? 0 : fs::file_size(part, ec);
        if (!ec && size > 64 * 1024) {
            seen = size;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_GT(seen, 0u) << "no growing .part; stderr:\n" << read_text(root() / "install.err");

    install.send(GetParam());
    const auto signalled = Clock::now();
    while (install.running() && Clock::now() - signalled < std::chrono::seconds(20)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - signalled).count();
    ASSERT_FALSE(install.running()) << "still running 20 s after the signal";
    EXPECT_LT(seconds, 2.0) << "the signal took effect only after " << seconds << " s";
    ASSERT_TRUE(WIFEXITED(install.status())) << "status " << install.status();
    EXPECT_EQ(WEXITSTATUS(install.status()), 3) << read_text(root() / "install.err");
    EXPECT_THAT(read_text(root() / "install.err"), HasSubstr("cancelled"));
    EXPECT_FALSE(fs::exists(target() / "components.xml")) << "something was installed";
    ASSERT_TRUE(fs::exists(part)) << "the .part was not kept";
    const auto kept = fs::file_size(part);
    EXPECT_GE(kept, seen);

    // The rerun continues from the .part.
    auto r = ferry({"install", "--root", target().string(), "com.big"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target() / "big.bin"), payload);
    const std::string archive = part.filename().string().substr(
        0, part.filename().string().size() - std::string(".part").size());
    const auto requests = server.requests_for("com.big/1.0" + archive);
    ASSERT_EQ(requests.size(), 2u) << read_text(server.access_log());
    EXPECT_THAT(requests[1], HasSubstr("\" 206 ")) << "the rerun did not resume";
    expect_verifies(target());
}

INSTANTIATE_TEST_SUITE_P(Signals, ClientCancel, ::testing::Values(SIGINT, SIGTERM),
                         [](const auto& info) {
                             return info.param == SIGINT ? "SIGINT" : "SIGTERM";
                         });

// --- The seed's update rule: a greater version is an update, whatever the dates. ---

TEST_F(ClientFaults, UpdateWithAForgottenReleaseDateIsOffered) {
    // Installed on 2026-03-01; version 2.0 is published with the ReleaseDate of 1.0
    // (2026-01-01): IFW's maintenance tool would hide it.
    const std::map<std::string, std::string> march{{"SOURCE_DATE_EPOCH", "1772323200"}};
    set_package("com.x", "1.0", v1_);
    publish();
    auto r = ferry({"install", "--root", target().string(), "--repo", repo_url(), "com.x"}, march);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    ASSERT_THAT(read_text(target() / "components.xml"),
                HasSubstr("<LastUpdateDate>2026-03-01</LastUpdateDate>"));
    set_package("com.x", "2.0", v2_);
    publish();
    ASSERT_THAT(read_text(repo() / "Updates.xml"), HasSubstr("<ReleaseDate>2026-01-01"));

    r = ferry({"check-updates", "--root", target().string()}, march);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("com.x 1.0 -> 2.0"));
    r = ferry({"check-updates", "--root", target().string(), "-v"}, march);
    EXPECT_THAT(r.err, HasSubstr("com.x 1.0: offered: the repository's version 2.0 is greater "
                                 "than the installed 1.0; its ReleaseDate 2026-01-01 is before "
                                 "the installed LastUpdateDate 2026-03-01, so IFW's maintenance "
                                 "tool would not offer it"));
    r = ferry({"update", "--root", target().string()}, march);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(recorded_version(target(), "com.x"), "2.0");

    r = ferry({"check-updates", "--root", target().string(), "-v"}, march);
    EXPECT_THAT(r.err, HasSubstr("com.x 2.0: not offered: the repository's version 2.0 is the "
                                 "same as the installed 2.0"));
}

}  // namespace
}  // namespace ferry::testing
