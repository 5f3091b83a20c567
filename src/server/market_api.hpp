// The market's HTTP face: repositories as static files under /repo/ and the JSON API under
// /api/v1/ (docs/API.md). Reads are open unless the market is private; writes need a token with
// the right role, sent as "Authorization: Bearer <token>".
#pragma once

#include <optional>

#include "market/bundle_jobs.hpp"
#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/publisher.hpp"
#include "market/upstream.hpp"
#include "server/http_server.hpp"
#include "server/response_cache.hpp"

namespace ferry::server {

struct MarketOptions {
    bool private_reads = false;  // every request needs a token, reads included
};

// The jobs behind exports and imports; null ones answer their requests with an error.
struct BundleJobs {
    market::ExportJobs* exports = nullptr;
    market::ImportBatches* imports = nullptr;
};

// The routes over a data directory, a catalog and a publisher, which must outlive it (and the
// server it is installed on). The catalog is shared by the request threads (the SQLite catalog
// serialises its calls).
class MarketApi {
  public:
    // pulls may be null: a market without upstreams answers pull requests with an error.
    MarketApi(const market::DataDir& data, market::Catalog& catalog, market::Publisher& publisher,
              market::PullJobs* pulls, MarketOptions options, BundleJobs bundles = {})
        : data_(data),
          catalog_(catalog),
          publisher_(publisher),
          pulls_(pulls),
          options_(options),
          bundles_(bundles) {}

    // Registers the routes (and the authentication of private reads) on the server.
    void install(HttpServer& server);

  private:
    std::optional<market::Token> token_of(const Request& req) const;
    // Answers 401/403 and returns false unless the request carries a token allowing the role.
    bool require(const Request& req, Response& res, market::Token::Role role) const;
    void put_blob(const Request& req, Response& res, const ContentReader& content);
    void install_upstream_routes(Routes& routes);
    // Exports, the inventory, the import folder (listing, resumable uploads) and import batches.
    void install_bundle_routes(Routes& routes);
    void put_import_file(const Request& req, Response& res, const ContentReader& content);
    // List, create and revoke tokens (admin tokens only).
    void install_token_routes(Routes& routes);
    // handler's 200 answers (which must depend on the catalog alone) kept in the cache while
    // the catalog is unchanged, with an ETag that If-None-Match can name for a 304.
    Handler cached(Handler handler);

    const market::DataDir& data_;
    market::Catalog& catalog_;
    market::Publisher& publisher_;
    market::PullJobs* pulls_;
    MarketOptions options_;
    BundleJobs bundles_;
    ResponseCache cache_{256};
};

}  // namespace ferry::server
