// The installer on a terminal without a command: one question at a time, each with a default
// that Enter takes: the target directory, the components (the default set preselected), the
// licences, a last confirmation; then the install with its progress and summary. Ctrl-C or
// the end of input at any question cancels, and nothing is left behind.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "archive/archive.hpp"
#include "cli/installer_run.hpp"
#include "cli/terminal.hpp"
#include "client/resolver.hpp"
#include "repo/repository_dir.hpp"

namespace ferry::cli {

namespace {

volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_interrupt(int) {
    interrupted = 1;
}

[[noreturn]] void cancel() {
    throw client::OperationError(client::kCanceled, "cancelled; nothing was installed");
}

// One line typed by the user, trimmed. While it waits, Ctrl-C interrupts the read (the
// signal's usual handling is restored afterwards).
std::string ask(std::string_view question) {
    // The handler first: a Ctrl-C typed as soon as the question shows must reach it.
    struct sigaction mine {};
    struct sigaction previous {};
    mine.sa_handler = on_interrupt;
    sigemptyset(&mine.sa_mask);
    ::sigaction(SIGINT, &mine, &previous);
    std::fputs(std::string(question).c_str(), stderr);
    std::fflush(stderr);
    std::string line;
    bool ended = false;
    for (;;) {
        // A Ctrl-C between two questions reached the session's handler instead of this one.
        if (interrupted != 0 || cancel_was_requested()) {
            ended = true;
            break;
        }
        char c = 0;
        const ssize_t n = ::read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            ended = true;
            break;
        }
        if (c == '\n') {
            break;
        }
        line += c;
    }
    ::sigaction(SIGINT, &previous, nullptr);
    if (ended) {
        std::fputs("\n", stderr);
        cancel();
    }
    const auto first = line.find_first_not_of(" \t\r");
    const auto last = line.find_last_not_of(" \t\r");
    return first == std::string::npos ? std::string() : line.substr(first, last - first + 1);
}

bool ask_yes(std::string_view question, bool default_yes) {
    for (;;) {
        const std::string answer = ask(question);
        if (answer.empty()) {
            return default_yes;
        }
        if (answer == "y" || answer == "Y" || answer == "yes") {
            return true;
        }
        if (answer == "n" || answer == "N" || answer == "no") {
            return false;
        }
        print_line(stderr, "Please answer y or n.");
    }
}

std::string title_of(const client::RemoteComponent& component) {
    const auto& c = component.update.component;
    return c.display_names.empty() ? c.name : c.display_names.front().text;
}

// A licence's text when the installer carries it (offline: in the component's metadata);
// empty otherwise.
std::string licence_text(const std::optional<fs::path>& repository,
                         const client::RemoteComponent& component, const std::string& file) {
    if (!repository) {
        return {};
    }
    const fs::path meta = *repository / repo::meta_archive_path(component.update);
    const std::string wanted = component.update.component.name + "/" + file;
    try {
        if (auto entry = archive::read_entry(
                meta, [&](std::string_view path) { return path == wanted; }, 1 << 20)) {
            return std::move(entry->second);
        }
    } catch (const Error&) {
        // Shown without its text; the install checks the metadata and says what is wrong.
    }
    return {};
}

std::vector<std::string> choose_components(const client::MergedComponents& remote) {
    std::vector<const client::RemoteComponent*> offered;
    std::set<std::string> chosen;
    for (const auto& component : remote.components) {
        const auto& c = component.update.component;
        if (!client::is_visible(c, false)) {
            continue;
        }
        offered.push_back(&component);
        if (c.default_value == "true" || c.forced_installation) {
            chosen.insert(c.name);
        }
    }
    if (offered.empty()) {
        throw client::OperationError(client::kNoPackagesFound,
                                     "the installer offers no component to install");
    }
    for (;;) {
        print_line(stderr, "Components ([x] will be installed):");
        for (std::size_t i = 0; i < offered.size(); ++i) {
            const auto& c = offered[i]->update.component;
            print_line(stderr, fmt::format("  {:>2} [{}] {} {} ({}){}", i + 1,
                                           chosen.count(c.name) != 0 ? 'x' : ' ',
                                           title_of(*offered[i]), c.version, c.name,
                                           c.forced_installation ? ", always installed" : ""));
        }
        const std::string answer =
            ask("Numbers to select or deselect (\"2\" or \"1 3\"), Enter to go on: ");
        if (answer.empty()) {
            if (!chosen.empty()) {
                break;
            }
            print_line(stderr, "Select at least one component (or Ctrl-C to stop).");
            continue;
        }
        std::string word;
        std::istringstream words(answer);
        while (words >> word) {
            std::size_t number = 0;
            try {
                std::size_t used = 0;
                number = std::stoul(word, &used);
                if (used != word.size()) {
                    number = 0;
                }
            } catch (const std::exception&) {
                number = 0;
            }
            if (number == 0 || number > offered.size()) {
                print_line(stderr, fmt::format("There is no component {}.", word));
                continue;
            }
            const auto& c = offered[number - 1]->update.component;
            if (c.forced_installation) {
                print_line(stderr, fmt::format("{} is always installed.", c.name));
            } else if (!chosen.erase(c.name)) {
                chosen.insert(c.name);
            }
        }
    }
    std::vector<std::string> names;
    for (const auto* component : offered) {
        if (chosen.count(component->update.component.name) != 0) {
            names.push_back(component->update.component.name);
        }
    }
    return names;
}

}  // namespace

int run_wizard(const installer::Payload& payload, ClientArgs defaults) {
    const auto& config = payload.manifest.config;
    print_line(stderr, fmt::format("{}{}", installer::product_label(config, config.title),
                                   config.publisher.empty() ? "" : ", by " + config.publisher));
    if (!config.product_url.empty()) {
        print_line(stderr, config.product_url);
    }
    print_line(stderr, payload.manifest.offline ? "This installer carries everything it installs."
                                                : "This installer downloads what it installs.");
    const std::string target = ask(fmt::format("Install into [{}]: ", defaults.root));
    if (!target.empty()) {
        defaults.root = target.rfind("~/", 0) == 0 && std::getenv("HOME") != nullptr
                            ? std::string(std::getenv("HOME")) + target.substr(1)
                            : target;
    }
    PayloadInstall run(payload, defaults);
    client::Session& session = run.session();
    const auto& remote = session.remote();
    const std::vector<std::string> names = choose_components(remote);

    const auto plan = client::resolve_install(remote, session.installed(), {names});
    bool has_licences = false;
    for (const auto& planned : plan.install) {
        const auto* component = remote.find(planned.name);
        for (const auto& licence : component->update.component.licenses) {
            has_licences = true;
            print_line(stderr, fmt::format("Licence of {}: {} ({})", planned.name, licence.name,
                                           licence.file));
            const std::string text = licence_text(run.local_repository(), *component, licence.file);
            if (!text.empty()) {
                // The text as it is, lines made printable (it came from the payload).
                std::istringstream lines(text);
                for (std::string line; std::getline(lines, line);) {
                    print_line(stderr, "    " + line);
                }
            }
        }
    }
    if (has_licences && !ask_yes("Do you accept these licences? [y/N] ", false)) {
        print_line(stderr, "The licences were not accepted; nothing was installed.");
        return client::kCanceled;
    }
    std::string list;
    for (const auto& planned : plan.install) {
        list += fmt::format("\n  {} {}{}", planned.name, planned.version,
                            planned.reason == client::PlannedComponent::Reason::requested
                                ? ""
                                : fmt::format(" ({})", client::to_string(planned.reason)));
    }
    if (plan.install.empty()) {
        list = "\n  (everything selected is installed already)";
    }
    print_line(stderr, fmt::format("Ready to install into {}:{}", run.root().string(), list));
    if (!ask_yes("Install now? [Y/n] ", true)) {
        print_line(stderr, "Nothing was installed.");
        return client::kCanceled;
    }
    return run.install(names, has_licences);
}

}  // namespace ferry::cli
