#include "core/hash.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>

#include "core/error.hpp"
#include "core/file_descriptor.hpp"

namespace ferry::core {

struct Hasher::State {
    EVP_MD_CTX* ctx = nullptr;
    ~State() { EVP_MD_CTX_free(ctx); }
};

Hasher::Hasher(HashKind kind) : state_(std::make_unique<State>()) {
    state_->ctx = EVP_MD_CTX_new();
    const EVP_MD* md = kind == HashKind::sha1 ? EVP_sha1() : EVP_sha256();
    if (state_->ctx == nullptr || EVP_DigestInit_ex(state_->ctx, md, nullptr) != 1) {
        throw Error("cannot initialise the OpenSSL digest");
    }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(const void* data, std::size_t size) {
    if (size > 0 && EVP_DigestUpdate(state_->ctx, data, size) != 1) {
        throw Error("OpenSSL digest update failed");
    }
}

std::string Hasher::hex_digest() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(state_->ctx, digest.data(), &length) != 1) {
        throw Error("OpenSSL digest finalisation failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        hex.push_back(kHex[digest[i] >> 4]);
        hex.push_back(kHex[digest[i] & 0x0f]);
    }
    return hex;
}

std::string sha1_hex(std::string_view data) {
    Hasher h(HashKind::sha1);
    h.update(data);
    return h.hex_digest();
}

std::string sha256_hex(std::string_view data) {
    Hasher h(HashKind::sha256);
    h.update(data);
    return h.hex_digest();
}

std::uint64_t hash_file(const std::filesystem::path& path, std::initializer_list<Hasher*> hashers) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        throw Error::format(ErrorKind::storage, "{}: cannot open for reading: {}", path.string(),
                            errno_text(errno));
    }
    return hash_file(fd.get(), path.string(), hashers);
}

std::uint64_t hash_file(int fd, std::string_view name, std::initializer_list<Hasher*> hashers) {
    std::uint64_t size = 0;
    std::array<char, 1 << 16> buffer{};
    while (true) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw Error::format(ErrorKind::storage, "{}: read error: {}", name, errno_text(errno));
        }
        if (n == 0) {
            return size;
        }
        for (Hasher* hasher : hashers) {
            hasher->update(buffer.data(), static_cast<std::size_t>(n));
        }
        size += static_cast<std::uint64_t>(n);
    }
}

FileDigest digest_file(const std::filesystem::path& path) {
    Hasher sha1(HashKind::sha1);
    Hasher sha256(HashKind::sha256);
    FileDigest result;
    result.size = hash_file(path, {&sha1, &sha256});
    result.sha1 = sha1.hex_digest();
    result.sha256 = sha256.hex_digest();
    return result;
}

bool is_hex_digest(std::string_view text, std::size_t length) {
    if (text.size() != length) {
        return false;
    }
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

}  // namespace ferry::core
