// The manifest of a ferry bundle (ferry-bundle.json) as an import reads it, and the inventory a
// differential export reads. A manifest accepted once must be accepted again, unchanged, when
// written back: what the market imports is what the manifest said.
#include <cstdio>
#include <cstdlib>

#include "bundle/ferry_bundle.hpp"
#include "fuzz_support.hpp"
#include "market/bundles.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = ferry::fuzz::as_text(data, size);
    ferry::fuzz::expect_refusal_at_most([&] {
        const auto manifest = ferry::bundle::parse_manifest(text, "b.tar: ferry-bundle.json");
        const auto again = ferry::bundle::parse_manifest(
            ferry::bundle::manifest_json(manifest).dump(), "written back");
        bool same = again.blobs == manifest.blobs && again.omitted == manifest.omitted &&
                    again.apps.size() == manifest.apps.size();
        for (std::size_t i = 0; same && i < manifest.apps.size(); ++i) {
            const auto& a = manifest.apps[i];
            const auto& b = again.apps[i];
            same = a.app == b.app && a.major == b.major && a.revision == b.revision &&
                   a.components == b.components && a.files == b.files &&
                   a.updates_xml == b.updates_xml;
        }
        if (!same) {
            std::fprintf(stderr, "the manifest reads back differently once written\n");
            std::abort();
        }
    });
    ferry::fuzz::expect_refusal_at_most(
        [&] { ferry::market::inventory_blobs(text, "inventory.json"); });
    return 0;
}
