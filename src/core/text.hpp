// The one rule for text that comes from outside (a repository, a package, a state file, a
// server) and is shown to people or written back: it cannot carry control characters.
#pragma once

#include <string>
#include <string_view>

namespace ferry::core {

// The text with every control character but tab and newline (C0, DEL and the C1 range
// U+0080-U+009F) and every byte that is not valid UTF-8 replaced by U+FFFD. Such text cannot
// move a terminal's cursor, change its colours or title, or ring its bell, and XML 1.0 can
// carry it. Applied when XML is read (formats::XmlSource) and when a command prints.
std::string printable_text(std::string_view text);

// Whether printable_text would leave the text as it is (the common case, checked first).
bool is_printable_text(std::string_view text);

}  // namespace ferry::core
