// Installers of a market's app (`ferry installer create --market URL APP`): an online one asks
// the market when it runs, so it installs the newest revision, and its maintenance tool finds
// the revisions published after; an offline one (-f) carries the revision of its making.
#include "e2e/market_support.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST_F(Market, InstallerOfAMarketApp) {
    start();
    write_three(packages());
    published(packages(), "1");
    const CommandResult made = ferry({"installer", "create", "--name", "Test App", "--market",
                                      server().url(), std::string(kApp) + "@1", "-n", "app.run"});
    ASSERT_EQ(made.exit_code, 0) << describe(made);
    EXPECT_THAT(made.out, HasSubstr("Online installer"));

    // Published after the installer was made: the installer still installs the newest.
    write_component(packages(), "a", "1.1", "a 1.1\n");
    published(packages(), "1");
    const fs::path target = root() / "target";
    const CommandResult r =
        run({(root() / "app.run").string(), "--root", target.string(), "in"}, {}, root());
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target / "a.txt"), "a 1.1\n");
    EXPECT_EQ(read_text(target / "c.txt"), "c 1.0\n");

    write_component(packages(), "b", "1.1", "b 1.1\n");
    published(packages(), "1");
    const fs::path tool = target / "maintenancetool";
    const CommandResult check = run({tool.string(), "check-updates"}, {}, root());
    ASSERT_EQ(check.exit_code, 0) << describe(check);
    EXPECT_THAT(check.out, HasSubstr("id=\"com.test.b\""));
    const CommandResult update = run({tool.string(), "update"}, {}, root());
    ASSERT_EQ(update.exit_code, 0) << describe(update);
    EXPECT_EQ(read_text(target / "b.txt"), "b 1.1\n");
}

TEST_F(Market, OfflineInstallerCarriesAMarketApp) {
    start();
    write_three(packages());
    published(packages(), "1");
    const CommandResult made =
        ferry({"installer", "create", "--name", "Test App", "--market", server().url(),
               std::string(kApp) + "@1", "-f", "--json", "app.run"});
    ASSERT_EQ(made.exit_code, 0) << describe(made);
    const Json summary = Json::parse(made.out);
    EXPECT_EQ(summary["kind"], "offline");
    EXPECT_EQ(summary["components"].size(), 3u);
    // Nothing of the download is left beside the installer.
    for (const auto& entry : fs::directory_iterator(root())) {
        EXPECT_THAT(entry.path().filename().string(), Not(HasSubstr(".ferry-market-")));
    }

    // Published after the installer was made: it installs what it carries.
    write_component(packages(), "a", "1.1", "a 1.1\n");
    published(packages(), "1");
    const fs::path target = root() / "target";
    const CommandResult r =
        run({(root() / "app.run").string(), "--root", target.string(), "in"}, {}, root());
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target / "a.txt"), "a 1.0\n");
    EXPECT_EQ(read_text(target / "c.txt"), "c 1.0\n");
    // Offline only: the installation reads no repository until it is given one.
    const CommandResult repos =
        run({(target / "maintenancetool").string(), "repos", "list", "--json"}, {}, root());
    ASSERT_EQ(repos.exit_code, 0) << describe(repos);
    EXPECT_THAT(repos.out, Not(HasSubstr("http")));

    // An app the market does not have is an error naming it, and no installer is written.
    const CommandResult missing = ferry({"installer", "create", "--name", "X", "--market",
                                         server().url(), "com.test.nothing", "-f", "x.run"});
    EXPECT_NE(missing.exit_code, 0) << describe(missing);
    EXPECT_THAT(missing.err, HasSubstr("com.test.nothing"));
    EXPECT_FALSE(fs::exists(root() / "x.run"));
}

}  // namespace
}  // namespace ferry::testing
