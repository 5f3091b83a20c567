#include "market/tokens.hpp"

#include <openssl/rand.h>

#include <chrono>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/hash.hpp"

namespace ferry::market {

namespace {

std::string random_hex(std::size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
        throw Error("cannot make a token: the system has no randomness to give");
    }
    std::string hex;
    for (unsigned char c : raw) {
        hex += fmt::format("{:02x}", c);
    }
    return hex;
}

}  // namespace

CreatedToken create_token(Catalog& catalog, Token::Role role, std::string_view description) {
    CreatedToken created;
    created.token.id = random_hex(6);
    created.secret = "ferry_" + created.token.id + "_" + random_hex(24);
    created.token.secret_hash = core::sha256_hex(created.secret);
    created.token.role = role;
    created.token.description = std::string(description);
    catalog.add_token(created.token);
    return created;
}

std::optional<Token> authenticate(Catalog& catalog, std::string_view text) {
    if (!text.starts_with("ferry_") || text.size() > 200) {
        return std::nullopt;
    }
    // Looked up on every request, never cached: a revoked token is refused at once.
    std::optional<Token> token = catalog.find_token_by_hash(core::sha256_hex(text));
    // A write per request would serialise every authenticated read: once a minute is enough
    // for "last used". The request does not depend on it, so a busy catalog only skips it.
    const auto now = std::chrono::system_clock::now();
    if (token && token->last_used_at < to_rfc3339(now - std::chrono::minutes(1))) {
        try {
            catalog.record_token_use(token->id);
            token->last_used_at = to_rfc3339(now);
        } catch (const Error&) {
            // Recorded by the next request.
        }
    }
    return token;
}

void revoke_token(Catalog& catalog, std::string_view id) {
    if (!catalog.remove_token(id)) {
        throw Error::format(ErrorKind::not_found, "there is no token \"{}\" (ferry token list)",
                            id);
    }
}

bool allows(Token::Role held, Token::Role needed) {
    return held == Token::Role::admin || held == needed;
}

}  // namespace ferry::market
