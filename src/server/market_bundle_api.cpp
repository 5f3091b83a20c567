// The market API's routes for offline bundles (docs/API.md, "Exports and imports"): export jobs
// and their files, the inventory, the import folder with its resumable uploads, import batches.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <exception>
#include <set>

#include "core/file_descriptor.hpp"
#include "core/file_error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "market/bundles.hpp"
#include "market/import_folder.hpp"
#include "server/market_api.hpp"
#include "server/market_api_internal.hpp"
#include "server/static_files.hpp"

namespace ferry::server {

namespace fs = std::filesystem;
using market::Token;

namespace {

// "bytes START-END/TOTAL" as a resumable upload sends it.
struct UploadRange {
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // inclusive
    std::uint64_t total = 0;
};

std::uint64_t parse_size(std::string_view text, std::string_view what) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        throw Error::format("{} \"{}\" is not a size", what, text);
    }
    return value;
}

UploadRange upload_range(const Request& req, std::uint64_t length) {
    if (!req.has_header("Content-Range")) {
        if (length == 0) {
            throw Error("an upload without Content-Range needs a body");
        }
        return {0, length - 1, length};
    }
    const std::string header = req.get_header_value("Content-Range");
    const std::string_view text(header);
    const auto dash = text.find('-');
    const auto slash = text.find('/');
    if (!text.starts_with("bytes ") || dash == text.npos || slash == text.npos || dash > slash) {
        throw Error::format("Content-Range \"{}\" is not \"bytes START-END/TOTAL\"", header);
    }
    UploadRange range{parse_size(text.substr(6, dash - 6), "Content-Range start"),
                      parse_size(text.substr(dash + 1, slash - dash - 1), "Content-Range end"),
                      parse_size(text.substr(slash + 1), "Content-Range total")};
    if (range.end < range.start || range.end >= range.total ||
        range.end - range.start + 1 != length) {
        throw Error::format("Content-Range \"{}\" does not match a body of {} bytes", header,
                            length);
    }
    return range;
}

Json upload_state(const fs::path& file, const fs::path& part) {
    std::error_code ec;
    if (fs::is_regular_file(file, ec)) {
        return {{"name", file.filename().string()},
                {"complete", true},
                {"size", fs::file_size(file, ec)},
                {"received", fs::file_size(file, ec)}};
    }
    const std::uint64_t received = fs::exists(part, ec) ? fs::file_size(part, ec) : 0;
    return {{"name", file.filename().string()}, {"complete", false}, {"received", received}};
}

}  // namespace

void MarketApi::put_import_file(const Request& req, Response& res, const ContentReader& content) {
    auto drain = [&] { content([](const char*, size_t) { return true; }); };
    if (!require(req, res, Token::Role::publish)) {
        return;
    }
    if (!req.has_header("Content-Length")) {
        send_error(res, 411, "an upload needs a Content-Length");
        return;
    }
    const std::string name = req.matches[1];
    market::check_import_name(name);
    const UploadRange range =
        upload_range(req, parse_size(req.get_header_value("Content-Length"), "Content-Length"));
    const fs::path folder = data_.import_folder();
    fs::create_directories(folder);
    const fs::path file = folder / name;
    const fs::path part = folder / (".upload-" + name + ".part");
    std::error_code ec;
    if (fs::exists(file, ec)) {
        drain();
        send_error(res, 409, fmt::format("a file named {} is in the import folder already", name));
        return;
    }
    core::FileDescriptor fd(::open(part.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        throw file_error(part.string(), "cannot open the upload", errno);
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        drain();
        send_error(res, 409, fmt::format("{} is being uploaded by another request", name));
        return;
    }
    struct stat st {};
    ::fstat(fd.get(), &st);
    auto received = static_cast<std::uint64_t>(st.st_size);
    if (range.start == 0 && received > 0) {
        // An upload that starts at the first byte starts over.
        if (::ftruncate(fd.get(), 0) != 0) {
            throw file_error(part.string(), "cannot start the upload over", errno);
        }
        received = 0;
    }
    if (range.start != received) {
        drain();
        send_error(res, 409,
                   fmt::format("{}: the upload has {} bytes; continue from there "
                               "(Content-Range: bytes {}-...)",
                               name, received, received));
        return;
    }
    ::lseek(fd.get(), static_cast<off_t>(received), SEEK_SET);
    // What arrives is kept even when the connection breaks: the next request continues it.
    std::exception_ptr failure;
    std::uint64_t written = 0;
    content([&](const char* data, size_t length) {
        try {
            core::write_all(fd.get(), data, length, part.string());
            written += length;
            return true;
        } catch (...) {
            failure = std::current_exception();
            return false;
        }
    });
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (received + written != range.end + 1) {
        throw Error::format("{}: the body ended after {} of {} bytes", name, written,
                            range.end - range.start + 1);
    }
    if (range.end + 1 < range.total) {
        send_json(res, 200, upload_state(file, part));
        return;
    }
    if (::fsync(fd.get()) != 0 || ::rename(part.c_str(), file.c_str()) != 0) {
        throw file_error(file.string(), "cannot complete the upload", errno);
    }
    core::sync_path(folder);
    send_json(res, 201, upload_state(file, part));
}

void MarketApi::install_bundle_routes(Routes& routes) {
    serve_static(routes, "/exports", data_.exports());

    routes.Get("/api/v1/inventory", [this](const Request&, Response& res) {
        send_json(res, 200, market::inventory_json(data_, catalog_));
    });

    routes.Post("/api/v1/exports", guarded([this](const Request& req, Response& res) {
                    if (!require(req, res, Token::Role::publish)) {
                        return;
                    }
                    if (bundles_.exports == nullptr) {
                        send_error(res, 409, "this server runs no exports");
                        return;
                    }
                    const Json body = parse_body(req);
                    const std::string format = body.value("format", "bundle");
                    if (format != market::kBundleFormat) {
                        send_error(
                            res, 400,
                            fmt::format("format \"{}\": the market exports \"bundle\"", format));
                        return;
                    }
                    const auto wanted = body.at("apps").get<std::vector<std::string>>();
                    std::set<std::string> have;
                    for (const Json& sha256 : body.value("have", Json::array())) {
                        have.insert(sha256.get<std::string>());
                    }
                    Json jobs = Json::array();
                    for (const auto& job : bundles_.exports->start(wanted, have)) {
                        jobs.push_back(job_json(job));
                    }
                    send_json(res, 202, {{"jobs", jobs}});
                }));

    routes.Get("/api/v1/imports/files", [this](const Request& req, Response& res) {
        if (!require(req, res, Token::Role::publish)) {
            return;
        }
        Json files = Json::array();
        for (const auto& info : market::list_import_folder(data_)) {
            files.push_back(market::import_file_json(info));
        }
        send_json(res, 200, {{"folder", data_.import_folder().string()}, {"files", files}});
    });

    routes.Get(R"(/api/v1/imports/files/([^/]+))", [this](const Request& req, Response& res) {
        if (!require(req, res, Token::Role::publish)) {
            return;
        }
        const std::string name = req.matches[1];
        market::check_import_name(name);
        const fs::path folder = data_.import_folder();
        const fs::path file = folder / name;
        const fs::path part = folder / (".upload-" + name + ".part");
        Json state = upload_state(file, part);
        // ?sha256=1: the digest of what is there (the file, or the part received so far), so
        // that an uploader can tell its file from another of that name.
        std::error_code ec;
        if (req.has_param("sha256") && (state.at("complete").get<bool>() || fs::exists(part, ec))) {
            state["sha256"] =
                core::digest_file(state.at("complete").get<bool>() ? file : part).sha256;
        }
        send_json(res, 200, state);
    });

    routes.Put(R"(/api/v1/imports/files/([^/]+))",
               [this](const Request& req, Response& res, const ContentReader& content) {
                   put_import_file(req, res, content);
               });

    routes.Post("/api/v1/imports", guarded([this](const Request& req, Response& res) {
                    if (!require(req, res, Token::Role::publish)) {
                        return;
                    }
                    if (bundles_.imports == nullptr) {
                        send_error(res, 409, "this server runs no imports");
                        return;
                    }
                    const Json body = parse_body(req);
                    const auto names = body.at("files").get<std::vector<std::string>>();
                    send_json(res, 202, job_json(bundles_.imports->start(names)));
                }));
}

}  // namespace ferry::server
