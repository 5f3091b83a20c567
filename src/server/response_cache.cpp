#include "server/response_cache.hpp"

#include <fmt/format.h>

#include "core/hash.hpp"

namespace ferry::server {

std::shared_ptr<const CachedResponse> ResponseCache::find(const std::string& target,
                                                          std::uint64_t generation) {
    std::lock_guard lock(mutex_);
    auto found = entries_.find(target);
    if (found == entries_.end() || found->second.generation != generation)
        return nullptr;
    return found->second.response;
}

std::shared_ptr<const CachedResponse> ResponseCache::store(const std::string& target,
                                                           std::uint64_t generation,
                                                           std::string body) {
    auto response = std::make_shared<CachedResponse>();
    response->etag = fmt::format("\"{}\"", core::sha256_hex(body).substr(0, 32));
    response->body = std::move(body);
    std::lock_guard lock(mutex_);
    if (entries_.size() >= max_entries_ && !entries_.contains(target))
        entries_.clear();
    entries_[target] = Entry{generation, response};
    return response;
}

}  // namespace ferry::server
