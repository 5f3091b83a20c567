// .ferry/journal.json, the journal of a transaction, read by recovery (the first step of every
// command on a target) to undo or finish what a killed process left.
#include "client/journal.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ferry::fuzz::expect_refusal_at_most([&] {
        const ferry::client::Journal journal =
            ferry::client::parse_journal(ferry::fuzz::as_text(data, size), ".ferry/journal.json");
        // What was read is written back as the transaction writes it, and reads the same.
        ferry::client::parse_journal(ferry::client::write_journal(journal), "written again");
    });
    return 0;
}
