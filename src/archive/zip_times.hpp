// Internal to src/archive: makes zip output independent of the machine's time zone.
#pragma once

#include <cstdint>
#include <filesystem>

namespace ferry::archive {

// libarchive writes the MS-DOS time of zip entries in local time (the UT extra field holds the
// real UTC time); this rewrites it, in the open zip at fd, as UTC. Errors name out.
void pin_zip_dos_times(int fd, const std::filesystem::path& out, std::int64_t mtime);

}  // namespace ferry::archive
