// Static files for `ferry serve`: safe path resolution, validators, conditional and Range
// requests. Small files come from FileCache (gzipped there once per file version); large ones
// are sent from the open file in pieces.
#include "server/static_files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/file_descriptor.hpp"
#include "server/file_cache.hpp"
#include "server/http_server.hpp"

namespace ferry::server {

namespace fs = std::filesystem;

namespace {

// Compressible files up to this size are read into memory to be gzipped; larger ones are sent
// as they are.
constexpr std::uint64_t max_compressed_size = 16u << 20;
// Files up to this size (every Updates.xml but the largest) are kept in memory, within a total.
constexpr std::uint64_t max_cached_file_size = 4u << 20;
constexpr std::uint64_t max_cached_total_size = 64u << 20;

constexpr std::array<const char*, 7> day_names = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// RFC 7231 IMF-fixdate, spelled out by hand so that the locale cannot change it.
std::string http_date(std::time_t time) {
    std::tm t{};
    ::gmtime_r(&time, &t);
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", day_names.at(t.tm_wday),
                       t.tm_mday, month_names.at(t.tm_mon), t.tm_year + 1900, t.tm_hour, t.tm_min,
                       t.tm_sec);
}

std::optional<std::time_t> parse_http_date(const std::string& text) {
    char day[4] = {};
    char month[4] = {};
    std::tm t{};
    if (std::sscanf(text.c_str(), "%3[A-Za-z], %d %3s %d %d:%d:%d GMT", day, &t.tm_mday, month,
                    &t.tm_year, &t.tm_hour, &t.tm_min, &t.tm_sec) != 7) {
        return std::nullopt;
    }
    auto found = std::find_if(month_names.begin(), month_names.end(),
                              [&](const char* name) { return std::string_view(name) == month; });
    if (found == month_names.end())
        return std::nullopt;
    t.tm_mon = static_cast<int>(found - month_names.begin());
    t.tm_year -= 1900;
    return ::timegm(&t);
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
    std::uint64_t value = 0;
    if (text.empty())
        return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

struct ByteRange {
    enum Kind { whole, part, unsatisfiable } kind = whole;
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};

// One range of "bytes=a-b", "bytes=a-" or "bytes=-n". Anything else (several ranges, other
// units, bad syntax) is ignored and the whole file sent, as RFC 7233 allows.
ByteRange parse_range(std::string_view header, std::uint64_t size) {
    header = trim_header_value(header);
    if (!header.starts_with("bytes="))
        return {};
    auto spec = trim_header_value(header.substr(6));
    auto dash = spec.find('-');
    if (spec.find(',') != std::string_view::npos || dash == std::string_view::npos)
        return {};
    auto from = trim_header_value(spec.substr(0, dash));
    auto to = trim_header_value(spec.substr(dash + 1));
    if (from.empty()) {
        auto suffix = parse_number(to);
        if (!suffix)
            return {};
        if (*suffix == 0 || size == 0)
            return {ByteRange::unsatisfiable};
        return {ByteRange::part, size - std::min(*suffix, size), size - 1};
    }
    auto first = parse_number(from);
    auto last = to.empty() ? std::optional<std::uint64_t>(UINT64_MAX) : parse_number(to);
    if (!first || !last || *last < *first)
        return {};
    if (*first >= size)
        return {ByteRange::unsatisfiable};
    return {ByteRange::part, *first, std::min(*last, size - 1)};
}

std::string content_type_of(const fs::path& path) {
    const std::string ext = path.extension().string();
    if (ext == ".xml")
        return "application/xml";
    if (ext == ".json")
        return "application/json";
    if (ext == ".7z")
        return "application/x-7z-compressed";
    if (ext == ".sha1")
        return "text/plain";
    return "application/octet-stream";
}

// "", ".", ".." and NUL components are refused before the file system is asked anything.
bool safe_relative(std::string_view rel) {
    if (rel.empty() || rel.front() == '/' || rel.find('\0') != std::string_view::npos) {
        return false;
    }
    while (true) {
        auto slash = rel.find('/');
        auto part = rel.substr(0, slash);
        if (part.empty() || part == "." || part == "..")
            return false;
        if (slash == std::string_view::npos)
            return true;
        rel.remove_prefix(slash + 1);
    }
}

class StaticHandler {
  public:
    explicit StaticHandler(fs::path root)
        : root_(std::move(root)),
          root_fd_(std::make_shared<core::FileDescriptor>(
              ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC))),
          cache_(std::make_shared<FileCache>(max_cached_file_size, max_cached_total_size)) {}

    void operator()(const Request& req, Response& res) const {
        std::string rel = req.matches[1];
        // "dir/" names the directory, answered like "dir" (404), not as a malformed path.
        if (rel.size() > 1 && rel.back() == '/')
            rel.pop_back();
        if (!safe_relative(rel)) {
            send_error(res, 403, "the path is not allowed");
            return;
        }
        auto file = open(rel);
        struct stat st {};
        if (!file || ::fstat(file->get(), &st) != 0 || !S_ISREG(st.st_mode)) {
            send_error(res, 404, fmt::format("{} not found", req.path));
            return;
        }
        const auto size = static_cast<std::uint64_t>(st.st_size);
        const std::uint64_t mtime_ns =
            static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000u +
            static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
        const std::string strong_etag = fmt::format("\"{:x}-{:x}-{:x}\"", size, mtime_ns,
                                                    static_cast<std::uint64_t>(st.st_ino));
        const std::string content_type = content_type_of(rel);
        const bool has_range = req.has_header("Range");
        const bool compress = compressible(content_type) && !has_range &&
                              size <= max_compressed_size && accepts_gzip(req);
        // A gzipped body is another representation: its tag is weak, like nginx's.
        const std::string etag = compress ? "W/" + strong_etag : strong_etag;

        res.set_header("ETag", etag);
        res.set_header("Last-Modified", http_date(st.st_mtim.tv_sec));
        res.set_header("Accept-Ranges", "bytes");
        if (compressible(content_type))
            res.set_header("Vary", "Accept-Encoding");

        if (req.has_header("If-None-Match")) {
            if (none_match_hits(req.get_header_value("If-None-Match"), etag)) {
                res.status = 304;
                return;
            }
        } else if (req.has_header("If-Modified-Since")) {
            auto since = parse_http_date(req.get_header_value("If-Modified-Since"));
            if (since && st.st_mtim.tv_sec <= *since) {
                res.status = 304;
                return;
            }
        }

        ByteRange range;
        if (has_range && req.method == "GET" && range_allowed(req, strong_etag, st)) {
            range = parse_range(req.get_header_value("Range"), size);
        }
        if (range.kind == ByteRange::unsatisfiable) {
            res.set_header("Content-Range", fmt::format("bytes */{}", size));
            send_error(res, 416, fmt::format("the range is outside {} ({} bytes)", req.path, size));
            return;
        }

        std::uint64_t first = 0;
        std::uint64_t length = size;
        res.status = 200;
        if (range.kind == ByteRange::part) {
            first = range.first;
            length = range.last - range.first + 1;
            res.status = 206;
            res.set_header("Content-Range",
                           fmt::format("bytes {}-{}/{}", range.first, range.last, size));
        }
        if (length == 0) {
            res.set_content("", content_type);
            return;
        }
        if (compress || cache_->holds_size(size)) {
            auto body = cache_->get(rel, st, file->get(), compress);
            if (!body) {
                send_error(res, 500, fmt::format("cannot read {}", req.path));
                return;
            }
            if (compress) {
                res.set_header("Content-Encoding", "gzip");
                length = body->size();
            }
            res.set_content(BodyPart{body, nullptr, first, length}, content_type);
            return;
        }
        res.set_content(BodyPart{nullptr, std::move(file), first, length}, content_type);
    }

  private:
    // The file under root, or nothing when it is missing or resolves (through symlinks) to a
    // place outside root.
    std::shared_ptr<core::FileDescriptor> open(const std::string& rel) const {
        // One system call resolves rel beneath root, refusing ".." and symlinks that lead out.
        open_how how{};
        how.flags = O_RDONLY | O_CLOEXEC;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        const long opened = ::syscall(SYS_openat2, root_fd_->get(), rel.c_str(), &how, sizeof how);
        if (opened >= 0)
            return std::make_shared<core::FileDescriptor>(static_cast<int>(opened));
        // Absolute symlinks (EXDEV) may still lead inside, and a kernel before Linux 5.6 (or a
        // sandbox) has no openat2: the path is then resolved in full and checked.
        if (errno != EXDEV && errno != ELOOP && errno != ENOSYS && errno != EPERM)
            return nullptr;
        const fs::path candidate = root_ / rel;
        std::unique_ptr<char, decltype(&std::free)> real(::realpath(candidate.c_str(), nullptr),
                                                         &std::free);
        if (!real)
            return nullptr;
        const std::string_view resolved(real.get());
        const std::string& base = root_.native();
        if (!resolved.starts_with(base) ||
            (resolved.size() > base.size() && base != "/" && resolved[base.size()] != '/')) {
            return nullptr;
        }
        // O_NOFOLLOW: the resolved path has no symlinks left; one appearing since is refused.
        core::FileDescriptor fd(::open(real.get(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (fd.get() < 0)
            return nullptr;
        return std::make_shared<core::FileDescriptor>(std::move(fd));
    }

    // If-Range: the range applies only to the representation the client has part of, named by
    // its strong ETag or its exact Last-Modified date.
    static bool range_allowed(const Request& req, const std::string& strong_etag,
                              const struct stat& st) {
        if (!req.has_header("If-Range"))
            return true;
        const std::string value(trim_header_value(req.get_header_value("If-Range")));
        if (value.starts_with("\"") || value.starts_with("W/"))
            return value == strong_etag;
        auto date = parse_http_date(value);
        return date && *date == st.st_mtim.tv_sec;
    }

    fs::path root_;
    std::shared_ptr<const core::FileDescriptor> root_fd_;
    std::shared_ptr<FileCache> cache_;
};

}  // namespace

Handler file_handler(const fs::path& root) {
    std::error_code ec;
    fs::path real = fs::canonical(root, ec);
    if (ec) {
        throw Error::format("cannot serve {}: {}", root.string(), ec.message());
    }
    if (!fs::is_directory(real)) {
        throw Error::format("cannot serve {}: not a directory", root.string());
    }
    return StaticHandler(std::move(real));
}

void serve_static(Routes& routes, const std::string& url_prefix, const fs::path& root) {
    // HEAD reaches the handler as well; the server leaves the body out.
    routes.get_under(url_prefix, file_handler(root));
}

}  // namespace ferry::server
