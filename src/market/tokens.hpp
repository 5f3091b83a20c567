// API tokens: created once (the secret is shown once and stored only as its SHA-256), checked on
// every write request. A token reads "ferry_<id>_<secret>"; the id names it in listings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "market/catalog.hpp"

namespace ferry::market {

struct CreatedToken {
    Token token;         // as stored (no secret)
    std::string secret;  // the whole token, to be shown to its owner once
};

CreatedToken create_token(Catalog& catalog, Token::Role role, std::string_view description);

// The stored token that text is, if any. Compares hashes, never secrets. Records the use (at
// most once a minute per token).
std::optional<Token> authenticate(Catalog& catalog, std::string_view text);

// Removes the token: from now on every request with it is refused. An unknown id is an error
// (not_found) naming it.
void revoke_token(Catalog& catalog, std::string_view id);

// Whether a token of role `held` may do what needs `needed` (admin may do everything).
bool allows(Token::Role held, Token::Role needed);

}  // namespace ferry::market
