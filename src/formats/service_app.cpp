// The services of one app together: what refers to another service must find it, names must
// not clash, and the dependencies must allow an order to start them in. Dependencies are walked
// with explicit stacks, so no app's shape can overflow the call stack.
#include <algorithm>
#include <functional>
#include <queue>
#include <set>

#include "core/error.hpp"
#include "formats/service.hpp"

namespace ferry::formats {

namespace {

using Services = std::map<std::string, ServiceDescription>;

// The first dependency cycle, components in name order and dependencies in their order, as
// "a -> b -> a"; nullopt when there is none. Dependencies that are not services are skipped.
std::optional<std::string> find_cycle(const Services& services) {
    enum class State { unseen, on_path, done };
    std::map<std::string_view, State> state;
    for (const auto& [name, d] : services) {
        state[name] = State::unseen;
    }
    struct Step {
        std::string_view component;
        std::size_t next = 0;  // the index of the next dependency to follow
    };
    for (const auto& [start, unused] : services) {
        if (state[start] != State::unseen) {
            continue;
        }
        std::vector<Step> path{{start}};
        state[start] = State::on_path;
        while (!path.empty()) {
            Step& step = path.back();
            const std::vector<std::string>& depends =
                services.at(std::string(step.component)).depends;
            if (step.next == depends.size()) {
                state[step.component] = State::done;
                path.pop_back();
                continue;
            }
            const std::string& dependency = depends[step.next++];
            const auto found = state.find(dependency);
            if (found == state.end() || found->second == State::done) {
                continue;
            }
            if (found->second == State::on_path) {
                std::string cycle;
                const auto first = std::find_if(path.begin(), path.end(), [&](const Step& s) {
                    return s.component == dependency;
                });
                for (auto it = first; it != path.end(); ++it) {
                    cycle += std::string(it->component) + " -> ";
                }
                return cycle + dependency;
            }
            found->second = State::on_path;
            path.push_back({found->first});
        }
    }
    return std::nullopt;
}

// The names of each service's data volumes.
using DataVolumes = std::map<std::string_view, std::set<std::string_view>>;

void check_references(const std::string& component, const ServiceDescription& d,
                      const Services& services, const DataVolumes& data_volumes) {
    for (std::size_t i = 0; i < d.depends.size(); ++i) {
        if (!services.contains(d.depends[i])) {
            throw Error::format(
                "service {}: depends[{}]: {} is not a service component of the app (a service "
                "depends only on services)",
                component, i, d.depends[i]);
        }
    }
    for (std::size_t i = 0; i < d.volumes.size(); ++i) {
        const ServiceVolume& v = d.volumes[i];
        if (v.kind != ServiceVolume::Kind::shared) {
            continue;
        }
        const auto other = services.find(v.from);
        if (other == services.end()) {
            throw Error::format(
                "service {}: volumes[{}].from: {} is not a service component of "
                "the app",
                component, i, v.from);
        }
        const auto& names = data_volumes.at(v.from);
        if (!names.contains(v.volume)) {
            throw Error::format("service {}: volumes[{}].volume: {} has no data volume \"{}\" ({})",
                                component, i, v.from, v.volume,
                                names.empty()
                                    ? "it has none"
                                    : fmt::format("its data volumes: {}", fmt::join(names, ", ")));
        }
    }
}

// A service gets the connection values of every service it depends on as environment
// variables: two of them offering one name, or one offering a name of its own environment,
// would leave the value to chance.
void check_connection_names(const std::string& component, const ServiceDescription& d,
                            const Services& services) {
    std::map<std::string, std::string> offered_by;
    for (const ConnectionValue& c : d.connection) {
        offered_by.emplace(c.name, component);
    }
    for (const auto& [name, value] : d.environment) {
        offered_by.emplace(name, component);
    }
    for (const std::string& dependency : d.depends) {
        for (const ConnectionValue& c : services.at(dependency).connection) {
            const auto [other, fresh] = offered_by.emplace(c.name, dependency);
            if (!fresh) {
                throw Error::format(
                    "service {}: depends: {} offers {}, which {} {}; rename one of them", component,
                    dependency, c.name,
                    other->second == component ? "is in the environment of" : "is offered by",
                    other->second);
            }
        }
    }
}

}  // namespace

void check_app_services(const std::map<std::string, ServiceDescription>& by_component) {
    DataVolumes data_volumes;
    for (const auto& [component, d] : by_component) {
        auto& names = data_volumes[component];
        for (const ServiceVolume& v : d.volumes) {
            if (v.kind == ServiceVolume::Kind::data) {
                names.insert(v.name);
            }
        }
    }
    std::map<std::string, std::string> names;
    for (const auto& [component, d] : by_component) {
        check_references(component, d, by_component, data_volumes);
        const auto [other, fresh] = names.emplace(d.name, component);
        if (!fresh) {
            throw Error::format(
                "services {} and {} have the same name \"{}\" (a service's name is its host name "
                "in the app; give one of them another name)",
                other->second, component, d.name);
        }
    }
    if (auto cycle = find_cycle(by_component)) {
        throw Error::format("the services depend on each other in a cycle: {}", *cycle);
    }
    for (const auto& [component, d] : by_component) {
        check_connection_names(component, d, by_component);
    }
}

std::vector<std::string> start_order(
    const std::map<std::string, ServiceDescription>& by_component) {
    // Kahn's algorithm, the ready services taken in name order.
    std::map<std::string_view, std::size_t> waiting_for;
    std::map<std::string_view, std::vector<std::string_view>> dependants;
    for (const auto& [component, d] : by_component) {
        std::set<std::string_view> dependencies;
        for (const std::string& dependency : d.depends) {
            if (by_component.contains(dependency) && dependencies.insert(dependency).second) {
                dependants[dependency].push_back(component);
            }
        }
        waiting_for[component] = dependencies.size();
    }
    std::priority_queue<std::string_view, std::vector<std::string_view>, std::greater<>> ready;
    for (const auto& [component, count] : waiting_for) {
        if (count == 0) {
            ready.push(component);
        }
    }
    std::vector<std::string> order;
    while (!ready.empty()) {
        const std::string_view next = ready.top();
        ready.pop();
        order.emplace_back(next);
        for (std::string_view dependant : dependants[next]) {
            if (--waiting_for[dependant] == 0) {
                ready.push(dependant);
            }
        }
    }
    if (order.size() != by_component.size()) {
        throw Error::format("the services depend on each other in a cycle: {}",
                            find_cycle(by_component).value_or("?"));
    }
    return order;
}

}  // namespace ferry::formats
