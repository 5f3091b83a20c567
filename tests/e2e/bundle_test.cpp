// Offline bundles end to end (docs/BUNDLES.md): app versions leave one market as a file
// (`ferry export --format bundle`, or the market's export jobs) and enter another one that cannot
// reach it (`ferry import` into a stopped market's data directory, by upload into a running one,
// or from its import folder). Clients of the second market see the app and its updates, a service
// app's images keep their digests, differential bundles carry only what the target lacks, and
// broken or out-of-date bundles are refused without leaving anything behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "e2e/market_support.hpp"
#include "support/image_archives.hpp"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr const char* kMajor = "1";
constexpr const char* kDefault = " <Default>true</Default>\n";

std::string repo_path(const std::string& file = "") {
    return std::string("/repo/") + kApp + "/" + kMajor + "/" + file;
}

// An HTTP answer with its headers.
struct Reply {
    int status = 0;  // 0: no answer
    std::string body;
    httplib::Headers headers;

    Json json() const { return Json::parse(body, nullptr, false); }
    std::string header(const std::string& name) const {
        const auto found = headers.find(name);
        return found == headers.end() ? "" : found->second;
    }
    // For failure messages: the status and a body that is text.
    std::string what() const {
        return "HTTP " + std::to_string(status) + "\n" + (body.size() < 4096 ? body : "(long)");
    }
};

// Where the header of the tar entry named name begins in tar (npos when it is not there); a
// walk over the ustar headers ferry writes.
std::size_t entry_offset(const std::string& tar, const std::string& name) {
    for (std::size_t at = 0; at + 512 <= tar.size();) {
        const std::string header = tar.substr(at, 512);
        if (header[0] == '\0') {
            break;
        }
        const std::string entry = header.substr(0, std::min<std::size_t>(header.find('\0'), 100));
        if (entry == name) {
            return at;
        }
        const std::uint64_t size = std::stoull(header.substr(124, 12), nullptr, 8);
        at += 512 + (size + 511) / 512 * 512;
    }
    return std::string::npos;
}

// One market: its data directory, a publish token and, while it runs, its server.
struct Side {
    fs::path data;
    std::string token;
    std::unique_ptr<MarketServer> server;

    std::string url(const std::string& path = "") const { return server->url(path); }
};

class Bundle : public FerryTest {
  protected:
    // The app: com.test.a (small, the one that changes) and com.test.b with 300 kB that do not
    // compress (the one that stays).
    void SetUp() override {
        packages_ = root() / "packages";
        set_a("1.0");
        make_package(packages_, "com.test.b", "1.0", {{"big.bin", big()}}, kDefault);
    }
    static std::string big() { return random_bytes(300000, 5); }
    // com.test.a at version, its a.txt saying so.
    void set_a(const std::string& version) const {
        fs::remove_all(packages_ / "com.test.a");
        make_package(packages_, "com.test.a", version, {{"a.txt", "a " + version + "\n"}},
                     kDefault);
    }

    // A market with a publish token, started unless told otherwise.
    Side side(const std::string& name, bool running = true) const {
        Side s;
        s.data = root() / name;
        s.token = create_token(FERRY_BINARY, s.data);
        EXPECT_THAT(s.token, HasSubstr("ferry_"));
        if (running) {
            start(s);
        }
        return s;
    }
    static void start(Side& s) {
        s.server.reset();
        s.server = std::make_unique<MarketServer>(FERRY_BINARY, s.data);
    }
    static void stop(Side& s) { s.server.reset(); }

    // Publishes the packages as the app's next revision.
    void publish_app(const Side& s, const fs::path& packages, const std::string& app,
                     const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> args{
            "publish", packages.string(), "--server", s.url(),      "--app", app, "--version",
            kMajor,    "--token",         s.token,    "--no-cache", "-q"};
        args.insert(args.end(), extra.begin(), extra.end());
        const CommandResult r = ferry(args);
        ASSERT_EQ(r.exit_code, 0) << testing::describe(r);
    }
    void publish(const Side& s, const std::vector<std::string>& extra = {}) const {
        publish_app(s, packages_, kApp, extra);
    }

    // `ferry export APP@1 --format bundle --server --token -o out` (the market's export jobs,
    // then a download): the file written ("" when it failed).
    fs::path export_bundle(const Side& s, const fs::path& out,
                           const std::vector<std::string>& extra = {},
                           const std::string& app = kApp) const {
        std::vector<std::string> args{
            "export", app + "@" + kMajor, "--format", "bundle", "--server",
            s.url(),  "--token",          s.token,    "-o",     out.string(),
            "--json"};
        args.insert(args.end(), extra.begin(), extra.end());
        const CommandResult r = ferry(args);
        EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
        const Json answer = Json::parse(r.out, nullptr, false);
        if (r.exit_code != 0 || !answer.is_object() || answer.value("bundles", Json()).empty()) {
            ADD_FAILURE() << "no bundle written: " << testing::describe(r);
            return {};
        }
        return answer.at("bundles").at(0).at("output").get<std::string>();
    }

    // `ferry import FILE... --server --token` into a running market.
    CommandResult import_into(const Side& s, const std::vector<fs::path>& files) const {
        std::vector<std::string> args{"import"};
        for (const auto& file : files) {
            args.push_back(file.string());
        }
        for (const std::string& more :
             std::vector<std::string>{"--server", s.url(), "--token", s.token}) {
            args.push_back(more);
        }
        return ferry(args);
    }
    // `ferry import FILE --data DIR` into a market that is not running.
    CommandResult import_data(const Side& s, const fs::path& file) const {
        return ferry({"import", file.string(), "--data", s.data.string()});
    }

    static Reply call(const Side& s, const std::string& method, const std::string& path,
                      const std::string& token = "", const std::string& body = "",
                      httplib::Headers headers = {}) {
        httplib::Client client("127.0.0.1", s.server->port());
        client.set_read_timeout(30, 0);
        if (!token.empty()) {
            headers.emplace("Authorization", "Bearer " + token);
        }
        const httplib::Result result =
            method == "GET" ? client.Get(path.c_str(), headers)
            : method == "POST"
                ? client.Post(path.c_str(), headers, body, "application/json")
                : client.Put(path.c_str(), headers, body, "application/octet-stream");
        if (!result) {
            return {};
        }
        return {result->status, result->body, result->headers};
    }

    // GET /api/v1/apps/APP/versions/1 (null when the market lacks it).
    static Json version(const Side& s, const std::string& app = kApp) {
        const Reply r = call(s, "GET", "/api/v1/apps/" + app + "/versions/" + kMajor);
        return r.status == 200 ? r.json() : Json();
    }
    static int revision(const Side& s) {
        const Json v = version(s);
        return v.is_object() ? v.value("revision", -1) : 0;
    }
    // Component name -> version in the market's latest revision.
    static std::map<std::string, std::string> components(const Side& s) {
        std::map<std::string, std::string> versions;
        const Json v = version(s);
        for (const Json& c : v.is_object() ? v.at("components") : Json::array()) {
            versions[c.at("name").get<std::string>()] = c.at("version").get<std::string>();
        }
        return versions;
    }

    // The app is nowhere in the market: not in the API, not under /repo/.
    static void expect_no_app(const Side& s, const std::string& when) {
        EXPECT_EQ(call(s, "GET", std::string("/api/v1/apps/") + kApp).status, 404) << when;
        EXPECT_EQ(call(s, "GET", "/api/v1/apps").json().value("total", -1), 0) << when;
        EXPECT_EQ(call(s, "GET", repo_path("Updates.xml")).status, 404) << when;
    }

    // Files a market keeps while it receives something (blob uploads, imports): none once done.
    static std::set<std::string> leftovers(const Side& s) {
        return files_below(s.data / "uploads");
    }

    // Dates a file of the import folder back, so that the market takes it as settled (not a copy
    // still in progress).
    static void settle(const fs::path& file) {
        fs::last_write_time(file, fs::file_time_type::clock::now() - std::chrono::minutes(5));
    }

    static std::string sha256_file(const fs::path& file) { return sha256_of(read_text(file)); }

    // A bundle's manifest, as tar reads it.
    static Json manifest_of(const fs::path& bundle) {
        const CommandResult r = run({"/usr/bin/tar", "-xOf", bundle.string(), "ferry-bundle.json"});
        EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
        return Json::parse(r.out, nullptr, false);
    }

    // The bundle taken apart with tar, its manifest edited, and put together again with tar as a
    // bundle is laid out: the manifest first, then the blobs in the manifest's order.
    fs::path rebuild(const fs::path& bundle, const std::string& name,
                     const std::function<void(Json&)>& edit) const {
        const fs::path dir = root() / ("unpacked-" + name);
        fs::create_directories(dir);
        CommandResult r = run({"/usr/bin/tar", "-xf", bundle.string(), "-C", dir.string()});
        EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
        Json manifest = Json::parse(read_text(dir / "ferry-bundle.json"));
        edit(manifest);
        write_text(dir / "ferry-bundle.json", manifest.dump(1) + "\n");
        const fs::path out = root() / "crafted" / name;
        fs::create_directories(out.parent_path());
        std::vector<std::string> args{"/usr/bin/tar", "--format=pax", "-cf", out.string(),
                                      "ferry-bundle.json"};
        for (const Json& blob : manifest.at("blobs")) {
            args.push_back("blobs/sha256/" + blob.at("sha256").get<std::string>());
        }
        r = run(args, {}, dir);
        EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
        return out;
    }

    // Polls a job until it ends (success or failed): the job as it ended.
    static Json finished_job(const Side& s, const std::string& id) {
        Json job;
        const bool ended = wait_until([&] {
            job = call(s, "GET", "/api/v1/jobs/" + id).json();
            const std::string state = job.is_object() ? job.value("state", "") : "";
            return state == "success" || state == "failed";
        });
        EXPECT_TRUE(ended) << "the job did not end: " << job.dump();
        return job;
    }

    fs::path packages_;
};

// 1. From market A to market B with nothing but the file between them; then an update.

TEST_F(Bundle, CarriesAnAppVersionToAMarketWithoutANetworkAndThenItsUpdate) {
    Side a = side("a");
    publish(a, {"--name", "Test Suite", "--export-formats", "bundle,docker-compose"});
    set_a("1.1");
    publish(a);
    ASSERT_EQ(revision(a), 2);
    const fs::path carried = root() / "usb" / "suite.bundle.tar";
    ASSERT_EQ(export_bundle(a, carried), carried);

    // B is not running and has no way to reach A: only the file travels.
    Side b = side("b", /*running=*/false);
    CommandResult r = import_data(b, carried);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("suite.bundle.tar: imported app com.test.app@1 (Test Suite) "
                                 "as revision 2: 2 components"));
    start(b);

    // The app version is B's at A's revision, as A has it.
    const Json in_a = version(a);
    const Json in_b = version(b);
    ASSERT_TRUE(in_b.is_object()) << "B does not list the app";
    EXPECT_EQ(in_b.value("revision", 0), 2);
    EXPECT_EQ(in_b.at("components"), in_a.at("components"));
    EXPECT_EQ(in_b.at("files"), in_a.at("files"));
    const Json app = call(b, "GET", std::string("/api/v1/apps/") + kApp).json();
    EXPECT_EQ(app.value("source", ""), "imported") << app.dump();
    EXPECT_EQ(app.value("name", ""), "Test Suite") << app.dump();
    EXPECT_EQ(app.value("export_formats", Json()), Json::array({"bundle", "docker-compose"}))
        << "the export policy travels with the app: " << app.dump();
    EXPECT_EQ(app.at("majors").at(0).value("latest_revision", 0), 2) << app.dump();

    // B serves the repository file by file as A does, Updates.xml (and its revision stamp)
    // included; B has none of the files of A's revision 1 that A still keeps.
    std::set<std::string> served{"Updates.xml"};
    for (const Json& file : in_a.at("files")) {
        served.insert(file.at("path").get<std::string>());
    }
    for (const std::string& path : served) {
        const Reply from_a = call(a, "GET", repo_path(path));
        const Reply from_b = call(b, "GET", repo_path(path));
        EXPECT_EQ(from_a.status, 200) << path;
        EXPECT_EQ(from_b.status, 200) << path;
        EXPECT_TRUE(from_a.body == from_b.body) << path << " differs";
    }
    EXPECT_THAT(call(b, "GET", repo_path("Updates.xml")).body,
                HasSubstr("<FerryRevision app=\"com.test.app\" major=\"1\" number=\"2\"/>"));
    EXPECT_EQ(files_below(b.data / "repo" / kApp / kMajor), served);
    EXPECT_EQ(leftovers(b), std::set<std::string>{});

    // A client installs from B's repository.
    const fs::path target = root() / "installation";
    r = ferry({"install", "--repo", b.url(repo_path()), "--root", target.string(), "-q"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target / "a.txt"), "a 1.1\n");
    EXPECT_TRUE(read_text(target / "big.bin") == big());

    // A's next revision goes the same way, now into the running B, and the client sees it.
    set_a("1.2");
    publish(a);
    const fs::path update = export_bundle(a, root() / "usb" / "suite-update.bundle.tar");
    r = ferry({"check-updates", "--root", target.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_TRUE(Json::parse(r.out).at("updates").empty()) << "not imported yet: " << r.out;
    r = import_into(b, {update});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("suite-update.bundle.tar: imported app com.test.app@1 "
                                 "(Test Suite) as revision 3: 2 components"));
    EXPECT_EQ(revision(b), 3);

    r = ferry({"check-updates", "--root", target.string()});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("com.test.a 1.1 -> 1.2"));
    EXPECT_THAT(r.out, Not(HasSubstr("com.test.b")));
    r = ferry({"check-updates", "--root", target.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const Json updates = Json::parse(r.out).at("updates");
    ASSERT_EQ(updates.size(), 1u) << r.out;
    EXPECT_EQ(updates[0].at("name"), "com.test.a");
    EXPECT_EQ(updates[0].at("installed_version"), "1.1");
    EXPECT_EQ(updates[0].at("new_version"), "1.2");
    r = ferry({"update", "--root", target.string(), "-q"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_text(target / "a.txt"), "a 1.2\n");
    EXPECT_EQ(ferry({"verify", "--root", target.string(), "-q"}).exit_code, 0);
}

// 2. The two ways into a running market: an upload, and a file dropped into its import folder.

TEST_F(Bundle, ARunningMarketImportsAnUploadAndAFileDroppedIntoItsImportFolder) {
    Side a = side("a");
    publish(a);
    const fs::path first = export_bundle(a, root() / "out/");
    set_a("1.1");
    publish(a);
    const fs::path second = export_bundle(a, root() / "out/");
    EXPECT_EQ(first.filename(), "com.test.app-1-r1.bundle.tar");
    EXPECT_EQ(second.filename(), "com.test.app-1-r2.bundle.tar");
    Side b = side("b");

    // Uploaded into the import folder, then imported from there.
    CommandResult r = import_into(b, {first});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("com.test.app-1-r1.bundle.tar: imported app com.test.app@1 "
                                 "(com.test.app) as revision 1: 2 components"));
    EXPECT_EQ(revision(b), 1);
    EXPECT_EQ(components(b).at("com.test.a"), "1.0");
    const fs::path uploaded = b.data / "import" / first.filename();
    ASSERT_TRUE(fs::exists(uploaded));
    EXPECT_EQ(sha256_file(uploaded), sha256_file(first)) << "the import keeps the file as it came";

    // Copied into the folder by other means. A file written to moments ago (here: its time is
    // in the future) may still be arriving; one written to a while ago is settled.
    const fs::path dropped = b.data / "import" / second.filename();
    fs::copy_file(second, dropped);
    const auto now = fs::file_time_type::clock::now();
    fs::last_write_time(dropped, now + std::chrono::hours(1));
    auto listed = [&](const std::string& name) {
        const CommandResult list =
            ferry({"import", "--list", "--server", b.url(), "--token", b.token, "--json"});
        EXPECT_EQ(list.exit_code, 0) << describe(list);
        const Json files = Json::parse(list.out).at("files");
        for (const Json& file : files) {
            if (file.at("name") == name) {
                return file;
            }
        }
        ADD_FAILURE() << name << " is not listed: " << list.out;
        return Json();
    };
    EXPECT_FALSE(listed(second.filename()).value("settled", true));
    settle(dropped);
    const Json entry = listed(second.filename());
    EXPECT_TRUE(entry.value("settled", false)) << entry.dump();
    EXPECT_EQ(entry.value("kind", ""), "ferry-bundle") << entry.dump();
    EXPECT_FALSE(entry.value("differential", true)) << entry.dump();
    EXPECT_EQ(entry.value("size", std::uint64_t{0}), fs::file_size(second)) << entry.dump();
    ASSERT_EQ(entry.value("apps", Json::array()).size(), 1u) << entry.dump();
    EXPECT_EQ(entry["apps"][0].value("key", ""), kApp);
    EXPECT_EQ(entry["apps"][0].value("major", ""), kMajor);
    EXPECT_EQ(entry["apps"][0].value("revision", 0), 2);

    settle(uploaded);
    r = ferry({"import", "--list", "--server", b.url(), "--token", b.token});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("com.test.app-1-r1.bundle.tar  "));
    EXPECT_THAT(r.out, HasSubstr("ferry-bundle  com.test.app@1 r1\n"));
    EXPECT_THAT(r.out, HasSubstr("com.test.app-1-r2.bundle.tar  "));
    EXPECT_THAT(r.out, HasSubstr("ferry-bundle  com.test.app@1 r2\n"));
    EXPECT_EQ(revision(b), 1) << "listing imports nothing";

    r = ferry({"import", "--folder", second.filename().string(), "--server", b.url(), "--token",
               b.token});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("com.test.app-1-r2.bundle.tar: imported app com.test.app@1 "
                                 "(com.test.app) as revision 2: 2 components"));
    EXPECT_EQ(revision(b), 2);
    EXPECT_EQ(components(b).at("com.test.a"), "1.1");
    EXPECT_EQ(sha256_file(dropped), sha256_file(second)) << "the import never changes its file";
    EXPECT_EQ(leftovers(b), std::set<std::string>{});
}

// 3. A batch goes on past a file that fails.

TEST_F(Bundle, ABatchWithABrokenFileImportsTheGoodOneAndSaysWhyTheOtherFailed) {
    Side a = side("a");
    publish(a);
    const fs::path good = export_bundle(a, root() / "out/");
    const fs::path notes = root() / "out" / "notes.txt";
    write_text(notes, "not a bundle\n");
    Side b = side("b");

    const CommandResult r = import_into(b, {notes, good});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("notes.txt: failed: "));
    EXPECT_THAT(r.err, HasSubstr("neither a ferry bundle nor a Rainbond package"));
    EXPECT_THAT(r.err, HasSubstr(good.filename().string() + ": imported app com.test.app@1"));
    EXPECT_THAT(r.err, HasSubstr("batch: partial_success (1 of 2 files imported)"));
    EXPECT_EQ(revision(b), 1);

    // The market's record of the batch says the same.
    Json batch;
    const Json jobs = call(b, "GET", "/api/v1/jobs").json().at("jobs");
    for (const Json& job : jobs) {
        if (job.value("kind", "") == "import") {
            batch = job;
        }
    }
    ASSERT_TRUE(batch.is_object()) << "no import job listed";
    EXPECT_EQ(batch.value("state", ""), "success")
        << "a batch fails only when nothing was imported";
    const Json& detail = batch.at("detail");
    EXPECT_EQ(detail.value("result", ""), "partial_success") << detail.dump();
    std::map<std::string, std::string> states;
    for (const Json& file : detail.at("files")) {
        states[file.at("name").get<std::string>()] = file.at("state").get<std::string>();
    }
    EXPECT_EQ(states, (std::map<std::string, std::string>{{"notes.txt", "failed"},
                                                          {good.filename().string(), "success"}}));
}

// 4. The same file again.

TEST_F(Bundle, TheSameFileImportedAgainIsASuccessThatChangesNothing) {
    Side a = side("a");
    publish(a);
    const fs::path bundle = export_bundle(a, root() / "out/");
    Side b = side("b");
    CommandResult r = import_into(b, {bundle});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const std::string index = call(b, "GET", repo_path("Updates.xml")).body;

    r = import_into(b, {bundle});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("is in the market's import folder already"));
    EXPECT_THAT(r.err, HasSubstr(bundle.filename().string() +
                                 ": app com.test.app@1 (com.test.app): unchanged, this "
                                 "market has it as revision 1"));
    EXPECT_EQ(revision(b), 1);
    EXPECT_EQ(call(b, "GET", repo_path("Updates.xml")).body, index);

    // Into the stopped market's data directory: the same.
    stop(b);
    r = import_data(b, bundle);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("unchanged, this market has it as revision 1"));
    start(b);
    EXPECT_EQ(revision(b), 1);
    EXPECT_EQ(call(b, "GET", repo_path("Updates.xml")).body, index);
}

// A full disk: the market's store cannot take the bundle's files.

TEST_F(Bundle, ADiskTooFullForTheBundleFailsNamingItAndKeepsNothing) {
    Side a = side("a");
    publish(a);
    const fs::path bundle = export_bundle(a, root() / "out/");
    Side b = side("b", false);
    ferry({"import", "--list", "--data", b.data.string()});  // lays out the data directory
    const fs::path uploads = b.data / "uploads";
    if (::mount("tmpfs", uploads.c_str(), "tmpfs", 0, "size=128k") != 0) {
        GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    }
    struct Unmount {
        fs::path at;
        ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
    } unmount{uploads};
    const std::string before = sha256_file(bundle);
    const CommandResult r = import_data(b, bundle);
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(bundle.string()));
    EXPECT_THAT(r.err, HasSubstr("free")) << "the cause: the disk has no room";
    EXPECT_THAT(files_below(uploads), IsEmpty());
    EXPECT_THAT(blob_names(b.data), IsEmpty());
    EXPECT_FALSE(fs::exists(b.data / "repo" / kApp));
    EXPECT_EQ(sha256_file(bundle), before);
}

// 5. An upload cut short continues where it stopped.

TEST_F(Bundle, AnInterruptedUploadContinuesWhereItStopped) {
    Side a = side("a");
    publish(a);
    const fs::path bundle = export_bundle(a, root() / "out/");
    const std::string bytes = read_text(bundle);
    const std::string name = bundle.filename().string();
    const std::size_t k = bytes.size() / 3;
    Side b = side("b");

    const std::string path = "/api/v1/imports/files/" + name;
    const Reply part = call(b, "PUT", path, b.token, bytes.substr(0, k),
                            {{"Content-Range", "bytes 0-" + std::to_string(k - 1) + "/" +
                                                   std::to_string(bytes.size())}});
    ASSERT_EQ(part.status, 200) << part.what();
    Reply state = call(b, "GET", path, b.token);
    ASSERT_EQ(state.status, 200) << state.what();
    EXPECT_EQ(state.json().value("received", 0u), k) << state.body;
    EXPECT_FALSE(state.json().value("complete", true)) << state.body;
    EXPECT_FALSE(fs::exists(b.data / "import" / name)) << "not in the folder before it is whole";
    EXPECT_EQ(call(b, "GET", "/api/v1/imports/files", b.token).json().at("files"), Json::array())
        << "an upload in progress is not listed";

    // Another start than where it stopped (or the first byte: starting over) is refused,
    // saying where that is.
    const Reply again = call(
        b, "PUT", path, b.token, bytes.substr(1, k),
        {{"Content-Range", "bytes 1-" + std::to_string(k) + "/" + std::to_string(bytes.size())}});
    EXPECT_EQ(again.status, 409) << again.what();
    EXPECT_THAT(again.body, HasSubstr("the upload has " + std::to_string(k) + " bytes"));

    const CommandResult r = import_into(b, {bundle});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("continuing the upload of " + name + " at "));
    EXPECT_THAT(r.err, HasSubstr(name + ": imported app com.test.app@1 (com.test.app) as "
                                        "revision 1: 2 components"));
    EXPECT_TRUE(read_text(b.data / "import" / name) == bytes)
        << "the file in the import folder is not the one uploaded";
    EXPECT_FALSE(fs::exists(b.data / "import" / (".upload-" + name + ".part")));
    state = call(b, "GET", path, b.token);
    EXPECT_TRUE(state.json().value("complete", false)) << state.body;
    EXPECT_EQ(state.json().value("size", 0u), bytes.size()) << state.body;
    EXPECT_EQ(revision(b), 1);

    // Another file of that name is not uploaded over it.
    const fs::path other = root() / "elsewhere" / name;
    write_text(other, "another file\n");
    const CommandResult clash = import_into(b, {other});
    EXPECT_EQ(clash.exit_code, 1) << describe(clash);
    EXPECT_THAT(clash.err, HasSubstr("the market's import folder has another file of that name"));
    EXPECT_TRUE(read_text(b.data / "import" / name) == bytes);
}

// An upload needs the file's name to be free in the import folder: a file of that name that is
// not the one given is not taken for it.
TEST_F(Bundle, AFileReplacedAfterAFailedImportIsNotTakenForTheOneInTheFolder) {
    Side a = side("a");
    publish(a);
    const fs::path bundle = export_bundle(a, root() / "out/");
    const std::string good = read_text(bundle);
    const std::string name = bundle.filename().string();
    // The copy that arrives first was damaged on the way (one byte, same size) ...
    const fs::path carried = root() / "usb" / name;
    std::string damaged = good;
    damaged[damaged.size() / 2] ^= 0x01;
    write_text(carried, damaged);  // (write_text makes the directory)
    Side b = side("b");
    CommandResult r = import_into(b, {carried});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_EQ(revision(b), 0);

    // ... so the user copies it again, intact, and runs the same command once more.
    write_bytes(carried, good);
    r = import_into(b, {carried});
    const bool imported = r.exit_code == 0 && revision(b) == 1;
    const bool refused =
        r.exit_code != 0 && r.err.find("another file of that name") != std::string::npos;
    EXPECT_TRUE(imported || refused)
        << "the market's damaged copy of " << name
        << " (same name, same size, other content) was taken for the intact file given: "
        << describe(r);
}

// Several app versions in one file.

TEST_F(Bundle, SeveralAppVersionsInOneFileCarryASharedFileOnce) {
    Side a = side("a");
    publish(a);
    publish_app(a, packages_, "com.test.other");  // the same packages: the same archives
    const fs::path both = root() / "both.bundle.tar";
    CommandResult r =
        ferry({"export", std::string(kApp) + "@1", "com.test.other@1", "--format", "bundle",
               "--server", a.url(), "--token", a.token, "-o", both.string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const fs::path one = export_bundle(a, root() / "one/");
    const Json manifest = manifest_of(both);
    ASSERT_TRUE(manifest.is_object());
    ASSERT_EQ(manifest.at("apps").size(), 2u);
    std::set<std::string> files;
    for (const Json& app : manifest.at("apps")) {
        files.insert(app.at("updates_xml").at("sha256").get<std::string>());
        for (const Json& file : app.at("files")) {
            files.insert(file.at("sha256").get<std::string>());
        }
    }
    EXPECT_EQ(manifest.at("blobs").size(), files.size()) << "each file once";
    EXPECT_LT(fs::file_size(both), fs::file_size(one) + 50000)
        << "com.test.b's 300 kB are carried once";

    Side b = side("b");
    r = import_into(b, {both});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("imported app com.test.app@1 (com.test.app) as revision 1"));
    EXPECT_THAT(r.err, HasSubstr("imported app com.test.other@1 (com.test.other) as revision 1"));
    for (const std::string app : {"com.test.app", "com.test.other"}) {
        const Json in_a = version(a, app);
        const Json in_b = version(b, app);
        ASSERT_TRUE(in_b.is_object()) << app;
        EXPECT_EQ(in_b.value("revision", 0), 1) << app;
        EXPECT_EQ(in_b.at("files"), in_a.at("files")) << app;
        const std::string index = "/repo/" + app + "/1/Updates.xml";
        EXPECT_EQ(call(b, "GET", index).body, call(a, "GET", index).body) << app;
    }
}

// 6. A differential bundle: what the target has stays behind.

TEST_F(Bundle, ADifferentialBundleCarriesOnlyWhatTheTargetLacksAndNeedsItsBase) {
    Side a = side("a");
    publish(a);
    Side b = side("b");
    ASSERT_EQ(import_into(b, {export_bundle(a, root() / "first/")}).exit_code, 0);
    const fs::path inventory = root() / "b-inventory.json";
    CommandResult r = ferry({"inventory", "--server", b.url(), "-o", inventory.string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const Json listed = Json::parse(read_text(inventory));
    EXPECT_EQ(listed.at("apps").at(0).at("majors").at(0).value("revision", 0), 1) << listed.dump();

    set_a("1.1");
    publish(a);
    const fs::path whole = export_bundle(a, root() / "whole/");
    const fs::path diff = export_bundle(a, root() / "diff/", {"--have", inventory.string()});
    ASSERT_FALSE(diff.empty());
    EXPECT_NE(diff.filename(), whole.filename());
    EXPECT_LT(fs::file_size(diff) * 4, fs::file_size(whole))
        << "com.test.b's 300 kB, which B has, stay behind";
    const Json manifest = manifest_of(diff);
    ASSERT_TRUE(manifest.is_object());
    EXPECT_FALSE(manifest.value("omitted", Json::array()).empty()) << manifest.dump(1);
    std::string big_sha;
    const Json files = version(a).at("files");
    for (const Json& file : files) {
        if (file.at("path") == "com.test.b/1.0content.7z") {
            big_sha = file.at("sha256").get<std::string>();
        }
    }
    ASSERT_FALSE(big_sha.empty());
    auto lists = [](const Json& blobs, const std::string& sha256) {
        for (const Json& blob : blobs) {
            if (blob.at("sha256") == sha256) {
                return true;
            }
        }
        return false;
    };
    EXPECT_TRUE(lists(manifest.at("omitted"), big_sha));
    EXPECT_FALSE(lists(manifest.at("blobs"), big_sha));

    // A market without the base: refused before anything is stored, naming what it lacks.
    Side c = side("c");
    r = import_into(c, {diff});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("a differential bundle whose base this market lacks"));
    EXPECT_THAT(r.err, HasSubstr("com.test.app@1: com.test.b/1.0content.7z"));
    expect_no_app(c, "after the refused differential bundle");
    EXPECT_EQ(blob_names(c.data), std::set<std::string>{}) << "nothing is stored";
    EXPECT_EQ(leftovers(c), std::set<std::string>{});
    settle(c.data / "import" / diff.filename());
    r = ferry({"import", "--list", "--server", c.url(), "--token", c.token});
    EXPECT_THAT(r.out, HasSubstr("com.test.app@1 r2  (differential)")) << describe(r);

    // With its base in the same batch (named after it), the base goes first and both import.
    const fs::path base = root() / "first" / "com.test.app-1-r1.bundle.tar";
    r = import_into(c, {diff, base});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("batch: success (2 of 2 files imported)"));
    EXPECT_LT(r.err.find("as revision 1"), r.err.find("as revision 2")) << r.err;
    EXPECT_EQ(revision(c), 2);

    // The market it was made for takes it.
    r = import_into(b, {diff});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("as revision 2: 2 components"));
    const Json in_a = version(a);
    const Json in_b = version(b);
    EXPECT_EQ(in_b.value("revision", 0), 2);
    EXPECT_EQ(in_b.at("components"), in_a.at("components"));
    EXPECT_EQ(in_b.at("files"), in_a.at("files"));
    EXPECT_TRUE(call(b, "GET", repo_path("com.test.b/1.0content.7z")).body ==
                call(a, "GET", repo_path("com.test.b/1.0content.7z")).body);
}

// 7. Export jobs through the API, and the bundle's download.

TEST_F(Bundle, ExportJobsThroughTheApiWriteADownloadableBundleOnce) {
    Side a = side("a");
    publish(a);
    const std::string body =
        Json{{"apps", Json::array({std::string(kApp) + "@1"})}, {"format", "bundle"}}.dump();
    EXPECT_EQ(call(a, "POST", "/api/v1/exports", "", body).status, 401);
    EXPECT_EQ(call(a, "POST", "/api/v1/exports", a.token,
                   Json{{"apps", Json::array({"com.test.nothing@1"})}, {"format", "bundle"}}.dump())
                  .status,
              404);

    // An app whose publisher does not allow bundles is refused before any job starts.
    publish_app(a, packages_, "com.test.closed", {"--export-formats", "docker-compose"});
    const Reply closed = call(
        a, "POST", "/api/v1/exports", a.token,
        Json{{"apps", Json::array({"com.test.closed@1", std::string(kApp)})}, {"format", "bundle"}}
            .dump());
    EXPECT_EQ(closed.status, 409) << closed.what();
    EXPECT_THAT(closed.body,
                HasSubstr("the publisher of com.test.closed does not allow bundle export"));
    EXPECT_EQ(call(a, "GET", "/api/v1/jobs").json().value("jobs", Json::array()), Json::array())
        << "no job started for the other app either";
    const CommandResult refused =
        ferry({"export", "com.test.closed", "--format", "bundle", "--data", a.data.string(), "-o",
               (root() / "closed.bundle.tar").string()});
    EXPECT_EQ(refused.exit_code, 1) << describe(refused);
    EXPECT_THAT(refused.err, HasSubstr("does not allow bundle export"));
    EXPECT_FALSE(fs::exists(root() / "closed.bundle.tar"));

    const Reply started = call(a, "POST", "/api/v1/exports", a.token, body);
    ASSERT_EQ(started.status, 202) << started.what();
    ASSERT_EQ(started.json().at("jobs").size(), 1u) << started.body;
    const Json first = started.json().at("jobs").at(0);
    EXPECT_EQ(first.value("kind", ""), "export");
    EXPECT_EQ(first.value("target", ""), "com.test.app-1-r1.bundle.tar");
    const Json job = finished_job(a, first.at("id").get<std::string>());
    ASSERT_EQ(job.value("state", ""), "success") << job.dump();
    const Json detail = job.at("detail");
    EXPECT_EQ(detail.value("file", ""), "com.test.app-1-r1.bundle.tar") << detail.dump();
    EXPECT_EQ(detail.value("url", ""), "/exports/bundle/com.test.app-1-r1.bundle.tar");
    EXPECT_FALSE(detail.value("reused", true));
    const std::uint64_t bytes = detail.value("bytes", std::uint64_t{0});
    EXPECT_GT(bytes, 300000u);

    const std::string url = detail.value("url", "");
    const Reply download = call(a, "GET", url);
    ASSERT_EQ(download.status, 200) << download.what();
    EXPECT_EQ(download.body.size(), bytes);
    const fs::path downloaded = root() / "downloaded.bundle.tar";
    write_bytes(downloaded, download.body);
    const Json manifest = manifest_of(downloaded);
    EXPECT_EQ(manifest.value("format", ""), "ferry-bundle");
    EXPECT_EQ(manifest.at("apps").at(0).value("revision", 0), 1);
    EXPECT_EQ(manifest.at("apps").at(0).at("app").value("key", ""), kApp);

    const Reply range = call(a, "GET", url, "", "", {{"Range", "bytes=0-99"}});
    EXPECT_EQ(range.status, 206) << range.what();
    EXPECT_EQ(range.body.size(), 100u);
    EXPECT_TRUE(range.body == download.body.substr(0, 100));
    EXPECT_EQ(range.header("Content-Range"), "bytes 0-99/" + std::to_string(bytes));

    // The same revision again: the bundle written before, at once.
    const Reply second = call(a, "POST", "/api/v1/exports", a.token, body);
    ASSERT_EQ(second.status, 202) << second.what();
    const Json reused = second.json().at("jobs").at(0);
    EXPECT_EQ(reused.value("state", ""), "success") << reused.dump();
    EXPECT_TRUE(reused.at("detail").value("reused", false)) << reused.dump();
    EXPECT_EQ(reused.at("detail").value("file", ""), detail.value("file", ""));
    EXPECT_EQ(reused.at("detail").value("bytes", std::uint64_t{0}), bytes);
    EXPECT_TRUE(call(a, "GET", url).body == download.body);

    // Assembled by ferry itself (through the API without a token, or from the data directory of
    // the running market), the bundle holds the same app version and blobs.
    CommandResult r = ferry({"export", std::string(kApp) + "@1", "--format", "bundle", "--server",
                             a.url(), "-o", (root() / "api.bundle.tar").string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = ferry({"export", std::string(kApp) + "@1", "--format", "bundle", "--data", a.data.string(),
               "-o", (root() / "data.bundle.tar").string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    for (const std::string name : {"api.bundle.tar", "data.bundle.tar"}) {
        const Json other = manifest_of(root() / name);
        ASSERT_TRUE(other.is_object()) << name;
        EXPECT_EQ(other.at("apps"), manifest.at("apps")) << name;
        EXPECT_EQ(other.at("blobs"), manifest.at("blobs")) << name;
        EXPECT_EQ(other.at("omitted"), Json::array()) << name;
    }
}

// 8. A service app: its images keep their digests in the importing market's registry.

TEST_F(Bundle, AServiceAppsImagesKeepTheirDigestsInTheImportingMarketsRegistry) {
    const fs::path packages = root() / "service-packages";
    const std::string component = "com.test.web";
    make_package(packages, component, "1.0", {}, kDefault);
    fs::create_directories(packages / component / "data");
    write_text(packages / component / "meta" / "service.yaml",
               "image: ferry-test/web:1\n"
               "command: [/bin/busybox, httpd, -f, -p, '8080']\n"
               "ports: [{container: 8080, publish: true}]\n");
    const std::string base = make_tar({{"base/blob", random_bytes(200000, 9)}});
    const std::string own = make_tar({{"app/web", "web"}});
    write_bytes(packages / component / "data" / "image.tar",
                make_tar(docker_save_entries({{{"ferry-test/web:1"}, {base, own}}})));
    const std::string app = "com.test.svc";
    Side a = side("a");
    publish_app(a, packages, app);
    const fs::path bundle = export_bundle(a, root() / "out/", {}, app);
    Side b = side("b");
    const CommandResult r = import_into(b, {bundle});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("imported app com.test.svc@1"));

    const httplib::Headers accept{{"Accept",
                                   "application/vnd.docker.distribution.manifest.v2+json, "
                                   "application/vnd.oci.image.manifest.v1+json"}};
    for (const std::string reference : {"1.0", "latest"}) {
        const std::string path = "/v2/" + app + "/" + component + "/manifests/" + reference;
        const Reply from_a = call(a, "GET", path, "", "", accept);
        const Reply from_b = call(b, "GET", path, "", "", accept);
        ASSERT_EQ(from_a.status, 200) << path << ": " << from_a.what();
        ASSERT_EQ(from_b.status, 200) << path << ": " << from_b.what();
        const std::string digest = from_a.header("Docker-Content-Digest");
        EXPECT_EQ(digest, "sha256:" + sha256_of(from_a.body));
        EXPECT_EQ(from_b.header("Docker-Content-Digest"), digest) << path;
        EXPECT_EQ(from_b.body, from_a.body) << path;
    }
    // Its config and layers are whole in B.
    const Json manifest =
        call(b, "GET", "/v2/" + app + "/" + component + "/manifests/1.0", "", "", accept).json();
    ASSERT_TRUE(manifest.is_object());
    std::vector<Json> blobs{manifest.at("config")};
    for (const Json& layer : manifest.at("layers")) {
        blobs.push_back(layer);
    }
    EXPECT_EQ(blobs.size(), 3u) << manifest.dump();
    for (const Json& blob : blobs) {
        const std::string digest = blob.at("digest").get<std::string>();
        const Reply got = call(b, "GET", "/v2/" + app + "/" + component + "/blobs/" + digest);
        EXPECT_EQ(got.status, 200) << digest;
        EXPECT_EQ("sha256:" + sha256_of(got.body), digest);
        EXPECT_EQ(got.body.size(), blob.at("size").get<std::size_t>()) << digest;
    }
}

// 9. Bad input: refused naming the file and the cause; nothing is visible, nothing is left.

TEST_F(Bundle, ABrokenBundleIsRefusedNamingTheFileAndTheCauseAndLeavesNothing) {
    Side a = side("a");
    publish(a);
    const fs::path bundle = export_bundle(a, root() / "out/");
    ASSERT_FALSE(bundle.empty());
    const std::string bytes = read_text(bundle);
    const Json manifest = manifest_of(bundle);
    ASSERT_TRUE(manifest.is_object());

    // The largest blob (com.test.b's archive), found in the bundle by its content.
    Json largest;
    for (const Json& blob : manifest.at("blobs")) {
        if (largest.is_null() || blob.at("size") > largest.at("size")) {
            largest = blob;
        }
    }
    const std::string big_sha = largest.at("sha256").get<std::string>();
    const CommandResult content =
        run({"/usr/bin/tar", "-xOf", bundle.string(), "blobs/sha256/" + big_sha});
    ASSERT_EQ(content.out.size(), largest.at("size").get<std::size_t>());
    const std::size_t at = bytes.find(content.out.substr(0, 4096));
    ASSERT_NE(at, std::string::npos);

    const fs::path broken = root() / "broken";
    fs::create_directories(broken);
    const fs::path truncated = broken / "truncated.bundle.tar";
    write_bytes(truncated, bytes.substr(0, bytes.size() / 2));
    const fs::path flipped = broken / "flipped.bundle.tar";
    std::string damaged = bytes;
    damaged[at + content.out.size() / 2] ^= 0x01;
    write_bytes(flipped, damaged);
    // Cut where an entry begins: the file ends before the manifest's last blob.
    const std::string last_sha = manifest.at("blobs").back().at("sha256").get<std::string>();
    const std::size_t last = entry_offset(bytes, "blobs/sha256/" + last_sha);
    ASSERT_NE(last, std::string::npos);
    const fs::path cut = broken / "cut.bundle.tar";
    write_bytes(cut, bytes.substr(0, last));
    const fs::path future =
        rebuild(bundle, "future.bundle.tar", [](Json& m) { m["format_version"] = 2; });
    const fs::path escaping = rebuild(bundle, "escaping.bundle.tar", [](Json& m) {
        m["apps"][0]["files"][0]["path"] = "../../escaped.7z";
    });

    struct Case {
        fs::path file;
        std::vector<std::string> says;
    };
    const std::vector<Case> cases{
        {truncated, {"truncated"}},
        {flipped, {"blobs/sha256/" + big_sha + ": ", "SHA-256 is "}},
        {cut, {"ends before blobs/sha256/" + last_sha + ": the file is truncated"}},
        {future, {"ferry-bundle.json", "format version 2 is not one this ferry reads (1)"}},
        {escaping, {"ferry-bundle.json", "the file name \"../../escaped.7z\""}},
    };
    Side running = side("running");
    Side stopped = side("stopped", /*running=*/false);
    for (const Case& c : cases) {
        const std::string name = c.file.filename().string();
        const std::string before = sha256_file(c.file);

        CommandResult r = import_into(running, {c.file});
        EXPECT_EQ(r.exit_code, 1) << name << ": " << describe(r);
        EXPECT_THAT(r.err, HasSubstr(name + ": failed: ")) << name;
        EXPECT_THAT(r.err, HasSubstr((running.data / "import" / name).string())) << name;
        for (const std::string& says : c.says) {
            EXPECT_THAT(r.err, HasSubstr(says)) << name;
        }
        expect_no_app(running, name);
        EXPECT_EQ(leftovers(running), std::set<std::string>{}) << name;
        EXPECT_EQ(sha256_file(running.data / "import" / name), before)
            << name << ": the import folder's copy changed";

        r = import_data(stopped, c.file);
        EXPECT_EQ(r.exit_code, 1) << name << ": " << describe(r);
        EXPECT_THAT(r.err, HasSubstr(c.file.string() + ": failed: " + c.file.string())) << name;
        for (const std::string& says : c.says) {
            EXPECT_THAT(r.err, HasSubstr(says)) << name;
        }
        EXPECT_EQ(leftovers(stopped), std::set<std::string>{}) << name;
        EXPECT_EQ(sha256_file(c.file), before) << name << ": the source file changed";
    }
    start(stopped);
    expect_no_app(stopped, "after the refused imports into the data directory");
    for (const Side* side : {&running, &stopped}) {
        EXPECT_FALSE(fs::exists(side->data / "repo" / "escaped.7z"));
        EXPECT_FALSE(fs::exists(side->data / "escaped.7z"));
    }

    // The crafted file's flaw is its format version alone: rebuilt as it was, it imports.
    const fs::path same = rebuild(bundle, "same.bundle.tar", [](Json&) {});
    const CommandResult r = import_into(running, {same});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(revision(running), 1);
}

TEST_F(Bundle, AnOlderOrDifferentRevisionNeverReplacesTheMarkets) {
    Side a = side("a");
    publish(a);
    const fs::path first = export_bundle(a, root() / "out/");  // a 1.0, revision 1
    set_a("1.1");
    publish(a);
    const fs::path second = export_bundle(a, root() / "out/");  // a 1.1, revision 2

    // A lower revision than the market's, with other content.
    Side b = side("b");
    ASSERT_EQ(import_into(b, {second}).exit_code, 0);
    ASSERT_EQ(revision(b), 2);
    const std::string index = call(b, "GET", repo_path("Updates.xml")).body;
    const std::string before = sha256_file(first);
    CommandResult r = import_into(b, {first});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(first.filename().string() + ": failed: "));
    EXPECT_THAT(r.err, HasSubstr("holds com.test.app@1 revision 1, but this market is at "
                                 "revision 2"));
    EXPECT_THAT(r.err, HasSubstr("never replaces a revision"));
    EXPECT_EQ(revision(b), 2);
    EXPECT_EQ(components(b).at("com.test.a"), "1.1");
    EXPECT_EQ(call(b, "GET", repo_path("Updates.xml")).body, index);
    EXPECT_EQ(leftovers(b), std::set<std::string>{});
    EXPECT_EQ(sha256_file(first), before);
    stop(b);
    r = import_data(b, first);
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("never replaces a revision"));
    start(b);
    EXPECT_EQ(revision(b), 2);
    EXPECT_EQ(call(b, "GET", repo_path("Updates.xml")).body, index);

    // The same revision number as the market's own, with other content.
    Side c = side("c");
    publish(c);  // its revision 1: a 1.1
    r = import_into(c, {first});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("its revision 1 has other content"));
    EXPECT_THAT(r.err, HasSubstr("never replaces a revision"));
    EXPECT_EQ(revision(c), 1);
    EXPECT_EQ(components(c).at("com.test.a"), "1.1");
    EXPECT_EQ(call(c, "GET", std::string("/api/v1/apps/") + kApp).json().value("source", ""),
              "published");
    EXPECT_EQ(leftovers(c), std::set<std::string>{});
}

}  // namespace
}  // namespace ferry::testing
