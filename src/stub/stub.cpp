// ferry-stub: the stub of a packed ferry (src/installer/packed_format.hpp). It finds its
// own file, unpacks the ferry that follows its own bytes into an anonymous file in memory and
// runs it with the same arguments and FERRY_SELF naming the packed file, so that ferry finds
// the installer payload after it. The xz stream's SHA-256 check is verified before anything
// runs: a damaged file stops here with a message.
//
// It links only liblzma and glibc, so that it stays small: no exceptions, no ferry code.
#include <fcntl.h>
#include <lzma.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "installer/packed_format.hpp"

namespace format = ferry::packed;

extern "C" char** environ;

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3: an executable memory file, said explicitly
#endif

namespace {

constexpr std::uint64_t kMaxUnpacked = std::uint64_t{1} << 30;  // ferry is tens of megabytes
constexpr std::uint64_t kMemoryLimit = std::uint64_t{256} << 20;
std::string program = "ferry";

[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "%s: error: %s\n", program.c_str(), message.c_str());
    std::exit(1);
}

std::string error_text(int error) {
    return std::strerror(error);
}

// The absolute path of the running file: /proc/self/exe, or without /proc the path it was
// started by, or the first executable of that name on PATH.
std::string own_path(const char* argv0) {
    char buffer[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
    if (n > 0) {
        buffer[n] = '\0';
        return buffer;
    }
    if (std::strchr(argv0, '/') != nullptr) {
        if (::realpath(argv0, buffer) != nullptr) {
            return buffer;
        }
    } else if (const char* path = std::getenv("PATH")) {
        std::string dirs = path;
        for (std::size_t start = 0; start <= dirs.size();) {
            std::size_t end = dirs.find(':', start);
            if (end == std::string::npos) {
                end = dirs.size();
            }
            const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
            const std::string candidate = dir + "/" + argv0;
            if (::access(candidate.c_str(), X_OK) == 0 &&
                ::realpath(candidate.c_str(), buffer) != nullptr) {
                return buffer;
            }
            start = end + 1;
        }
    }
    fail(std::string("cannot find its own file to unpack (is /proc mounted?); run it by its "
                     "path, as in ./") +
         argv0);
}

bool read_at(int fd, void* into, std::size_t size, std::uint64_t at) {
    auto* out = static_cast<char*>(into);
    while (size > 0) {
        const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        out += n;
        size -= static_cast<std::size_t>(n);
        at += static_cast<std::uint64_t>(n);
    }
    return true;
}

bool write_all(int fd, const unsigned char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

const char* lzma_text(lzma_ret ret) {
    switch (ret) {
        case LZMA_MEM_ERROR:
            return "out of memory";
        case LZMA_MEMLIMIT_ERROR:
            return "it needs more memory than a ferry may";
        case LZMA_FORMAT_ERROR:
            return "not an xz stream";
        case LZMA_OPTIONS_ERROR:
            return "unsupported xz options";
        case LZMA_DATA_ERROR:
            return "the compressed data is corrupt";
        case LZMA_BUF_ERROR:
            return "the compressed data ends early";
        default:
            return "xz error";
    }
}

struct Packed {
    std::string path;
    int fd = -1;
    std::uint64_t offset = 0;  // of the xz stream
    std::uint64_t size = 0;
};

Packed find_packed(const char* argv0) {
    Packed packed;
    packed.path = own_path(argv0);
    packed.fd = ::open(packed.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (packed.fd < 0) {
        fail(packed.path + ": cannot read its own file to unpack ferry: " + error_text(errno));
    }
    struct stat status {};
    if (::fstat(packed.fd, &status) != 0) {
        fail(packed.path + ": cannot read: " + error_text(errno));
    }
    const auto file_size = static_cast<std::uint64_t>(status.st_size);
    unsigned char first[sizeof(Elf64_Ehdr)] = {};
    const auto end = read_at(packed.fd, first, sizeof first, 0)
                         ? format::elf_end(first, sizeof first)
                         : std::nullopt;
    unsigned char header[format::kHeaderSize] = {};
    const auto size = end && *end <= file_size && file_size - *end >= sizeof header &&
                              read_at(packed.fd, header, sizeof header, *end)
                          ? format::packed_size(header)
                          : std::nullopt;
    if (!size) {
        fail(packed.path +
             " carries no packed ferry: it is the stub of one (`ferry installer template` "
             "makes a packed ferry from it)");
    }
    packed.offset = *end + format::kHeaderSize;
    if (*size > file_size - packed.offset) {
        fail(packed.path + " is damaged: its packed ferry is " + std::to_string(*size) +
             " bytes, the file holds " + std::to_string(file_size - packed.offset) +
             " after its header (a download cut short?); get the file again");
    }
    packed.size = *size;
    return packed;
}

// Unpacks the xz stream into out; an error message, or empty when done.
std::string unpack(const Packed& packed, int out) {
    lzma_stream stream = LZMA_STREAM_INIT;
    struct End {
        lzma_stream* stream;
        ~End() { lzma_end(stream); }
    } end{&stream};
    lzma_ret ret = lzma_stream_decoder(&stream, kMemoryLimit, 0);
    if (ret != LZMA_OK) {
        return std::string("cannot start unpacking: ") + lzma_text(ret);
    }
    constexpr std::size_t kInput = 1 << 16;
    constexpr std::size_t kOutput = 1 << 20;
    auto input = std::make_unique<unsigned char[]>(kInput);
    auto output = std::make_unique<unsigned char[]>(kOutput);
    std::uint64_t read = 0;
    stream.next_out = output.get();
    stream.avail_out = kOutput;
    while (true) {
        lzma_action action = LZMA_RUN;
        if (stream.avail_in == 0 && read < packed.size) {
            const auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(kInput, packed.size - read));
            if (!read_at(packed.fd, input.get(), n, packed.offset + read)) {
                return "cannot read " + packed.path + ": " + error_text(errno);
            }
            read += n;
            stream.next_in = input.get();
            stream.avail_in = n;
        }
        if (stream.avail_in == 0 && read == packed.size) {
            action = LZMA_FINISH;
        }
        ret = lzma_code(&stream, action);
        if (stream.avail_out == 0 || ret == LZMA_STREAM_END) {
            const std::size_t n = kOutput - stream.avail_out;
            if (!write_all(out, output.get(), n)) {
                return "cannot unpack ferry into memory: " + error_text(errno);
            }
            stream.next_out = output.get();
            stream.avail_out = kOutput;
        }
        if (stream.total_out > kMaxUnpacked) {
            return packed.path + " is damaged: its packed ferry unpacks to more than 1 GiB";
        }
        if (ret == LZMA_STREAM_END) {
            break;
        }
        if (ret != LZMA_OK) {
            return packed.path + " is damaged: its packed ferry does not unpack (" +
                   lzma_text(ret) + "); get the file again";
        }
    }
    if (stream.total_in != packed.size) {
        return packed.path + " is damaged: its packed ferry ends " +
               std::to_string(packed.size - stream.total_in) +
               " bytes before its header says; get the file again";
    }
    return {};
}

// Runs the unpacked ferry in fd; returns only when that fails, with errno set.
void run(int fd, char** argv) {
    ::fexecve(fd, argv, environ);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 1 || argv[0] == nullptr) {
        std::fputs("ferry: error: started without a name (argv[0])\n", stderr);
        return 1;
    }
    {
        const char* slash = std::strrchr(argv[0], '/');
        program = slash != nullptr ? slash + 1 : argv[0];
    }
    const Packed packed = find_packed(argv[0]);
    if (::setenv(format::kSelfVariable, packed.path.c_str(), 1) != 0) {
        fail("cannot set " + std::string(format::kSelfVariable) + ": " + error_text(errno));
    }

    // In memory first; where memory files may not be run (a hardened kernel), a deleted
    // temporary file.
    int memory = ::memfd_create("ferry", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (memory < 0 && errno == EINVAL) {
        memory = ::memfd_create("ferry", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    }
    std::string memory_error;
    if (memory >= 0) {
        const std::string message = unpack(packed, memory);
        if (!message.empty()) {
            fail(message);
        }
        ::fcntl(memory, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
        run(memory, argv);
        memory_error = error_text(errno);
        ::close(memory);
    } else {
        memory_error = error_text(errno);
    }

    const char* tmpdir = std::getenv("TMPDIR");
    std::string name =
        std::string(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp") + "/ferry-XXXXXX";
    const int temporary = ::mkostemp(name.data(), O_CLOEXEC);
    if (temporary < 0) {
        fail("cannot run the unpacked ferry from memory (" + memory_error +
             ") nor create a temporary file in " + name.substr(0, name.rfind('/')) + " (" +
             error_text(errno) + ")");
    }
    std::string message = unpack(packed, temporary);
    // Run from a read-only descriptor of the file, removed before it runs (a file open for
    // writing cannot be run).
    const int runnable = message.empty() && ::fchmod(temporary, 0700) == 0
                             ? ::open(name.c_str(), O_RDONLY | O_CLOEXEC)
                             : -1;
    const int saved = errno;
    ::unlink(name.c_str());
    ::close(temporary);
    if (!message.empty()) {
        fail(message);
    }
    if (runnable >= 0) {
        run(runnable, argv);
    }
    fail("cannot run the unpacked ferry from memory (" + memory_error + ") nor from " +
         name.substr(0, name.rfind('/')) + " (" + error_text(runnable >= 0 ? errno : saved) +
         "; set TMPDIR to a directory whose files may be run)");
}
