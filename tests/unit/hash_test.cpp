#include "core/hash.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/test_support.hpp"

namespace ferry::core {
namespace {

TEST(Hash, KnownDigestsOfMemory) {
    EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hash, FileDigestMatchesMemoryDigestAcrossChunks) {
    ScratchDir dir;
    const std::string data = testing::random_bytes(200'000, 7);  // several read chunks
    testing::write_text(dir.path() / "f", data);
    FileDigest d = digest_file(dir.path() / "f");
    EXPECT_EQ(d.size, data.size());
    EXPECT_EQ(d.sha1, sha1_hex(data));
    EXPECT_EQ(d.sha256, sha256_hex(data));
}

TEST(Hash, MissingFileErrorNamesThePath) {
    try {
        digest_file("/nonexistent/file.bin");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/file.bin"), std::string::npos);
    }
}

TEST(Hash, HexDigestShape) {
    EXPECT_TRUE(is_hex_digest(sha1_hex("x"), 40));
    EXPECT_FALSE(is_hex_digest("ABC", 3));
    EXPECT_FALSE(is_hex_digest("abc", 4));
}

}  // namespace
}  // namespace ferry::core
