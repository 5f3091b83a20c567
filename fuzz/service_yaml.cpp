// meta/service.yaml (or service.json) of a service component, as repogen and publish read it. A
// description it accepts must also survive its canonical JSON unchanged: to_json is what a
// repository carries, and parse_service(to_json(d)) != d would make an unchanged service look
// changed, or change it.
#include <cstdio>
#include <cstdlib>

#include "formats/service.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ferry::fuzz::expect_refusal_at_most([&] {
        const auto description = ferry::formats::parse_service(
            ferry::fuzz::as_text(data, size), "packages/com.example.fuzz/meta/service.yaml",
            "com.example.fuzz");
        const std::string json = ferry::formats::to_json(description);
        if (ferry::formats::parse_service(json, "canonical.json", "com.example.other") !=
            description) {
            std::fprintf(stderr, "the canonical JSON reads back differently:\n%s\n", json.c_str());
            std::abort();
        }
        ferry::formats::check_app_services({{"com.example.fuzz", description}});
        ferry::formats::start_order({{"com.example.fuzz", description}});
    });
    return 0;
}
