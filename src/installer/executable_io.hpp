// Reading and copying the bytes of ferry's executables (payload.cpp, packed.cpp): whole reads
// at an offset and copies of a range, errors naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "core/file_descriptor.hpp"
#include "core/hash.hpp"

namespace ferry::installer {

namespace fs = std::filesystem;

core::FileDescriptor open_read(const fs::path& path);

// Reads exactly size bytes at `at`; a file that ends first is an error.
void read_exactly(int fd, void* into, std::size_t size, std::uint64_t at, const fs::path& path);

// Copies size bytes of `from` starting at `at` to `to`, feeding them to hasher when given.
void copy_range(int from, const fs::path& from_path, std::uint64_t at, std::uint64_t size, int to,
                const fs::path& to_path, core::Hasher* hasher);

// Where an executable's program ends: a 64-bit ELF's own bytes, and for a packed ferry the
// header and compressed ferry after the stub's; nullopt for a file that is no ELF executable.
// is_packed, when given, is set to whether the program is a packed ferry.
std::optional<std::uint64_t> program_end(int fd, const fs::path& path, std::uint64_t file_size,
                                         bool* is_packed = nullptr);

}  // namespace ferry::installer
