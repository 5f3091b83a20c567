// Changes to an installation applied as one transaction: nothing is touched until every new
// file is staged inside the target; then a journal records the plan, the old files move aside
// and the new ones into place by rename, and only a "committed" journal makes the new state
// (components.xml, file records, rollback copies) final. A process killed at any moment leaves
// a journal that the next ferry command on the target rolls back (not committed yet) or
// finishes (committed), so every component ends wholly old or wholly new.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/file_record.hpp"
#include "client/installation.hpp"
#include "formats/components_xml.hpp"

namespace ferry::client {

// One component's change. Its new files sit in source (paths as in new_record) and are moved,
// not copied, into the target.
struct ComponentChange {
    enum class Kind { install, update, remove, rollback };
    Kind kind = Kind::install;
    std::string name;
    fs::path source;                       // install, update, rollback: the new files
    std::optional<FileRecord> new_record;  // install, update, rollback
    std::optional<formats::InstalledComponent> new_entry;  // install, update, rollback
    // A file in the way of a new one that no installed component owns (a user's file) is
    // replaced when set; otherwise the transaction is refused, naming such files.
    bool overwrite = false;
};

// Calls at the transaction's steps; a test sets FERRY_CRASH_AT=N to have the process killed
// (SIGKILL) at the Nth one, which is how recovery is tested at every step.
struct TransactionObserver {
    std::function<void(std::string_view step, std::size_t done, std::size_t total)> progress;
};

// A directory in the target's staging area for the files of the next transaction (created;
// removed by the transaction, or by recovery when the process dies before using it).
fs::path new_staging_dir(const TargetPaths& paths);

// Applies the changes under the target's lock (the caller holds a TargetLock). application
// gives the ApplicationName/ApplicationVersion written to components.xml when set. On an
// error before the commit everything is put back as it was and the error is rethrown with
// "nothing was changed" in its context.
void run_transaction(const Installation& installation, std::vector<ComponentChange> changes,
                     const formats::InstalledComponents& new_state,
                     const TransactionObserver& observer = {});

// What recover() found and did.
enum class Recovery { nothing, rolled_back, completed };

// Finishes or undoes an interrupted transaction and removes leftovers of staging. Every ferry
// command on a target calls it first, under the lock.
Recovery recover(const Installation& installation);

// Hook for crash tests (see TransactionObserver); a no-op unless FERRY_CRASH_AT is set.
void crash_point(std::string_view step);

std::string_view to_string(ComponentChange::Kind kind);

}  // namespace ferry::client
