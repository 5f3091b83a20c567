// What the client's commands do, as library calls on a Session (session.hpp): decide by IFW's
// rules, download and check, stage, and apply one transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/installation.hpp"
#include "client/resolver.hpp"
#include "client/services.hpp"
#include "client/session.hpp"
#include "client/settings.hpp"
#include "client/transaction.hpp"
#include "client/update_decision.hpp"
#include "core/error.hpp"

namespace ferry::client {

// IFW's exit codes (PackageManagerCore::Status) where they apply.
enum ExitCode : int {
    kSuccess = 0,
    kFailure = 1,
    kCanceled = 3,
    kForceUpdate = 5,       // an essential or forced update must be applied first
    kEssentialUpdated = 6,  // essential updates were applied; run update again for the rest
    kNoPackagesFound = 7,
};

// An error that asks for a particular exit code.
class OperationError : public Error {
  public:
    OperationError(int exit_code, std::string message)
        : Error(std::move(message)), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

  private:
    int exit_code_;
};

// One component a finished operation changed.
struct AppliedChange {
    ComponentChange::Kind kind = ComponentChange::Kind::install;
    std::string name;
    std::string old_version;  // empty for an install
    std::string new_version;  // empty for a remove
    std::string reason;       // why it was part of the operation ("requested", "dependency", ...)
};

struct OperationResult {
    std::vector<AppliedChange> changes;
    std::vector<std::string> already_installed;  // install: named but present already
    std::vector<std::string> scripts_skipped;    // components whose IFW script was not run
    std::vector<std::string> licenses;           // licence files copied, target-relative
    std::uint64_t downloaded_bytes = 0;
    ServicesOutcome services;  // the Compose project after the operation
    int exit_code = kSuccess;  // kEssentialUpdated when only mandatory updates were applied
};

struct InstallOptions {
    std::vector<std::string> names;  // empty: the default set
    bool accept_licenses = false;
    // Files in the way that no installed component owns are replaced (else refused, named).
    bool overwrite = false;
};

OperationResult install(Session& session, const InstallOptions& options);

// Updates the named components (all with updates when empty). While an essential or forced
// update is pending, only those are applied and the result's exit code is kEssentialUpdated
// when other updates wait. overwrite: as for install.
OperationResult update(Session& session, const std::vector<std::string>& names,
                       bool accept_licenses = false, bool overwrite = false);

// Removes the named components and, as IFW does, the installed components that depend on them
// or that were installed only for them (AutoDependOn).
OperationResult remove(Session& session, const std::vector<std::string>& names);

// Puts back the kept previous version of the named components (every component with one when
// empty); the version replaced becomes the kept one. overwrite: as for install.
OperationResult rollback(Session& session, const std::vector<std::string>& names,
                         bool overwrite = false);

// The components' files compared with their records; components without a record (installed by
// another tool) are listed apart.
struct VerifyResult {
    std::vector<FileProblem> problems;
    std::vector<std::string> checked;     // components with a record
    std::vector<std::string> unrecorded;  // components without one
    std::uint64_t files = 0;
};
VerifyResult verify(Session& session, const std::vector<std::string>& names);

// check-updates: the installation against the repositories.
UpdateCheck check(Session& session);

}  // namespace ferry::client
