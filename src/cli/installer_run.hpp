// An installer at work (installer_mode.cpp): its target prepared (an offline payload unpacked
// beside it, a market's app resolved), a session open on it, then one install; the wizard
// (installer_wizard.cpp) asks its questions in between.
#pragma once

#include <optional>

#include "cli/client_console.hpp"
#include "core/files.hpp"
#include "installer/payload.hpp"

namespace ferry::cli {

namespace fs = std::filesystem;

// A target directory the installer made: removed again unless the install happened, so that an
// installer that did nothing (a failure, Ctrl-C, a declined licence) leaves nothing behind.
class MadeTarget {
  public:
    explicit MadeTarget(const fs::path& root);
    ~MadeTarget();
    MadeTarget(const MadeTarget&) = delete;
    MadeTarget& operator=(const MadeTarget&) = delete;
    void keep() { kept_ = true; }

  private:
    fs::path root_;
    bool existed_;
    bool kept_ = false;
};

class PayloadInstall {
  public:
    // args.root is the target; args.names the components (for a market installer, after the
    // app).
    PayloadInstall(const installer::Payload& payload, ClientArgs args);

    client::Session& session() { return *session_; }
    Console& console() { return console_; }
    const fs::path& root() const { return root_; }
    // The components asked for on the command line (a market installer's app taken off).
    const std::vector<std::string>& names() const { return args_.names; }
    // An offline installer's repository, unpacked; nullopt for an online one.
    std::optional<fs::path> local_repository() const {
        return unpacked_ ? std::optional(unpacked_->path() / "repository") : std::nullopt;
    }

    // Installs names (the default set when empty), saves the configuration's repositories,
    // writes the maintenance tool and reports; returns the exit code.
    int install(const std::vector<std::string>& names, bool accept_licenses);

  private:
    const installer::Payload& payload_;
    ClientArgs args_;
    fs::path root_;
    MadeTarget made_;
    std::optional<core::ScratchDir> unpacked_;
    Console console_;
    std::optional<client::Session> session_;
};

// The questions on a terminal: target, components, licences, confirmation; then the install.
int run_wizard(const installer::Payload& payload, ClientArgs defaults);

}  // namespace ferry::cli
