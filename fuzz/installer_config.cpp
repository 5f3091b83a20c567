// An installer's configuration as binarycreator's input (IFW's config.xml) and as an installer
// carries it (ferry-installer.json in its payload, read before anything is installed). A
// manifest accepted once must read back the same once written.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "installer/config.hpp"
#include "installer/payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = ferry::fuzz::as_text(data, size);
    ferry::fuzz::expect_refusal_at_most([&] {
        const auto read = ferry::installer::parse_config_xml(text, "config/config.xml");
        ferry::installer::expand_variables(read.config.target_dir, read.config, "/tmp/i.run");
    });
    ferry::fuzz::expect_refusal_at_most([&] {
        const auto manifest = ferry::installer::parse_manifest(text, "i.run: ferry-installer.json");
        const auto again = ferry::installer::parse_manifest(
            ferry::installer::manifest_json(manifest).dump(), "written back");
        if (!(again == manifest)) {
            std::fprintf(stderr, "the manifest reads back differently once written\n");
            std::abort();
        }
    });
    return 0;
}
