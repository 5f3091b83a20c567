// The pure half of reading Rainbond packages: metadata.json's fields onto ferry's components and
// service descriptions, and the names this makes.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "bundle/rainbond.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "formats/names.hpp"
#include "market/names.hpp"

namespace ferry::bundle {

namespace {

constexpr std::string_view kGenerated = "**None**";

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Lowercase ASCII letters and digits of text, every other run of characters one `sep`, trimmed,
// at most max characters.
std::string slug(std::string_view text, char sep, std::size_t max) {
    std::string out;
    for (char c : text) {
        c = lower(c);
        if (is_lower_alnum(c)) {
            out += c;
        } else if (!out.empty() && out.back() != sep) {
            out += sep;
        }
    }
    if (out.size() > max) {
        out.resize(max);
    }
    while (!out.empty() && out.back() == sep) {
        out.pop_back();
    }
    return out;
}

std::string_view digits_prefix(std::string_view text) {
    std::size_t n = 0;
    while (n < text.size() && text[n] >= '0' && text[n] <= '9') {
        ++n;
    }
    return text.substr(0, n);
}

// deploy_version is a build time, YYYYMMDDhhmmss: its day is the component's ReleaseDate, so
// that importing a package twice writes the same repository.
std::string release_date(std::string_view deploy_version) {
    const std::string_view digits = digits_prefix(deploy_version);
    if (digits.size() >= 8) {
        const int month = std::stoi(std::string(digits.substr(4, 2)));
        const int day = std::stoi(std::string(digits.substr(6, 2)));
        if (month >= 1 && month <= 12 && day >= 1 && day <= 31 && digits[0] != '0') {
            return fmt::format("{}-{}-{}", digits.substr(0, 4), digits.substr(4, 2),
                               digits.substr(6, 2));
        }
    }
    return "2000-01-01";
}

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (!word.empty()) {
                words.push_back(std::move(word));
                word.clear();
            }
        } else {
            word += c;
        }
    }
    if (!word.empty()) {
        words.push_back(std::move(word));
    }
    return words;
}

std::string volume_name(std::string_view rainbond_name, std::size_t index) {
    std::string name;
    for (char c : rainbond_name) {
        c = lower(c);
        name += is_lower_alnum(c) || c == '_' || c == '.' || c == '-' ? c : '-';
    }
    if (name.size() > 64) {
        name.resize(64);
    }
    if (name.empty() || !is_lower_alnum(name[0])) {
        name = fmt::format("volume{}", index);
    }
    return name;
}

// The probe ferry runs: the readiness probe in use, else the liveness probe in use (Docker has
// one health check; dependants wait for it, which is what readiness means).
std::optional<formats::HealthProbe> map_probe(const RainbondComponent& app,
                                              const std::string& place) {
    const RainbondProbe* chosen = nullptr;
    for (const std::string_view mode : {"readiness", "liveness"}) {
        for (const auto& probe : app.probes) {
            if (chosen == nullptr && probe.is_used && probe.mode == mode) {
                chosen = &probe;
            }
        }
    }
    if (chosen == nullptr) {
        return std::nullopt;
    }
    const std::size_t index = static_cast<std::size_t>(chosen - app.probes.data());
    const std::string where = fmt::format("{}.probes[{}]", place, index);
    formats::HealthProbe health;
    if (chosen->scheme == "http" || chosen->scheme == "tcp") {
        if (chosen->port < 1 || chosen->port > 65535) {
            throw Error::format("{}.port: {} is not a port (1..65535)", where, chosen->port);
        }
        health.kind = chosen->scheme == "http" ? formats::HealthProbe::Kind::http
                                               : formats::HealthProbe::Kind::tcp;
        health.port = static_cast<std::uint16_t>(chosen->port);
        if (health.kind == formats::HealthProbe::Kind::http) {
            health.path = chosen->path.empty() ? "/" : chosen->path;
            if (health.path[0] != '/') {
                health.path.insert(0, "/");
            }
        }
    } else if (chosen->scheme == "cmd") {
        if (chosen->cmd.empty()) {
            throw Error::format("{}.cmd: is empty (a cmd probe needs a command)", where);
        }
        health.kind = formats::HealthProbe::Kind::command;
        health.command = {"sh", "-c", chosen->cmd};
    } else {
        throw Error::format("{}.scheme: \"{}\" is not a probe scheme (http, tcp or cmd)", where,
                            chosen->scheme);
    }
    auto seconds = [](int value, int fallback) {
        return std::chrono::seconds(std::clamp(value > 0 ? value : fallback, 1, 86400));
    };
    health.interval = seconds(chosen->period_second, 10);
    health.timeout = seconds(chosen->timeout_second, 5);
    health.start_period = std::chrono::seconds(std::clamp(chosen->initial_delay_second, 0, 86400));
    health.retries = static_cast<unsigned>(std::clamp(chosen->failure_threshold, 1, 100));
    if (chosen->failure_threshold <= 0) {
        health.retries = 3;
    }
    return health;
}

ImportedComponent map_component(const RainbondMetadata& metadata, std::size_t index,
                                const std::map<std::string, std::string>& by_key,
                                const std::map<std::string, const RainbondComponent*>& by_uuid,
                                std::string_view source) {
    const RainbondComponent& app = metadata.apps[index];
    ImportedComponent out;
    out.place = fmt::format("{}: apps[{}]", source, index);
    out.name = by_key.at(app.service_key);
    out.version = rainbond_version(app.version, app.deploy_version);
    out.display_name = app.service_cname;
    out.release_date = release_date(app.deploy_version);
    out.share_image = app.share_image;
    formats::ServiceDescription& service = out.service;
    service.name = rainbond_service_name(app.service_cname, app.service_key);
    service.image = app.share_image;
    service.command = split_words(app.cmd);
    std::set<std::pair<int, std::string>> ports;
    for (const auto& port : app.ports) {
        formats::ServicePort p;
        p.container = static_cast<std::uint16_t>(port.container_port);
        p.protocol = port.protocol == "udp" ? "udp" : "tcp";
        p.publish = port.is_outer_service;
        p.name = slug(port.port_alias, '-', 63);
        if (ports.emplace(port.container_port, p.protocol).second) {
            service.ports.push_back(std::move(p));
        }
    }
    std::set<std::string> connection_names;
    for (const auto& info : app.connect_infos) {
        formats::ConnectionValue value{info.attr_name, info.attr_value, false};
        if (info.attr_value == kGenerated) {
            value.value.clear();
            value.generate = true;
        }
        if (connection_names.insert(info.attr_name).second) {
            service.connection.push_back(std::move(value));
        }
    }
    for (const auto& env : app.envs) {
        if (!connection_names.contains(env.attr_name)) {
            service.environment[env.attr_name] = env.attr_value;
        }
    }
    std::set<std::string> names;
    for (std::size_t v = 0; v < app.volumes.size(); ++v) {
        const RainbondVolume& volume = app.volumes[v];
        formats::ServiceVolume mount;
        mount.path = volume.volume_path;
        while (mount.path.size() > 1 && mount.path.back() == '/') {
            mount.path.pop_back();
        }
        if (volume.volume_type == "config-file") {
            mount.kind = formats::ServiceVolume::Kind::config;
            mount.content = volume.file_content;
            if (volume.mode && *volume.mode > 0 && *volume.mode <= 0777) {
                mount.mode = static_cast<std::uint32_t>(*volume.mode);
            }
        } else {
            mount.kind = formats::ServiceVolume::Kind::data;
            mount.name = volume_name(volume.volume_name, v);
            if (!names.insert(mount.name).second) {
                mount.name = fmt::format("{}-{}", mount.name, v);
                names.insert(mount.name);
            }
        }
        service.volumes.push_back(std::move(mount));
    }
    for (std::size_t m = 0; m < app.shared_volumes.size(); ++m) {
        const RainbondSharedVolume& shared = app.shared_volumes[m];
        const auto owner = by_uuid.find(shared.service_share_uuid);
        if (owner == by_uuid.end()) {
            throw Error::format(
                "{}.mnt_relation_list[{}].service_share_uuid: \"{}\" is not a component of the "
                "app",
                out.place, m, shared.service_share_uuid);
        }
        const RainbondComponent& other = *owner->second;
        formats::ServiceVolume mount;
        mount.kind = formats::ServiceVolume::Kind::shared;
        mount.path = shared.mnt_dir;
        mount.from = by_key.at(other.service_key);
        for (std::size_t v = 0; v < other.volumes.size(); ++v) {
            if (other.volumes[v].volume_name == shared.mnt_name) {
                mount.volume = volume_name(shared.mnt_name, v);
            }
        }
        if (mount.volume.empty()) {
            throw Error::format("{}.mnt_relation_list[{}].mnt_name: {} has no volume \"{}\"",
                                out.place, m, other.service_cname, shared.mnt_name);
        }
        service.volumes.push_back(std::move(mount));
    }
    for (std::size_t d = 0; d < app.dep_service_keys.size(); ++d) {
        const auto dep = by_key.find(app.dep_service_keys[d]);
        if (dep == by_key.end()) {
            throw Error::format(
                "{}.dep_service_map_list[{}].dep_service_key: \"{}\" is not a component of the "
                "app",
                out.place, d, app.dep_service_keys[d]);
        }
        if (std::find(service.depends.begin(), service.depends.end(), dep->second) ==
            service.depends.end()) {
            service.depends.push_back(dep->second);
            out.dependencies.push_back(dep->second);
        }
    }
    service.health = map_probe(app, out.place);
    if (app.memory > 0) {
        service.memory = std::max<std::uint64_t>(6, static_cast<std::uint64_t>(app.memory)) << 20;
    }
    if (app.cpu > 0) {
        service.cpus = std::max(0.01, std::min(1024.0, app.cpu / 1000.0));
    }
    return out;
}

// Checks a description as meta/service.json would be: what the mapping made must be what ferry
// reads, whatever Rainbond allowed (an environment name with '.', a relative volume path).
void check_description(ImportedComponent& component) {
    try {
        component.service = formats::parse_service(formats::to_json(component.service),
                                                   component.place, component.name);
    } catch (const Error& e) {
        throw Error::format("{} (service_cname \"{}\", as a ferry service: {})", component.place,
                            component.display_name, e.what());
    }
}

}  // namespace

std::string rainbond_component_name(std::string_view group_key, std::string_view service_key) {
    std::string group = slug(group_key, '_', 12);
    std::string key = slug(service_key, '_', 64);
    if (key.empty()) {
        key = "component";
    }
    return fmt::format("rb{}.{}", group, key);
}

std::string rainbond_service_name(std::string_view service_cname, std::string_view service_key) {
    std::string name = slug(service_cname, '-', 40);
    if (name.empty()) {
        // A name of no ASCII letters or digits (a Chinese one): the key's start, which is stable.
        name = "svc-" + slug(service_key, '-', 12);
        while (!name.empty() && name.back() == '-') {
            name.pop_back();
        }
    }
    return name;
}

std::string rainbond_version(std::string_view version, std::string_view deploy_version) {
    std::string base;
    for (char c : version) {
        base += (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        c == '.' || c == '_' || c == '-' || c == '+' || c == '~'
                    ? c
                    : '_';
    }
    if (base.empty() || formats::name_problem(formats::NameKind::version, base)) {
        base = "0" + (base.empty() ? std::string() : "_" + base);
    }
    const std::string_view build = digits_prefix(deploy_version);
    std::string out = build.empty() ? base : fmt::format("{}.{}", base, build);
    if (out.size() > 100 || formats::name_problem(formats::NameKind::version, out)) {
        out = build.empty() ? "0" : fmt::format("0.{}", build.substr(0, 40));
    }
    return out;
}

std::string rainbond_major(std::string_view group_version) {
    std::string major;
    bool non_ascii = false;
    for (char c : group_version) {
        c = lower(c);
        non_ascii = non_ascii || static_cast<unsigned char>(c) >= 0x80;
        if (is_lower_alnum(c) || c == '.' || c == '_' || c == '-') {
            major += c;
        } else if (major.empty() || major.back() != '-') {
            major += '-';
        }
    }
    if (major.empty() || !is_lower_alnum(major[0])) {
        major.insert(0, "v");
    }
    if (major.size() > 100) {
        major.resize(100);
    }
    if (non_ascii) {
        // "版本一" and "版本二" must stay two majors.
        while (major.size() > 1 && major.back() == '-') {
            major.pop_back();
        }
        major += "-" + core::sha256_hex(group_version).substr(0, 8);
    }
    market::check_key(major, "major version (from group_version)");
    return major;
}

std::vector<ImportedItem> map_rainbond_metadata(const RainbondMetadata& metadata,
                                                std::string_view source) {
    ImportedItem app;
    app.key = slug(metadata.group_key, '-', 128);
    try {
        market::check_key(app.key, "app key");
    } catch (const Error& e) {
        throw Error::format("{}: group_key: \"{}\" makes no app key: {}", source,
                            metadata.group_key, e.what());
    }
    try {
        app.major = rainbond_major(metadata.group_version);
    } catch (const Error& e) {
        throw Error::format("{}: group_version: {}", source, e.what());
    }
    app.name = metadata.group_name;
    std::map<std::string, std::string> by_key;
    std::map<std::string, const RainbondComponent*> by_uuid;
    std::set<std::string> service_names;
    for (std::size_t i = 0; i < metadata.apps.size(); ++i) {
        const RainbondComponent& c = metadata.apps[i];
        const std::string name = rainbond_component_name(metadata.group_key, c.service_key);
        if (!by_key.emplace(c.service_key, name).second) {
            throw Error::format("{}: apps[{}].service_key: \"{}\" is there twice", source, i,
                                c.service_key);
        }
        if (!c.service_share_uuid.empty()) {
            by_uuid.emplace(c.service_share_uuid, &c);
        }
        by_uuid.emplace(c.service_key, &c);
    }
    std::map<std::string, formats::ServiceDescription> services;
    for (std::size_t i = 0; i < metadata.apps.size(); ++i) {
        ImportedComponent component = map_component(metadata, i, by_key, by_uuid, source);
        // Two components whose names slug alike ("Web", "web") keep apart by their keys.
        if (!service_names.insert(component.service.name).second) {
            component.service.name =
                rainbond_service_name(fmt::format("{}-{}", component.service.name,
                                                  slug(metadata.apps[i].service_key, '-', 8)),
                                      metadata.apps[i].service_key);
            service_names.insert(component.service.name);
        }
        check_description(component);
        services.emplace(component.name, component.service);
        app.components.push_back(std::move(component));
    }
    formats::check_app_services(services);

    std::vector<ImportedItem> items{std::move(app)};
    for (std::size_t i = 0; i < metadata.plugins.size(); ++i) {
        const RainbondPlugin& p = metadata.plugins[i];
        const std::string place = fmt::format("{}: plugins[{}]", source, i);
        ImportedItem plugin;
        plugin.plugin = true;
        plugin.key = slug(p.plugin_key, '-', 128);
        try {
            market::check_key(plugin.key, "app key");
            plugin.major = rainbond_major(p.build_version.empty() ? "1" : p.build_version);
        } catch (const Error& e) {
            throw Error::format("{}: plugin_key or build_version: {}", place, e.what());
        }
        plugin.name = p.plugin_alias.empty() ? p.plugin_name : p.plugin_alias;
        plugin.description = p.desc;
        ImportedComponent component;
        component.place = place;
        component.name = rainbond_component_name(p.plugin_key, "plugin");
        component.version = rainbond_version("1", p.build_version);
        component.display_name = plugin.name.empty() ? p.plugin_key : plugin.name;
        component.release_date = release_date(p.build_version);
        component.share_image = p.share_image;
        component.service.name = rainbond_service_name(component.display_name, p.plugin_key);
        component.service.image = p.share_image;
        check_description(component);
        plugin.components.push_back(std::move(component));
        items.push_back(std::move(plugin));
    }
    return items;
}

}  // namespace ferry::bundle
