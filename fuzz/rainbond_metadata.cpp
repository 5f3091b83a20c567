// metadata.json of a Rainbond `rainbond-app` package, as `ferry import` reads it, and the mapping
// of what it accepts onto ferry's components. What the mapping makes must hold ferry's rules: a
// valid component name and Version, and service descriptions that read back from their canonical
// JSON unchanged.
#include <cstdio>
#include <cstdlib>

#include "bundle/rainbond.hpp"
#include "formats/names.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ferry::fuzz::expect_refusal_at_most([&] {
        const auto metadata = ferry::bundle::parse_rainbond_metadata(
            ferry::fuzz::as_text(data, size), "pkg.tar.gz: metadata.json");
        const auto items = ferry::bundle::map_rainbond_metadata(metadata, "metadata.json");
        for (const auto& item : items) {
            for (const auto& component : item.components) {
                using ferry::formats::NameKind;
                if (ferry::formats::name_problem(NameKind::component, component.name) ||
                    ferry::formats::name_problem(NameKind::version, component.version)) {
                    std::fprintf(stderr, "invalid name or version: %s %s\n",
                                 component.name.c_str(), component.version.c_str());
                    std::abort();
                }
                const std::string json = ferry::formats::to_json(component.service);
                if (ferry::formats::parse_service(json, "canonical.json", component.name) !=
                    component.service) {
                    std::fprintf(stderr, "the canonical JSON reads back differently:\n%s\n",
                                 json.c_str());
                    std::abort();
                }
            }
        }
    });
    return 0;
}
