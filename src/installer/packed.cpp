#include "installer/packed.hpp"

#include <fcntl.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_error.hpp"
#include "core/files.hpp"
#include "installer/executable_io.hpp"
#include "installer/packed_format.hpp"
#include "installer/payload.hpp"

namespace ferry::installer {

namespace {

std::uint64_t file_size(int fd, const fs::path& path) {
    struct stat status {};
    if (::fstat(fd, &status) != 0) {
        throw file_error(path.string(), "cannot read", errno);
    }
    return static_cast<std::uint64_t>(status.st_size);
}

std::optional<fs::path> find_own_executable(std::string_view argv0) {
    if (const char* named = std::getenv(packed::kSelfVariable)) {
        fs::path self = named;
        ::unsetenv(packed::kSelfVariable);
        if (self.is_absolute() && ::access(self.c_str(), R_OK) == 0) {
            return self;
        }
    }
    std::error_code error;
    fs::path self = fs::read_symlink("/proc/self/exe", error);
    if (error) {
        if (argv0.find('/') == std::string_view::npos) {
            return std::nullopt;
        }
        self = fs::absolute(argv0, error);
    }
    if (error || ::access(self.c_str(), R_OK) != 0) {
        return std::nullopt;
    }
    return self;
}

const char* lzma_text(lzma_ret ret) {
    switch (ret) {
        case LZMA_MEM_ERROR:
            return "out of memory";
        case LZMA_OPTIONS_ERROR:
            return "unsupported options";
        default:
            return "xz error";
    }
}

// Compresses size bytes of `from` (from its start) as one xz stream onto `to`; returns the
// compressed size.
std::uint64_t compress(int from, const fs::path& from_path, std::uint64_t size, int to,
                       const fs::path& to_path, const PackOptions& options) {
    lzma_options_lzma lzma{};
    if (lzma_lzma_preset(&lzma, static_cast<std::uint32_t>(options.level))) {
        throw Error::format("--level {}: xz's levels are 0 to 9", options.level);
    }
    std::array<lzma_filter, 3> filters = {
        {{LZMA_FILTER_X86, nullptr}, {LZMA_FILTER_LZMA2, &lzma}, {LZMA_VLI_UNKNOWN, nullptr}}};
    lzma_stream stream = LZMA_STREAM_INIT;
    struct End {
        lzma_stream* stream;
        ~End() { lzma_end(stream); }
    } end{&stream};
    if (const lzma_ret ret = lzma_stream_encoder(&stream, filters.data(), LZMA_CHECK_SHA256);
        ret != LZMA_OK) {
        throw Error::format("cannot start compressing {}: {}", from_path.string(), lzma_text(ret));
    }
    constexpr std::size_t kBlock = 1 << 20;
    auto input = std::make_unique<unsigned char[]>(kBlock);
    auto output = std::make_unique<unsigned char[]>(kBlock);
    std::uint64_t read = 0;
    stream.next_out = output.get();
    stream.avail_out = kBlock;
    while (true) {
        if (stream.avail_in == 0 && read < size) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, size - read));
            read_exactly(from, input.get(), n, read, from_path);
            read += n;
            stream.next_in = input.get();
            stream.avail_in = n;
            if (options.on_progress) {
                options.on_progress(read, size);
            }
        }
        const lzma_ret ret = lzma_code(&stream, read == size ? LZMA_FINISH : LZMA_RUN);
        if (stream.avail_out == 0 || ret == LZMA_STREAM_END) {
            core::write_all(to, reinterpret_cast<const char*>(output.get()),
                            kBlock - stream.avail_out, to_path.string());
            stream.next_out = output.get();
            stream.avail_out = kBlock;
        }
        if (ret == LZMA_STREAM_END) {
            return stream.total_out;
        }
        if (ret != LZMA_OK) {
            throw Error::format("cannot compress {}: {}", from_path.string(), lzma_text(ret));
        }
    }
}

}  // namespace

std::optional<fs::path> own_executable(std::string_view argv0) {
    static const std::optional<fs::path> self = find_own_executable(argv0);
    return self;
}

bool is_packed(const fs::path& executable) {
    const core::FileDescriptor fd = open_read(executable);
    bool packed = false;
    program_end(fd.get(), executable, file_size(fd.get(), executable), &packed);
    return packed;
}

std::optional<fs::path> installed_beside(const fs::path& ferry, std::string_view name) {
    const fs::path dir = ferry.parent_path();
    for (const fs::path& candidate : {dir / name, dir / ".." / "lib" / "ferry" / name}) {
        std::error_code error;
        if (fs::is_regular_file(candidate, error)) {
            return candidate.lexically_normal();
        }
    }
    return std::nullopt;
}

fs::path default_template(const fs::path& self) {
    if (is_packed(self)) {
        return self;
    }
    if (auto packed = installed_beside(self, kTemplateName); packed && is_packed(*packed)) {
        return *packed;
    }
    return self;
}

PackReport write_packed(const PackOptions& options) {
    PackReport report;
    const core::FileDescriptor stub = open_read(options.stub);
    report.stub_size = file_size(stub.get(), options.stub);
    bool stub_packed = false;
    const auto stub_end = program_end(stub.get(), options.stub, report.stub_size, &stub_packed);
    // The stub is small, carries the header's magic (it compares the header with it) and
    // knows nothing of installers' payloads, which ferry does.
    constexpr std::uint64_t kStubLimit = 16u << 20;
    const std::string stub_bytes =
        report.stub_size <= kStubLimit ? core::read_file(options.stub, kStubLimit) : "";
    auto carries = [&stub_bytes](const auto& magic) {
        return stub_bytes.find(std::string_view(magic.data(), magic.size())) != std::string::npos;
    };
    if (!stub_end || stub_packed || *stub_end != report.stub_size || !carries(packed::kMagic) ||
        carries(kTrailerMagic)) {
        throw Error::format(
            "{} is not ferry's stub: give --stub the ferry-stub that is built and installed "
            "with ferry",
            options.stub.string());
    }

    const core::FileDescriptor ferry = open_read(options.ferry);
    bool ferry_packed = false;
    if (!program_end(ferry.get(), options.ferry, file_size(ferry.get(), options.ferry),
                     &ferry_packed)) {
        throw Error::format("{} is not an executable (a 64-bit ELF file): give a ferry",
                            options.ferry.string());
    }
    if (ferry_packed) {
        throw Error::format("{} is a packed ferry already; pack a plain one",
                            options.ferry.string());
    }
    report.ferry_size = own_size(options.ferry);

    const fs::path temporary = core::temporary_sibling(options.output);
    core::FileDescriptor to(
        ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755));
    if (to.get() < 0) {
        throw file_error(options.output.string(), "cannot create", errno);
    }
    try {
        copy_range(stub.get(), options.stub, 0, report.stub_size, to.get(), options.output,
                   nullptr);
        const auto placeholder = packed::make_header(0);
        core::write_all(to.get(), reinterpret_cast<const char*>(placeholder.data()),
                        placeholder.size(), options.output.string());
        const std::uint64_t compressed = compress(ferry.get(), options.ferry, report.ferry_size,
                                                  to.get(), options.output, options);
        const auto header = packed::make_header(compressed);
        if (::pwrite(to.get(), header.data(), header.size(),
                     static_cast<off_t>(report.stub_size)) != static_cast<ssize_t>(header.size())) {
            throw file_error(options.output.string(), "cannot write", errno);
        }
        if (::fchmod(to.get(), 0755) != 0 || ::fsync(to.get()) != 0 || to.close() != 0) {
            throw file_error(options.output.string(), "cannot write", errno);
        }
        fs::rename(temporary, options.output);
        report.size = report.stub_size + packed::kHeaderSize + compressed;
    } catch (...) {
        std::error_code ignored;
        fs::remove(temporary, ignored);
        throw;
    }
    return report;
}

}  // namespace ferry::installer
