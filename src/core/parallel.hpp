// Runs independent tasks on a fixed number of threads; the first failure is rethrown after all
// started tasks finish, so no task outlives the call.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ferry::core {

// Calls task(i) for i in [0, count) on up to `threads` threads. Tasks not yet started when one
// fails are skipped.
inline void parallel_for(std::size_t count, unsigned threads,
                         const std::function<void(std::size_t)>& task) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    std::mutex error_mutex;
    auto worker = [&] {
        while (!failed) {
            std::size_t i = next++;
            if (i >= count) {
                return;
            }
            try {
                task(i);
            } catch (...) {
                std::lock_guard lock(error_mutex);
                if (!first_error) {
                    first_error = std::current_exception();
                }
                failed = true;
            }
        }
    };
    unsigned n = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(count)));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < n; ++t) {
        pool.emplace_back(worker);
    }
    worker();
    for (auto& thread : pool) {
        thread.join();
    }
    if (first_error) {
        std::rethrow_exception(first_error);
    }
}

// A budget of bytes shared by threads: acquire() blocks until the amount fits and returns a lease
// that gives it back when dropped. A request larger than the whole budget is cut to the budget,
// so it runs alone rather than never.
class MemoryBudget {
  public:
    explicit MemoryBudget(std::uint64_t capacity) : capacity_(capacity) {}

    std::shared_ptr<void> acquire(std::uint64_t bytes) {
        bytes = std::min(bytes, capacity_);
        std::unique_lock lock(mutex_);
        released_.wait(lock, [&] { return used_ + bytes <= capacity_; });
        used_ += bytes;
        return std::shared_ptr<void>(nullptr, [this, bytes](void*) {
            {
                std::lock_guard inner(mutex_);
                used_ -= bytes;
            }
            released_.notify_all();
        });
    }

  private:
    std::uint64_t capacity_;
    std::uint64_t used_ = 0;
    std::mutex mutex_;
    std::condition_variable released_;
};

}  // namespace ferry::core
