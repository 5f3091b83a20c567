// An archive from a repository or a packages tree: recognised (repogen's prebuilt archives),
// measured, listed and extracted into a fresh scratch directory, as the client extracts a
// component's archives into its staging area. Extraction is bounded as the client bounds
// metadata, so that a small bomb cannot fill the disk.
#include "archive/archive.hpp"
#include "core/files.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const ferry::core::ScratchDir scratch({}, "ferry-fuzz-archive-");
    const auto archive = scratch.path() / "input.archive";
    ferry::fuzz::write_input(archive, ferry::fuzz::as_text(data, size));
    ferry::archive::is_archive(archive);
    ferry::fuzz::expect_refusal_at_most([&] { ferry::archive::content_size(archive); });
    ferry::fuzz::expect_refusal_at_most([&] { ferry::archive::list_archive(archive); });
    const ferry::core::ScratchDir target(scratch.path(), "target-");
    ferry::fuzz::expect_refusal_at_most([&] {
        ferry::archive::extract_archive(archive, target.path(), {16u << 20, 10'000});
    });
    return 0;
}
