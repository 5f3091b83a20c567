// Installers end to end: `ferry installer create` from examples/, from an IFW config/ +
// packages/ pair and against a repository nginx serves; the installers run with IFW's command
// line, without a network, through a pseudo-terminal as a person answers them, and damaged;
// the maintenance tool they leave lists, checks for updates and updates.
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include <nlohmann/json.hpp>

#include "e2e_support.hpp"
#include "support/nginx_server.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class InstallerTest : public FerryTest {
  protected:
    // Runs a program made by the test (an installer, a maintenance tool) as the user would.
    CommandResult program(const fs::path& file, std::vector<std::string> args,
                          std::map<std::string, std::string> env = {}) const {
        args.insert(args.begin(), file.string());
        env.emplace("HOME", (root() / "home").string());
        return run(args, env, root());
    }

    fs::path create(const std::vector<std::string>& options, const std::string& name) {
        std::vector<std::string> args{"installer", "create"};
        args.insert(args.end(), options.begin(), options.end());
        args.push_back(name);
        const CommandResult r = ferry(args);
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return root() / name;
    }

    // A packed ferry: the stub and ferry compressed (the fastest level here; the static build
    // packs at 6).
    fs::path packed_ferry() {
        const CommandResult r = ferry({"installer", "template", "--stub", FERRY_STUB_BINARY,
                                       "--level", "0", "--json", "base"});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        const fs::path base = root() / "base";
        EXPECT_EQ(nlohmann::json::parse(r.out)["size"], fs::file_size(base));
        return base;
    }

    fs::path offline_installer() {
        return create({"--name", "Example", "--product-version", "1.0", "-p",
                       (fs::path(FERRY_SOURCE_DIR) / "examples" / "packages").string()},
                      "example.run");
    }

    static void expect_example_installed(const fs::path& target) {
        const fs::path packages = fs::path(FERRY_SOURCE_DIR) / "examples" / "packages";
        EXPECT_EQ(read_text(target / "bin" / "example-app"),
                  read_text(packages / "com.example.app" / "data" / "bin" / "example-app"));
        EXPECT_EQ(
            read_text(target / "lib" / "libexample-2.txt"),
            read_text(packages / "com.example.runtime" / "data" / "lib" / "libexample-2.txt"));
        EXPECT_EQ(read_text(target / "Licenses" / "license.txt"),
                  read_text(packages / "com.example.app" / "meta" / "license.txt"));
    }

    // The installer with a byte at damage_at changed refuses to install, saying says, and
    // writes nothing; cut to cut_to bytes, it refuses as a download cut short.
    void expect_refused(const fs::path& installer, std::uint64_t damage_at, std::uint64_t cut_to,
                        const std::string& says) {
        {
            std::fstream f(installer, std::ios::in | std::ios::out | std::ios::binary);
            f.seekg(static_cast<std::streamoff>(damage_at));
            const char was = static_cast<char>(f.get());
            f.seekp(static_cast<std::streamoff>(damage_at));
            f.put(static_cast<char>(was ^ 0x55));
        }
        const std::vector<std::string> before = entries(root());
        const fs::path target = root() / "target";
        const CommandResult r =
            program(installer, {"--root", target.string(), "--accept-licenses", "install"});
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_THAT(r.err, HasSubstr(installer.string() + " is damaged"));
        EXPECT_THAT(r.err, HasSubstr(says));
        EXPECT_EQ(entries(root()), before);

        fs::resize_file(installer, cut_to);
        const CommandResult cut = program(installer, {"--root", target.string(), "install"});
        EXPECT_EQ(cut.exit_code, 1) << describe(cut);
        EXPECT_THAT(cut.err, HasSubstr("a download cut short?"));
        EXPECT_EQ(entries(root()), before);
    }

    // Nothing in dir but what was there before: no target, no unpacked payload.
    static std::vector<std::string> entries(const fs::path& dir) {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir)) {
            names.push_back(entry.path().filename().string());
        }
        std::sort(names.begin(), names.end());
        return names;
    }
};

TEST_F(InstallerTest, OfflineInstallerFromExamplesInstallsAndLeavesAMaintenanceTool) {
    const CommandResult made = ferry(
        {"installer", "create", "--name", "Example", "--product-version", "1.0", "-p",
         (fs::path(FERRY_SOURCE_DIR) / "examples" / "packages").string(), "--json", "example.run"});
    ASSERT_EQ(made.exit_code, 0) << describe(made);
    const auto summary = nlohmann::json::parse(made.out);
    EXPECT_EQ(summary["kind"], "offline");
    EXPECT_EQ(summary["components"].size(), 3u);
    const fs::path installer = root() / "example.run";
    EXPECT_EQ(summary["size"], fs::file_size(installer));
    // No larger than the payload and the program it starts with.
    EXPECT_LE(fs::file_size(installer),
              fs::file_size(FERRY_BINARY) + summary["payload_size"].get<std::uint64_t>());

    const fs::path target = root() / "target";
    const CommandResult r =
        program(installer, {"--root", target.string(), "--accept-licenses", "install"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("install   com.example.app 1.0.0"));
    expect_example_installed(target);

    const fs::path tool = target / "maintenancetool";
    ASSERT_TRUE(fs::is_regular_file(tool));
    const CommandResult list = program(tool, {"list"});
    ASSERT_EQ(list.exit_code, 0) << describe(list);
    EXPECT_THAT(list.out, HasSubstr("com.example.app 1.0.0"));
    EXPECT_THAT(list.out, HasSubstr("com.example.docs 1.0.0"));
    const CommandResult verify = program(tool, {"verify"});
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);
    // An offline installation reads no repository; the tool says how to add one, in its name.
    const CommandResult updates = program(tool, {"check-updates"});
    EXPECT_NE(updates.exit_code, 0) << describe(updates);
    EXPECT_THAT(updates.err, HasSubstr("maintenancetool: error:"));
    EXPECT_THAT(updates.err, HasSubstr("`" + tool.string() + " repos add URL`"));
    // The unpacked payload is gone; the target's settings do not name it.
    EXPECT_EQ(entries(root()), (std::vector<std::string>{"example.run", "target"}));
    const CommandResult repos = program(tool, {"repos", "list", "--json"});
    ASSERT_EQ(repos.exit_code, 0) << describe(repos);
    EXPECT_THAT(repos.out, Not(HasSubstr("payload")));
}

TEST_F(InstallerTest, IfwConfigAndPackagesPair) {
    // config/ and packages/ side by side, as IFW's tutorials lay them out.
    fs::copy(fs::path(FERRY_TEST_DATA) / "installer" / "config", root() / "config");
    example_packages();
    const CommandResult made = ferry({"installer", "create", "-c", "config/config.xml", "-p",
                                      "packages", "-e", "com.example.docs", "suite.run"});
    ASSERT_EQ(made.exit_code, 0) << describe(made);
    EXPECT_THAT(made.err, HasSubstr("ignored: InstallerApplicationIcon, WizardStyle, "
                                    "StartMenuDir, ControlScript"));
    EXPECT_THAT(made.out, HasSubstr("2 components"));

    const fs::path installer = root() / "suite.run";
    const CommandResult version = program(installer, {"--version"});
    EXPECT_THAT(version.out, HasSubstr("Example Suite 2.1.0"));
    // IFW's spellings; the default target is the config's TargetDir (as root: AdminTargetDir,
    // which the test points elsewhere through the same variables).
    const CommandResult r = program(installer, {"-t", (root() / "home" / "ExampleSuite").string(),
                                                "--al", "-c", "in", "com.example.app"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const fs::path target = root() / "home" / "ExampleSuite";
    EXPECT_TRUE(fs::exists(target / "bin" / "example-app"));
    EXPECT_FALSE(fs::exists(target / "docs"));  // excluded from the installer
    const fs::path tool = target / "SuiteMaintenance";
    ASSERT_TRUE(fs::is_regular_file(tool));
    EXPECT_FALSE(fs::exists(target / "maintenancetool"));
    // The configuration's repository is in the settings (disabled, as config.xml says), with
    // its credentials apart and not in the tool that everyone can read.
    const CommandResult repos = program(tool, {"repos", "list", "--json"});
    ASSERT_EQ(repos.exit_code, 0) << describe(repos);
    EXPECT_THAT(repos.out, HasSubstr("https://updates.example.com/suite"));
    EXPECT_THAT(repos.out, HasSubstr("Example Suite updates"));
    EXPECT_THAT(read_text(target / ".ferry" / "credentials.json"), HasSubstr("s3cret"));
    std::ifstream tool_bytes(tool, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(tool_bytes)), {});
    EXPECT_EQ(bytes.find("s3cret"), std::string::npos);
}

TEST_F(InstallerTest, OnlineInstallerThenUpdateThroughTheMaintenanceTool) {
    const fs::path packages = example_packages();
    make_repository(packages, root() / "repo");
    NginxServer server(root() / "repo");
    const fs::path installer =
        create({"--name", "Example", "--product-version", "1.0", "--repo", server.url(), "-n"},
               "online.run");
    // Online: the program and a few kilobytes of configuration.
    EXPECT_LT(fs::file_size(installer), fs::file_size(FERRY_BINARY) + 16 * 1024);

    const fs::path target = root() / "target";
    const CommandResult r =
        program(installer, {"--root", target.string(), "--accept-licenses", "install"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    expect_example_installed(target);
    const fs::path tool = target / "maintenancetool";

    // Nothing new: IFW's empty answer.
    const CommandResult none = program(tool, {"check-updates"});
    EXPECT_EQ(none.exit_code, 0) << describe(none);
    EXPECT_EQ(none.out, "<updates>\n</updates>\n");

    // A new version is published.
    make_package(packages, "com.example.app", "1.1.0",
                 {{"bin/example-app", "#!/bin/sh\necho 1.1\n"}},
                 "<Default>true</Default>\n<Dependencies>com.example.runtime</Dependencies>\n");
    make_repository(packages, root() / "repo");
    const CommandResult check = program(tool, {"check-updates"});
    ASSERT_EQ(check.exit_code, 0) << describe(check);
    EXPECT_THAT(check.out, HasSubstr("name=\"com.example.app\" version=\"1.1.0\""));
    const CommandResult update = program(tool, {"update", "--al", "-c"});
    ASSERT_EQ(update.exit_code, 0) << describe(update);
    EXPECT_EQ(read_text(target / "bin" / "example-app"), "#!/bin/sh\necho 1.1\n");
    EXPECT_THAT(program(tool, {"list"}).out, HasSubstr("com.example.app 1.1.0"));
    // And back, with ferry's own client command.
    const CommandResult rollback = program(tool, {"rollback"});
    ASSERT_EQ(rollback.exit_code, 0) << describe(rollback);
    EXPECT_THAT(program(tool, {"list"}).out, HasSubstr("com.example.app 1.0.0"));
}

TEST_F(InstallerTest, DamagedInstallerRefusesAndWritesNothing) {
    const fs::path installer = offline_installer();
    const auto size = fs::file_size(installer);
    expect_refused(installer, size - 2000, size - 10, "nothing was installed");
}

TEST_F(InstallerTest, PackedFerryMakesSmallerInstallersThatWorkTheSame) {
    const fs::path base = packed_ferry();
    EXPECT_LT(fs::file_size(base), fs::file_size(FERRY_BINARY) / 2);
    const CommandResult version = program(base, {"--version"});
    ASSERT_EQ(version.exit_code, 0) << describe(version);
    EXPECT_THAT(version.out, HasSubstr("ferry "));

    const fs::path installer =
        create({"-t", base.string(), "--name", "Example", "--product-version", "1.0", "-p",
                (fs::path(FERRY_SOURCE_DIR) / "examples" / "packages").string()},
               "example.run");
    EXPECT_LT(fs::file_size(installer), fs::file_size(FERRY_BINARY) / 2);
    const fs::path target = root() / "target";
    const CommandResult r =
        program(installer, {"--root", target.string(), "--accept-licenses", "install"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    expect_example_installed(target);
    // The maintenance tool is packed too, and knows its installation from where it lies.
    const fs::path tool = target / "maintenancetool";
    EXPECT_LT(fs::file_size(tool), fs::file_size(FERRY_BINARY) / 2);
    const CommandResult list = program(tool, {"list"});
    ASSERT_EQ(list.exit_code, 0) << describe(list);
    EXPECT_THAT(list.out, HasSubstr("com.example.app 1.0.0"));
    EXPECT_EQ(program(tool, {"verify"}).exit_code, 0);
    // A maintenance tool starts installers as well as the packed ferry it came from.
    const fs::path again = create({"-t", tool.string(), "--name", "Again", "-p",
                                   (fs::path(FERRY_SOURCE_DIR) / "examples" / "packages").string()},
                                  "again.run");
    EXPECT_EQ(program(again, {"--version"}).out.substr(0, 6), "Again ");
}

// Where the kernel lets no memory file run (vm.memfd_noexec 2, set in a PID namespace of the
// test's own), the stub runs ferry from a temporary file in TMPDIR that it removes first; where
// TMPDIR's files may not run either, it says so.
TEST_F(InstallerTest, PackedFerryRunsWhereMemoryFilesMayNot) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root for a PID namespace of its own";
    }
    if (!fs::exists("/proc/sys/vm/memfd_noexec")) {
        GTEST_SKIP() << "the kernel has no vm.memfd_noexec (Linux 6.3 and later)";
    }
    const fs::path base = packed_ferry();
    const fs::path installer =
        create({"-t", base.string(), "--name", "Example", "-p",
                (fs::path(FERRY_SOURCE_DIR) / "examples" / "packages").string()},
               "example.run");
    const fs::path tmp = root() / "tmp";
    fs::create_directories(tmp);
    const fs::path target = root() / "target";
    const std::string no_memory_files = "echo 2 >/proc/sys/vm/memfd_noexec && exec \"$0\" \"$@\"";
    const CommandResult r =
        run({"/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "/bin/sh", "-c",
             no_memory_files, installer.string(), "--root", target.string(), "--al", "install"},
            {{"HOME", (root() / "home").string()}, {"TMPDIR", tmp.string()}}, root());
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    expect_example_installed(target);
    EXPECT_TRUE(fs::is_empty(tmp));

    const CommandResult refused =
        run({"/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "--mount", "/bin/sh", "-c",
             "mount -t tmpfs -o noexec none \"$TMPDIR\" && " + no_memory_files, installer.string(),
             "--version"},
            {{"TMPDIR", tmp.string()}}, root());
    EXPECT_EQ(refused.exit_code, 1) << describe(refused);
    EXPECT_THAT(refused.err, HasSubstr("nor from " + tmp.string()));
    EXPECT_THAT(refused.err, HasSubstr("set TMPDIR to a directory whose files may be run"));
}

TEST_F(InstallerTest, TemplateRefusesWhatIsNotAPlainFerryAndAStub) {
    const fs::path base = packed_ferry();
    CommandResult r = ferry(
        {"installer", "template", "--ferry", base.string(), "--stub", FERRY_STUB_BINARY, "x"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(base.string() + " is a packed ferry already"));
    r = ferry({"installer", "template", "--stub", FERRY_BINARY, "x"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(std::string(FERRY_BINARY) + " is not ferry's stub"));
    EXPECT_FALSE(fs::exists(root() / "x"));
    // The stub alone says what it is.
    r = run({FERRY_STUB_BINARY}, {}, root());
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("carries no packed ferry"));
}

TEST_F(InstallerTest, DamagedPackedFerryRefusesAndWritesNothing) {
    const fs::path base = packed_ferry();
    const fs::path installer =
        create({"-t", base.string(), "--name", "Example", "-p",
                (fs::path(FERRY_SOURCE_DIR) / "examples" / "packages").string()},
               "example.run");
    fs::remove(base);
    // The byte is in the compressed ferry: the stub refuses before ferry runs.
    const auto stub_size = fs::file_size(FERRY_STUB_BINARY);
    expect_refused(installer, stub_size + 24 + 100000, stub_size + 5000, "get the file again");
}

TEST_F(InstallerTest, FailedInstallLeavesNoTarget) {
    const fs::path installer = offline_installer();
    const fs::path target = root() / "target";
    // The licence is not accepted: nothing is installed, and the installer made nothing.
    const CommandResult r = program(installer, {"--root", target.string(), "install"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("--accept-licenses"));
    EXPECT_FALSE(fs::exists(target));
    EXPECT_EQ(entries(root()), (std::vector<std::string>{"example.run"}));
    // Without a command and without a terminal, it says how to use it.
    const CommandResult bare = program(installer, {});
    EXPECT_EQ(bare.exit_code, 2) << describe(bare);
    EXPECT_THAT(bare.err, HasSubstr("--root DIR --accept-licenses install"));
}

TEST_F(InstallerTest, OfflineInstallerNeedsNoNetwork) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root for a network namespace of its own";
    }
    // The configuration names a remote repository: the maintenance tool reads it later, the
    // install does not.
    const fs::path installer =
        create({"--name", "Example", "--repo", "http://127.0.0.1:9/updates", "-p",
                (fs::path(FERRY_SOURCE_DIR) / "examples" / "packages").string()},
               "example.run");
    const fs::path target = root() / "target";
    // unshare -n: a network namespace with nothing in it, not even a loopback that is up.
    const CommandResult r = run({"/usr/bin/unshare", "-n", installer.string(), "--root",
                                 target.string(), "--accept-licenses", "install"},
                                {{"HOME", (root() / "home").string()}}, root());
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    expect_example_installed(target);
    const CommandResult repos = program(target / "maintenancetool", {"repos", "list"});
    EXPECT_THAT(repos.out, HasSubstr("http://127.0.0.1:9/updates"));
}

TEST_F(InstallerTest, CreateRefusesWhatCannotMakeAnInstaller) {
    const std::string packages = (fs::path(FERRY_SOURCE_DIR) / "examples" / "packages").string();
    CommandResult r = ferry({"installer", "create", "--name", "X", "-n", "-p", packages, "x.run"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("--online-only installer carries no packages"));
    r = ferry({"installer", "create", "--name", "X", "x.run"});
    EXPECT_THAT(r.err, HasSubstr("nothing to install from"));
    r = ferry({"installer", "create", "-p", packages, "x.run"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--name NAME"));
    r = ferry({"installer", "create", "--name", "X", "-p", packages});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("the file to write is missing: ferry installer create"));
    r = ferry({"installer", "create", "--name", "X", "-p", packages, "-i", "com.nothing", "x.run"});
    EXPECT_EQ(r.exit_code, 1);
    write_text(root() / "bad.xml",
               "<Installer><Name>X</Name>\n<MaintenanceToolName>../x"
               "</MaintenanceToolName></Installer>\n");
    r = ferry({"installer", "create", "-c", "bad.xml", "-p", packages, "x.run"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("bad.xml:1: "));
    EXPECT_THAT(r.err, HasSubstr("MaintenanceToolName \"../x\""));
    EXPECT_FALSE(fs::exists(root() / "x.run"));
}

// Every ferry looks at its own file for a payload; one its user may run but not read (a
// directory on the way it may not search) is a plain ferry, not an error.
TEST_F(InstallerTest, FerryThatCannotReadItsOwnFileStillRuns) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to run as another user";
    }
    const fs::path hidden = root() / "hidden";
    fs::create_directory(hidden);
    fs::permissions(hidden, fs::perms::owner_all);
    fs::copy_file(FERRY_BINARY, hidden / "ferry");
    const CommandResult r = run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                 "--clear-groups", (hidden / "ferry").string(), "--version"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("ferry "));
}

// A person at a terminal: the installer's questions answered through a pseudo-terminal.
class Terminal {
  public:
    Terminal(const fs::path& program, const std::map<std::string, std::string>& env) {
        pid_ = ::forkpty(&fd_, nullptr, nullptr, nullptr);
        if (pid_ == 0) {
            for (const auto& [name, value] : env) {
                ::setenv(name.c_str(), value.c_str(), 1);
            }
            ::execl(program.c_str(), program.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    ~Terminal() {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(fd_);
    }
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;

    // Reads what the program shows until text appears after what earlier waits consumed.
    bool wait_for(const std::string& text) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (screen_.find(text, consumed_) == std::string::npos) {
            if (std::chrono::steady_clock::now() > deadline || read_some(1000) == 0) {
                return false;
            }
        }
        consumed_ = screen_.find(text, consumed_) + text.size();
        return true;
    }
    void type(const std::string& keys) {
        EXPECT_EQ(::write(fd_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
    }
    // Everything until the program ends; its exit code.
    int finish() {
        int got = 0;
        while ((got = read_some(60000)) > 0) {
        }
        int status = 0;
        if (got < 0) {
            // Silent for a minute and still running: waiting for an answer it should not need.
            ADD_FAILURE() << "the program still runs, waiting";
            ::kill(pid_, SIGKILL);
        }
        ::waitpid(pid_, &status, 0);
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    const std::string& screen() const { return screen_; }

  private:
    // 1: read something; 0: the program closed the terminal (it has ended); -1: nothing came
    // within the timeout.
    int read_some(int timeout_ms) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) {
            return -1;
        }
        char buffer[4096];
        const ssize_t n = ::read(fd_, buffer, sizeof buffer);
        if (n <= 0) {
            return 0;  // EIO once the program has ended
        }
        screen_.append(buffer, static_cast<std::size_t>(n));
        return 1;
    }

    int fd_ = -1;
    pid_t pid_ = -1;
    bool exited_ = false;
    std::string screen_;
    std::size_t consumed_ = 0;
};

TEST_F(InstallerTest, WizardOnATerminal) {
    const fs::path installer = offline_installer();
    const fs::path target = root() / "chosen";
    Terminal terminal(installer, {{"HOME", (root() / "home").string()}});
    ASSERT_TRUE(terminal.wait_for("Example 1.0")) << terminal.screen();
    ASSERT_TRUE(
        terminal.wait_for("Install into [" + (root() / "home" / "Example").string() + "]: "))
        << terminal.screen();
    terminal.type(target.string() + "\n");
    // The default set is preselected; the docs are toggled on.
    ASSERT_TRUE(terminal.wait_for("[x] Example App 1.0.0 (com.example.app)")) << terminal.screen();
    ASSERT_TRUE(terminal.wait_for("Enter to go on: ")) << terminal.screen();
    terminal.type("9\n");
    ASSERT_TRUE(terminal.wait_for("There is no component 9.")) << terminal.screen();
    ASSERT_TRUE(terminal.wait_for("Enter to go on: ")) << terminal.screen();
    terminal.type("\n");
    ASSERT_TRUE(terminal.wait_for("Licence of com.example.app: Example License Agreement"))
        << terminal.screen();
    ASSERT_TRUE(terminal.wait_for("Permission is granted to use this example"))
        << terminal.screen();
    ASSERT_TRUE(terminal.wait_for("Do you accept these licences? [y/N] ")) << terminal.screen();
    terminal.type("y\n");
    ASSERT_TRUE(terminal.wait_for("Ready to install into " + target.string())) << terminal.screen();
    ASSERT_TRUE(terminal.wait_for("Install now? [Y/n] ")) << terminal.screen();
    terminal.type("\n");
    EXPECT_EQ(terminal.finish(), 0) << terminal.screen();
    EXPECT_THAT(terminal.screen(), HasSubstr("install   com.example.app 1.0.0"));
    EXPECT_THAT(terminal.screen(), HasSubstr("Example 1.0 is installed in " + target.string()));
    expect_example_installed(target);
    EXPECT_TRUE(fs::exists(target / "maintenancetool"));
}

TEST_F(InstallerTest, WizardCtrlCLeavesNothing) {
    const fs::path installer = offline_installer();
    const fs::path target = root() / "chosen";
    Terminal terminal(installer, {{"HOME", (root() / "home").string()}});
    ASSERT_TRUE(terminal.wait_for("Install into [")) << terminal.screen();
    terminal.type(target.string() + "\n");
    ASSERT_TRUE(terminal.wait_for("Enter to go on: ")) << terminal.screen();
    terminal.type("\x03");  // Ctrl-C
    EXPECT_EQ(terminal.finish(), 3) << terminal.screen();
    EXPECT_THAT(terminal.screen(), HasSubstr("cancelled; nothing was installed"));
    EXPECT_FALSE(fs::exists(target));
    EXPECT_EQ(entries(root()), (std::vector<std::string>{"example.run"}));
}

}  // namespace
}  // namespace ferry::testing
