// .ferry/files/<component>.json, the record of what a component installed, read by remove,
// verify and update.
#include "client/file_record.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ferry::fuzz::expect_refusal_at_most([&] {
        ferry::client::parse_file_record(ferry::fuzz::as_text(data, size),
                                         ".ferry/files/com.example.fuzz.json");
    });
    return 0;
}
