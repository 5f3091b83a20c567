#include "market/resolvable.hpp"

#include "client/resolver.hpp"
#include "client/update_decision.hpp"

namespace ferry::market {

void check_resolvable(const formats::RepositoryIndex& index) {
    const client::MergedComponents merged =
        client::merge_repositories({client::RemoteRepository{"", 0, index}}, "");
    client::InstallRequest request;
    for (const client::RemoteComponent& remote : merged.components) {
        const formats::ComponentDescription& component = remote.update.component;
        if (!component.is_virtual && component.checkable.value_or(true) &&
            component.auto_depend_on.empty()) {
            request.names.push_back(component.name);
        }
    }
    // One resolution for all of them: each component's dependencies are walked once, and the
    // components installed automatically with them are resolved too.
    client::resolve_install(merged, formats::InstalledComponents{}, request);
}

}  // namespace ferry::market
