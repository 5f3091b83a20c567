// components.xml, the installation state the client reads from a target (IFW's or its own).
#include "formats/components_xml.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ferry::fuzz::expect_refusal_at_most([&] {
        ferry::formats::parse_components_xml(ferry::fuzz::as_text(data, size), "components.xml");
    });
    return 0;
}
