// The market's promise to the clients of a revision: every component a user can ask for
// resolves, with its dependencies, from the revision alone. Checked before a revision is stored.
#pragma once

#include "formats/updates_xml.hpp"

namespace ferry::market {

// Resolves, with the client's own resolver and nothing installed, every component a user can
// name (neither virtual, nor uncheckable, nor installed only automatically) plus the defaults.
// Throws ferry::Error with the resolver's message (the dependency chain that is missing, too
// old or circular) when the client could not install them.
void check_resolvable(const formats::RepositoryIndex& index);

}  // namespace ferry::market
