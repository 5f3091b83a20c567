// A packed ferry: a small program, the stub (src/stub/), then a 24-byte header (16 bytes of
// magic, then the size of what follows, 8 bytes little-endian), then ferry's own bytes
// compressed as one xz stream (x86 filter, LZMA2, SHA-256 check of the uncompressed bytes).
// The stub unpacks ferry into memory and runs it with FERRY_SELF naming the packed file, so
// that ferry finds the installer payload after it as it would after its own bytes
// (docs/STATIC.md). An installer made from a packed ferry is about a third of the size.
//
// This header is shared by ferry and the stub, which links nothing of ferry's.
#pragma once

#include <elf.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

namespace ferry::packed {

inline constexpr std::array<char, 16> kMagic = {'F', 'E', 'R', 'R', 'Y', '-', 'P', 'A',
                                                'C', 'K', 'E', 'D', '-', 'v', '1', '\n'};
inline constexpr std::uint64_t kHeaderSize = 24;
// Set by the stub for the ferry it runs: the packed file's absolute path.
inline constexpr const char* kSelfVariable = "FERRY_SELF";

// Where a 64-bit ELF executable's own bytes end (its section headers come last), from its
// first bytes; nullopt for anything else.
inline std::optional<std::uint64_t> elf_end(const unsigned char* bytes, std::uint64_t size) {
    Elf64_Ehdr header{};
    if (size < sizeof header) {
        return std::nullopt;
    }
    std::memcpy(&header, bytes, sizeof header);
    if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
        header.e_ident[EI_CLASS] != ELFCLASS64) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(header.e_shoff) +
           static_cast<std::uint64_t>(header.e_shnum) * header.e_shentsize;
}

// The size of the compressed ferry a header announces; nullopt when the bytes are no header.
inline std::optional<std::uint64_t> packed_size(const unsigned char* header) {
    if (std::memcmp(header, kMagic.data(), kMagic.size()) != 0) {
        return std::nullopt;
    }
    std::uint64_t size = 0;
    for (int i = 7; i >= 0; --i) {
        size = (size << 8) | header[kMagic.size() + static_cast<std::size_t>(i)];
    }
    return size;
}

inline std::array<unsigned char, kHeaderSize> make_header(std::uint64_t size) {
    std::array<unsigned char, kHeaderSize> header{};
    std::memcpy(header.data(), kMagic.data(), kMagic.size());
    for (std::size_t i = 0; i < 8; ++i) {
        header[kMagic.size() + i] = static_cast<unsigned char>(size >> (8 * i));
    }
    return header;
}

}  // namespace ferry::packed
