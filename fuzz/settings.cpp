// The target's settings.json and credentials.json, read from files as every client command
// does. The input is written as both files: a seed with "repositories" and "credentials" reaches
// both readers.
#include "client/settings.hpp"
#include "core/files.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const ferry::core::ScratchDir state({}, "ferry-fuzz-settings-");
    const std::string_view text = ferry::fuzz::as_text(data, size);
    ferry::fuzz::write_input(state.path() / "settings.json", text);
    ferry::fuzz::write_input(state.path() / "credentials.json", text);
    ferry::fuzz::expect_refusal_at_most([&] { ferry::client::load_settings(state.path()); });
    return 0;
}
