// Tests of core::FileLock: one holder at a time, the holder's pid for the others, and the lock
// gone with its holder.
#include "core/file_lock.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/files.hpp"

namespace ferry::core {
namespace {

TEST(FileLock, OneHolderAtATimeAndOthersLearnItsPid) {
    ScratchDir dir;
    const auto path = dir.path() / "lock";
    std::string holder;
    auto first = FileLock::try_lock(path, holder);
    ASSERT_TRUE(first.has_value());
    // A second open file description conflicts even in the same process, as in another one.
    auto second = FileLock::try_lock(path, holder);
    EXPECT_FALSE(second.has_value());
    EXPECT_EQ(holder, std::to_string(::getpid()));

    first.reset();
    EXPECT_TRUE(FileLock::try_lock(path, holder).has_value()) << "released with its holder";
}

TEST(FileLock, WaitForTakesAFreeLockAndNamesItsHolder) {
    ScratchDir dir;
    const auto path = dir.path() / "lock";
    std::string holder;
    {
        const FileLock held = FileLock::wait_for(path);
        EXPECT_FALSE(FileLock::try_lock(path, holder).has_value());
        EXPECT_EQ(holder, std::to_string(::getpid()));
    }
    EXPECT_TRUE(FileLock::try_lock(path, holder).has_value()) << "released with its holder";
    EXPECT_THROW(FileLock::wait_for(dir.path() / "missing" / "lock"), Error);
}

TEST(FileLock, AFileThatCannotBeCreatedIsAStorageErrorNamingIt) {
    ScratchDir dir;
    std::string holder;
    try {
        FileLock::try_lock(dir.path() / "missing" / "lock", holder);
        FAIL() << "locked a file in a directory that does not exist";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::storage);
        EXPECT_NE(std::string(e.what()).find("missing/lock"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace ferry::core
