#include "client/session.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/program.hpp"
#include "net/url.hpp"

namespace ferry::client {

Session::Session(SessionOptions options)
    : options_(std::move(options)),
      installation_(Installation::open(options_.root, options_.create)) {
    lock_.emplace(installation_.paths());
    recovered_ = recover(installation_);
    if (recovered_ != Recovery::nothing && options_.reporter.warning) {
        options_.reporter.warning(
            fmt::format("an interrupted transaction on {} was {}", installation_.root().string(),
                        recovered_ == Recovery::completed ? "completed" : "rolled back"));
    }
    settings_ = load_settings(installation_.paths().state());
    // Repositories given with --repo are kept once they have been read successfully, so that a
    // mistyped URL does not stay in the settings.
    const Settings before = settings_;
    for (const auto& url : options_.add_repositories) {
        const net::SplitUrl split = net::split_credentials(url);
        if (RepositorySetting* known = settings_.find(split.url)) {
            // Known already: its priority and name stay; new credentials replace the old.
            if (!split.username.empty() || !split.password.empty()) {
                known->username = split.username;
                known->password = split.password;
            }
        } else {
            add_repository(settings_, url);
        }
    }
    settings_dirty_ = settings_ != before;
}

void Session::save_settings() {
    client::save_settings(installation_.paths().state(), settings_);
}

RemoteOptions Session::remote_options() const {
    RemoteOptions remote;
    remote.cache_dir = installation_.paths().cache();
    remote.download_dir = installation_.paths().downloads();
    remote.images_dir = installation_.paths().images();
    remote.download = options_.download;
    remote.limits = options_.limits;
    remote.concurrency = options_.concurrency;
    return remote;
}

const FetchedIndexes& Session::indexes() {
    if (!indexes_) {
        Settings read = settings_;
        for (const auto& url : options_.session_repositories) {
            add_repository(read, url);
        }
        if (read.repositories.empty()) {
            throw Error::format("{}: no repositories are set; add one with --repo URL or {}",
                                installation_.root().string(),
                                core::suggested_command("repos add URL", installation_.root()));
        }
        indexes_ = with_context("reading the repositories",
                                [&] { return fetch_indexes(read, remote_options()); });
        if (indexes_->settings_changed) {
            for (const auto& url : options_.session_repositories) {
                remove_repository(read, url);
            }
            settings_ = std::move(read);
        }
        if (indexes_->settings_changed || settings_dirty_) {
            save_settings();
            settings_dirty_ = false;
        }
        if (indexes_->settings_changed) {
            if (options_.reporter.info) {
                options_.reporter.info("the repositories' RepositoryUpdate changed the settings");
            }
        }
    }
    return *indexes_;
}

const formats::InstalledComponents& Session::installed() {
    if (!installed_) {
        installed_ = installation_.components();
    }
    return *installed_;
}

const MergedComponents& Session::remote() {
    if (!merged_) {
        merged_ = merge_repositories(indexes().repositories, installed().application_name);
        for (const auto& skipped : merged_->skipped) {
            if (options_.reporter.warning) {
                options_.reporter.warning(fmt::format(
                    "{}: skipped: {}", net::strip_credentials(skipped.url), skipped.reason));
            }
        }
    }
    return *merged_;
}

}  // namespace ferry::client
