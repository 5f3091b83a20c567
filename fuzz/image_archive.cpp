// An image archive as repogen meets it in a service component's data/: unpacked into a scratch
// blob directory. What is accepted must also survive the way out: its registry manifests read
// back as the same images, and the docker archive written from it unpacks to the same images.
#include <fcntl.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/file_descriptor.hpp"
#include "core/files.hpp"
#include "fuzz_support.hpp"
#include "image/image.hpp"

namespace {

void check_round_trips(const std::vector<ferry::image::Image>& images,
                       const ferry::image::BlobDir& blobs, const std::filesystem::path& scratch) {
    using ferry::image::Image;
    std::vector<ferry::image::TaggedImage> tagged;
    std::vector<Image> expected;
    for (std::size_t i = 0; i < images.size(); ++i) {
        Image bare = images[i];
        bare.references.clear();
        if (!(ferry::image::parse_registry_manifest(ferry::image::registry_manifest(images[i]),
                                                    "manifest") == bare)) {
            std::abort();
        }
        const std::string tag = "fuzz/image:" + std::to_string(i);
        tagged.push_back({images[i], tag});
        bare.references = {tag};
        expected.push_back(bare);
    }
    const auto written = scratch / "written.tar";
    {
        ferry::core::FileDescriptor fd(::open(written.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
        ferry::image::write_docker_archive(tagged, blobs, fd.get());
    }
    const ferry::core::ScratchDir again(scratch, "again-");
    if (ferry::image::unpack_image_archive(written, ferry::image::BlobDir(again.path())) !=
        expected) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const ferry::core::ScratchDir scratch({}, "ferry-fuzz-image-");
    const auto archive = scratch.path() / "input.tar";
    ferry::fuzz::write_input(archive, ferry::fuzz::as_text(data, size));
    const ferry::core::ScratchDir target(scratch.path(), "blobs-");
    const ferry::image::BlobDir blobs(target.path());
    std::vector<ferry::image::Image> images;
    ferry::fuzz::expect_refusal_at_most(
        [&] { images = ferry::image::unpack_image_archive(archive, blobs); });
    if (!images.empty()) {
        check_round_trips(images, blobs, target.path());
    }
    return 0;
}
