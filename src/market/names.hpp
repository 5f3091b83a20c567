// The names a market turns into URLs and directories (app keys and major versions): one rule,
// checked by the publishing client before it builds anything, by the server before it stores
// anything and by a pull before it sends a request that names them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ferry::market {

constexpr std::size_t kMaxKeyLength = 128;

// Why text is not a valid app key or major version, or nullopt when it is one. The rule:
// [A-Za-z0-9][A-Za-z0-9._-]*, at most kMaxKeyLength characters, not ending in '.': no path
// characters and nothing a URL would need to escape. The reason names the first rule broken,
// the length before the characters, so that a long name is told it is long.
std::optional<std::string> key_problem(std::string_view text);

// Throws ferry::Error (invalid input) naming what ("app key", "major version"), the text and
// the reason when text breaks the rule.
void check_key(std::string_view text, std::string_view what);

}  // namespace ferry::market
