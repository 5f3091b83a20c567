// Runs independent tasks on a fixed number of threads; the first failure is rethrown after all
// started tasks finish, so no task outlives the call.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ferry::repo {

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

}  // namespace ferry::repo
