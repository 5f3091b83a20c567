// The target's settings.json and credentials.json, read from files as every client command
// does. The input is written as both files: a seed with "repositories" and "credentials" reaches
// both readers.
#include "client/settings.hpp"
#include "core/files.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const ferry::core::ScratchDir state({}, "ferry-fuzz-settings-");
    const std::string_view text = ferry::fuzz::as_text(data, size);
    ferry::core::write_file_atomic(state.path() / "settings.json", text);
    ferry::core::write_file_atomic(state.path() / "credentials.json", text, 0600);
    ferry::fuzz::expect_refusal_at_most([&] { ferry::client::load_settings(state.path()); });
    return 0;
}
