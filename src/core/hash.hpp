// SHA-1 (what IFW checks) and SHA-256 (what ferry adds) over memory and streamed files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace ferry::core {

enum class HashKind { sha1, sha256 };

// Incremental hash; hex_digest() finishes it.
class Hasher {
  public:
    explicit Hasher(HashKind kind);
    ~Hasher();
    Hasher(Hasher&&) noexcept;
    Hasher& operator=(Hasher&&) noexcept;

    void update(const void* data, std::size_t size);
    void update(std::string_view data) { update(data.data(), data.size()); }
    std::string hex_digest();

  private:
    struct State;
    std::unique_ptr<State> state_;
};

std::string sha1_hex(std::string_view data);
std::string sha256_hex(std::string_view data);

struct FileDigest {
    std::uint64_t size = 0;
    std::string sha1;
    std::string sha256;
};

// Reads the file once in fixed-size chunks; never holds it whole in memory.
FileDigest digest_file(const std::filesystem::path& path);

// Feeds the file's content, streamed, into every given hasher; returns its size.
std::uint64_t hash_file(const std::filesystem::path& path, std::initializer_list<Hasher*> hashers);
// The same over an open file descriptor (read to its end); name is for messages.
std::uint64_t hash_file(int fd, std::string_view name, std::initializer_list<Hasher*> hashers);

bool is_hex_digest(std::string_view text, std::size_t length);

}  // namespace ferry::core
