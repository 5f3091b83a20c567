// Internal to src/archive: a cheap estimate of how well files compress, from samples compressed
// with a fast compressor, so that incompressible data is not run through a slow one for nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace ferry::archive {

struct ProbedFile {
    const std::filesystem::path* source = nullptr;
    std::uint64_t size = 0;
    bool compressible = true;  // set by the probe for files large enough to be sampled
};

struct ProbeEstimate {
    std::uint64_t compressed = 0;  // estimated compressed size of all the files together
    std::uint64_t text = 0;        // bytes whose samples look like text (no NUL, printable)
};

// Files that cannot be read count as compressible binary: the real write then reports the error
// with the archive and entry names.
ProbeEstimate estimate_compression(std::vector<ProbedFile>& files);

// The share of the content compression must be expected to save to be worth running.
inline constexpr double kMinCompressionSaving = 0.02;

}  // namespace ferry::archive
