// Exports and imports as a market's jobs (market/jobs.hpp), which the API starts and follows:
//   <data>/exports/bundle/<file>   exported bundles, served for download under /exports/
//   <data>/import/<file>           files to import (market/import_folder.hpp)
#pragma once

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "market/catalog.hpp"
#include "market/data_dir.hpp"
#include "market/jobs.hpp"
#include "market/publisher.hpp"

namespace ferry::market {

class ExportJobs {
  public:
    ExportJobs(const DataDir& data, Catalog& catalog,
               std::function<void(std::string_view)> failure_log = {});

    // One job per wanted app version ("KEY" or "KEY@MAJOR"), each writing its own bundle into
    // <data>/exports/bundle/; its detail is {"file", "url", "bytes", "reused"}. A
    // revision exported before is a success at once (its file is reused). An unknown app or
    // major, or one whose policy refuses bundles, is refused (ferry::Error) before any job.
    // With have (the SHA-256s of the target market's inventory), each bundle leaves out the
    // files the target has (a differential bundle, named for what it leaves out).
    std::vector<Job> start(const std::vector<std::string>& wanted,
                           const std::set<std::string>& have = {});

  private:
    const DataDir& data_;
    Catalog& catalog_;
    JobRunner runner_;
};

// A batch import: every file imported in turn (an order that lets a differential bundle follow
// its base: what is not a bundle first, then whole bundles, then differential ones, each app's
// in revision order), one failing not stopping the others. The batch's record, as JSON:
//   {"files": [{"name", "state": pending|importing|success|failed, "kind", "apps", "error"}],
//    "result": null while it runs, then success | partial_success | failed}
// changed(record) is called whenever a file's state changes; names are how files are shown.
struct ImportBatchEvents {
    std::function<void(const nlohmann::json&)> changed;
    std::function<void(std::uint64_t done, std::uint64_t total)> progress;
    std::function<bool()> cancelled;
};
nlohmann::json import_batch_plan(const std::vector<fs::path>& files);
// folder: where the named files are ("" when names are paths); a failure of a file the folder
// received moments ago says that it may still be arriving.
void run_import_batch(const DataDir& data, Catalog& catalog, Publisher& publisher,
                      const fs::path& folder, nlohmann::json& record,
                      const ImportBatchEvents& events);

// A batch import of files of the import folder: one job whose detail lists every file with its
// state (pending, importing, success or failed with the reason, and the app versions it brought)
// and the batch's result (success, partial_success or failed). Bundles are imported after other
// files and differential ones after whole ones, each app's in revision order, so that a
// differential bundle follows its base.
class ImportBatches {
  public:
    ImportBatches(const DataDir& data, Catalog& catalog, Publisher& publisher,
                  std::function<void(std::string_view)> failure_log = {});

    Job start(const std::vector<std::string>& names);

  private:
    const DataDir& data_;
    Catalog& catalog_;
    Publisher& publisher_;
    JobRunner runner_;
};

}  // namespace ferry::market
