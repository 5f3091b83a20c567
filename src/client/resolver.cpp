// The install-set computation of the client (rules in resolver.hpp): a depth-first walk over
// Dependencies with the walk's path kept for error messages, then AutoDependOn to a fixed point.
#include "client/resolver.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"
#include "core/version.hpp"

namespace ferry::client {

namespace {

using Reason = PlannedComponent::Reason;

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (const std::string& part : parts) {
        if (!out.empty()) {
            out += separator;
        }
        out += part;
    }
    return out;
}

// A chain in a message: whole when short, else its ends around a count, so that a hostile
// 20,000-deep chain still gives a readable error.
std::string describe_chain(const std::vector<std::string_view>& path) {
    constexpr std::size_t kHead = 4;
    constexpr std::size_t kTail = 6;
    if (path.size() <= kHead + kTail + 2) {
        return fmt::format("{}", fmt::join(path, " -> "));
    }
    return fmt::format(
        "{} -> ... ({} more) ... -> {}", fmt::join(path.begin(), path.begin() + kHead, " -> "),
        path.size() - kHead - kTail, fmt::join(path.end() - kTail, path.end(), " -> "));
}

// The walk over Dependencies is depth-first with an explicit stack (a recursion would overflow
// on a long chain), and every lookup is by name, so resolution is near-linear in the number of
// components and dependencies whatever shape a repository gives them.
class Resolver {
  public:
    Resolver(const MergedComponents& remote, const formats::InstalledComponents& installed)
        : remote_(remote) {
        installed_.reserve(installed.components.size());
        for (const formats::InstalledComponent& component : installed.components) {
            installed_.emplace(component.name, &component);
        }
    }

    void request(const std::string& name) {
        const RemoteComponent* r = remote_.find(name);
        if (r == nullptr) {
            throw Error::format(ErrorKind::not_found,
                                "component \"{}\" is not available (no repository has it)", name);
        }
        const formats::ComponentDescription& c = r->update.component;
        if (c.is_virtual) {
            throw Error::format(
                "cannot install \"{}\": it is virtual (installed only as a dependency)", name);
        }
        if (!c.checkable.value_or(true)) {
            throw Error::format(
                "cannot install \"{}\": it is not checkable (select one of its subcomponents)",
                name);
        }
        if (!c.auto_depend_on.empty()) {
            throw Error::format("cannot install \"{}\": it is installed only automatically with {}",
                                name, join(c.auto_depend_on, ", "));
        }
        if (installed(name) != nullptr) {
            plan_.already_installed.push_back(name);
            return;
        }
        visit(*r, Reason::requested, "");
    }

    void add_defaults(bool default_set) {
        for (const RemoteComponent& r : remote_.components) {
            const formats::ComponentDescription& c = r.update.component;
            if (installed(c.name) != nullptr) {
                continue;
            }
            if (c.forced_installation) {
                visit(r, Reason::forced, "");
            } else if (default_set && c.default_value == "true" && is_visible(c, false)) {
                visit(r, Reason::by_default, "");
            }
        }
    }

    // Every component, as if each were installed alone into an empty target: what the client
    // would meet resolving any of them.
    void add_everything() {
        for (const RemoteComponent& r : remote_.components) {
            visit(r, Reason::requested, "");
        }
    }

    // Components whose AutoDependOn is met are added, the first by name each time, until none
    // is left. A condition can only become true when the component it names is planned, so
    // each one waits on that name instead of being tested again on every round.
    void add_auto_dependencies() {
        for (const RemoteComponent& r : remote_.components) {
            const formats::ComponentDescription& c = r.update.component;
            if (c.auto_depend_on.empty() || planned_.contains(c.name) ||
                installed(c.name) != nullptr) {
                continue;
            }
            AutoCandidate& candidate = candidates_.emplace_back(AutoCandidate{&r, 0});
            for (const std::string& expression : c.auto_depend_on) {
                core::Dependency condition = core::parse_dependency(expression);
                if (!is_present(condition)) {
                    ++candidate.unmet;
                    waiting_[remote_name(condition.name)].push_back(
                        {candidates_.size() - 1, std::move(condition)});
                }
            }
            if (candidate.unmet == 0) {
                ready_.push(candidates_.size() - 1);
            }
        }
        watching_ = true;
        while (!ready_.empty()) {
            const AutoCandidate& candidate = candidates_[ready_.top()];
            ready_.pop();
            const formats::ComponentDescription& c = candidate.component->update.component;
            visit(*candidate.component, Reason::auto_dependency, join(c.auto_depend_on, ","));
        }
    }

    InstallPlan finish() {
        std::set<std::string> removed;
        for (const PlannedComponent& p : plan_.install) {
            for (const std::string& replaced : remote_.find(p.name)->update.component.replaces) {
                if (installed(replaced) != nullptr) {
                    removed.insert(replaced);
                }
            }
        }
        plan_.remove.assign(removed.begin(), removed.end());
        return std::move(plan_);
    }

  private:
    struct Frame {
        const RemoteComponent* component;
        Reason reason;
        std::string required_by;
        std::size_t next_dependency = 0;
    };

    struct AutoCandidate {
        const RemoteComponent* component;
        std::size_t unmet;  // AutoDependOn conditions not met yet
    };

    struct WaitingCondition {
        std::size_t candidate;
        core::Dependency condition;
    };

    const formats::InstalledComponent* installed(std::string_view name) const {
        auto found = installed_.find(name);
        return found != installed_.end() ? found->second : nullptr;
    }

    // The name as the remote components own it, so that string_views of it stay valid; a name
    // no repository has can never be planned and needs no entry of its own.
    std::string_view remote_name(const std::string& name) const {
        const RemoteComponent* r = remote_.find(name);
        return r != nullptr ? std::string_view(r->update.component.name) : std::string_view();
    }

    const RemoteComponent* replacement_of(const std::string& name) {
        if (!replacements_indexed_) {
            // The first component by name that Replaces a name stands in for it.
            for (const RemoteComponent& r : remote_.components) {
                for (const std::string& replaced : r.update.component.replaces) {
                    replaced_by_.try_emplace(replaced, &r);
                }
            }
            replacements_indexed_ = true;
        }
        auto found = replaced_by_.find(name);
        return found != replaced_by_.end() ? found->second : nullptr;
    }

    // Installed or planned in a version that meets the dependency.
    bool is_present(const core::Dependency& dependency) const {
        if (const formats::InstalledComponent* local = installed(dependency.name);
            local != nullptr && core::satisfies(dependency, local->version)) {
            return true;
        }
        return planned_.contains(dependency.name) &&
               core::satisfies(dependency, remote_.find(dependency.name)->update.component.version);
    }

    [[noreturn]] void throw_circular(std::string_view name) const {
        std::vector<std::string_view> cycle = path_;
        cycle.push_back(name);
        throw Error::format("circular dependency: {}", describe_chain(cycle));
    }

    // A dependency of the component on top of the walk; a malformed one names the chain.
    core::Dependency parse_dependency_of(const std::string& expression) const {
        try {
            return core::parse_dependency(expression);
        } catch (const Error& e) {
            throw Error::format("{}: {}", describe_chain(path_), e.what());
        }
    }

    // Starts the walk at r unless it is planned already; returns when r and everything it
    // depends on are planned.
    void visit(const RemoteComponent& r, Reason reason, std::string required_by) {
        enter(r, reason, std::move(required_by));
        while (!stack_.empty()) {
            Frame& frame = stack_.back();
            const formats::ComponentDescription& c = frame.component->update.component;
            if (frame.next_dependency < c.dependencies.size()) {
                const core::Dependency dependency =
                    parse_dependency_of(c.dependencies[frame.next_dependency++]);
                if (const RemoteComponent* next = to_install_for(dependency)) {
                    enter(*next, Reason::dependency, std::string(path_.back()));
                }
                continue;
            }
            // Every dependency is planned: the component follows them.
            planned_.insert(c.name);
            plan_.install.push_back({c.name, c.version, frame.component->repository_url,
                                     frame.reason, std::move(frame.required_by)});
            on_path_.erase(c.name);
            path_.pop_back();
            stack_.pop_back();
            if (watching_) {
                release_waiting_on(c.name);
            }
        }
    }

    void enter(const RemoteComponent& r, Reason reason, std::string required_by) {
        const std::string& name = r.update.component.name;
        if (planned_.contains(name)) {
            return;
        }
        if (on_path_.contains(name)) {
            throw_circular(name);
        }
        stack_.push_back({&r, reason, std::move(required_by)});
        path_.push_back(name);
        on_path_.insert(name);
    }

    // The component to install for a dependency of the component on top of the walk, nullptr
    // when the dependency is met already; throws when nothing can meet it.
    const RemoteComponent* to_install_for(const core::Dependency& dependency) {
        if (on_path_.contains(dependency.name)) {
            throw_circular(dependency.name);
        }
        if (is_present(dependency)) {
            return nullptr;
        }
        const RemoteComponent* r = remote_.find(dependency.name);
        const formats::InstalledComponent* local = installed(dependency.name);
        if (r == nullptr && local == nullptr) {
            // As in IFW, a component that Replaces a name stands in for it: a dependency on a
            // component no repository offers any more is met by its replacement.
            if (const RemoteComponent* replacement = replacement_of(dependency.name)) {
                return installed(replacement->update.component.name) == nullptr ? replacement
                                                                                : nullptr;
            }
        }
        if (r == nullptr || planned_.contains(dependency.name) ||
            !core::satisfies(dependency, r->update.component.version)) {
            std::string have =
                r == nullptr ? "no repository has it"
                             : fmt::format("the repositories have {}", r->update.component.version);
            if (local != nullptr) {
                have += fmt::format("; {} is installed", local->version);
            }
            std::vector<std::string_view> chain = path_;
            chain.push_back(dependency.name);
            throw Error::format("{}: {} is not available ({})", describe_chain(chain),
                                core::to_string(dependency), have);
        }
        return r;
    }

    // A component was planned: AutoDependOn conditions naming it may be met now.
    void release_waiting_on(std::string_view name) {
        auto found = waiting_.find(name);
        if (found == waiting_.end()) {
            return;
        }
        for (const WaitingCondition& waiting : found->second) {
            if (is_present(waiting.condition) && --candidates_[waiting.candidate].unmet == 0) {
                ready_.push(waiting.candidate);
            }
        }
        waiting_.erase(found);
    }

    const MergedComponents& remote_;
    // components.xml's list by name (its own find is a scan).
    std::unordered_map<std::string_view, const formats::InstalledComponent*> installed_;
    InstallPlan plan_;
    std::set<std::string, std::less<>> planned_;
    std::vector<Frame> stack_;
    std::vector<std::string_view> path_;  // the names on the stack, outermost first
    std::unordered_set<std::string_view> on_path_;
    std::unordered_map<std::string_view, const RemoteComponent*> replaced_by_;
    bool replacements_indexed_ = false;
    // AutoDependOn: the candidates, the conditions waiting for a name to be planned, and the
    // candidates whose conditions are all met (smallest index, i.e. first by name, on top).
    std::vector<AutoCandidate> candidates_;
    std::unordered_map<std::string_view, std::vector<WaitingCondition>> waiting_;
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready_;
    bool watching_ = false;
};

}  // namespace

bool is_visible(const formats::ComponentDescription& component, bool all) {
    return all || !component.is_virtual;
}

InstallPlan resolve_install(const MergedComponents& remote,
                            const formats::InstalledComponents& installed,
                            const InstallRequest& request) {
    Resolver resolver(remote, installed);
    for (const std::string& name : request.names) {
        resolver.request(name);
    }
    resolver.add_defaults(request.names.empty());
    resolver.add_auto_dependencies();
    return resolver.finish();
}

void check_resolvable(const MergedComponents& components) {
    const formats::InstalledComponents nothing_installed;
    Resolver resolver(components, nothing_installed);
    resolver.add_everything();
}

void check_resolvable(const formats::RepositoryIndex& index) {
    check_resolvable(merge_repositories({RemoteRepository{"", 0, index}}, ""));
}

std::string_view to_string(PlannedComponent::Reason reason) {
    switch (reason) {
        case Reason::requested:
            return "requested";
        case Reason::by_default:
            return "default";
        case Reason::forced:
            return "forced installation";
        case Reason::dependency:
            return "dependency";
        case Reason::auto_dependency:
            return "automatic dependency";
    }
    return "unknown";
}

}  // namespace ferry::client
