// Updates.xml, as the client reads it from a repository and the market from a publisher.
#include "formats/updates_xml.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ferry::fuzz::expect_refusal_at_most([&] {
        ferry::formats::parse_updates_xml(ferry::fuzz::as_text(data, size), "Updates.xml");
    });
    return 0;
}
