// Packed ferry (packed_format.hpp): `ferry installer template` writes one, a stub followed by
// ferry compressed, and installers made from it are about a third of ferry's size. A ferry that
// a stub started finds its packed file through FERRY_SELF.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

namespace ferry::installer {

namespace fs = std::filesystem;

// ferry's own file, found once (later calls return the first answer): FERRY_SELF when a stub
// started it (then removed from the environment, so that what ferry runs does not inherit it),
// else /proc/self/exe, else without /proc the path it was started by. nullopt when that file
// cannot be read (its user may run it but not read it): only installers and maintenance tools
// need their own bytes.
std::optional<fs::path> own_executable(std::string_view argv0);

// Whether the executable is a packed ferry (a stub, the header and ferry compressed).
bool is_packed(const fs::path& executable);

// Where a packed ferry and the stub are looked for when not named: beside ferry (the build
// directory) or in ../lib/ferry/ (where `cmake --install` and the .deb put them).
inline constexpr const char* kTemplateName = "ferry-installerbase";
inline constexpr const char* kStubName = "ferry-stub";
std::optional<fs::path> installed_beside(const fs::path& ferry, std::string_view name);

// The ferry an installer starts with when -t is not given: ferry's own file when it is packed,
// else a packed ferry installed beside it (ferry-installerbase), else ferry's own file.
fs::path default_template(const fs::path& self);

struct PackOptions {
    fs::path ferry;  // a plain ferry; an installer's or maintenance tool's payload is left out
    fs::path stub;   // ferry-stub
    fs::path output;
    int level = 6;  // xz's preset, 0 to 9
    std::function<void(std::uint64_t done, std::uint64_t total)> on_progress;
};

struct PackReport {
    std::uint64_t ferry_size = 0;  // ferry's own bytes, uncompressed
    std::uint64_t stub_size = 0;
    std::uint64_t size = 0;  // of the packed ferry written
};

// Writes the stub, the header and ferry's own bytes compressed (xz: x86 filter, LZMA2, SHA-256
// check) to output, atomically and executable.
PackReport write_packed(const PackOptions& options);

}  // namespace ferry::installer
