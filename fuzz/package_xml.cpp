// packages/<name>/meta/package.xml, as repogen and publish read it from a packages tree.
#include "formats/package_xml.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ferry::fuzz::expect_refusal_at_most([&] {
        ferry::formats::parse_package_xml(ferry::fuzz::as_text(data, size), "com.example.fuzz",
                                          "packages/com.example.fuzz/meta/package.xml");
    });
    return 0;
}
