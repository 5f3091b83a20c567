// Answers of the read API kept while the catalog does not change: an app list of a busy market
// is asked for far more often than the catalog is written, and building it is most of its cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ferry::server {

struct CachedResponse {
    std::string body;  // JSON
    std::string etag;  // strong, quoted
};

class ResponseCache {
  public:
    // When max_entries answers are kept (request targets come from clients, so the count must
    // be bounded), storing another drops them all.
    explicit ResponseCache(std::size_t max_entries) : max_entries_(max_entries) {}

    // The answer stored for target at this catalog generation, or nullptr.
    std::shared_ptr<const CachedResponse> find(const std::string& target, std::uint64_t generation);
    // Stores body as the answer for target at generation (read before the body was built, so
    // that a change made meanwhile makes the entry stale rather than wrong) and returns it.
    std::shared_ptr<const CachedResponse> store(const std::string& target, std::uint64_t generation,
                                                std::string body);

  private:
    struct Entry {
        std::uint64_t generation = 0;
        std::shared_ptr<const CachedResponse> response;
    };

    std::size_t max_entries_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace ferry::server
