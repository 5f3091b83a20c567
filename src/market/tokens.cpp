#include "market/tokens.hpp"

#include <openssl/rand.h>

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
    return catalog.find_token_by_hash(core::sha256_hex(text));
}

bool allows(Token::Role held, Token::Role needed) {
    return held == Token::Role::admin || held == needed;
}

}  // namespace ferry::market
