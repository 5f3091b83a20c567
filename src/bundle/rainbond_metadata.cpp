#include "bundle/rainbond_metadata.hpp"

#include <fmt/format.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/json_error.hpp"

namespace ferry::bundle {

namespace {

using Json = nlohmann::json;

std::string_view type_name(const Json& value) {
    switch (value.type()) {
        case Json::value_t::null:
            return "null";
        case Json::value_t::boolean:
            return "a boolean";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
            return "an integer";
        case Json::value_t::number_float:
            return "a number with a fraction";
        case Json::value_t::string:
            return "a string";
        case Json::value_t::array:
            return "a list";
        case Json::value_t::object:
            return "an object";
        default:
            return "something else";
    }
}

// One JSON object of metadata.json and its place ("metadata.json: apps[2]"). A field that is
// absent or null is missing: Rainbond writes null for an empty list in some versions.
class Fields {
  public:
    Fields(const Json& object, std::string where) : object_(object), where_(std::move(where)) {
        if (!object_.is_object()) {
            throw fail("", "an object", object_);
        }
    }

    const std::string& where() const { return where_; }
    std::string place(std::string_view field) const {
        return fmt::format("{}{}{}", where_, where_.ends_with(": ") ? "" : ".", field);
    }

    const Json* find(std::string_view field) const {
        auto it = object_.find(field);
        return it == object_.end() || it->is_null() ? nullptr : &*it;
    }

    std::string string(std::string_view field, bool required) const {
        const Json* value = find(field);
        if (value == nullptr) {
            if (required) {
                throw Error::format("{}: missing (a string is required)", place(field));
            }
            return {};
        }
        if (!value->is_string()) {
            throw fail(field, "a string", *value);
        }
        return value->get<std::string>();
    }

    std::string required_text(std::string_view field) const {
        std::string text = string(field, true);
        if (text.empty()) {
            throw Error::format("{}: is empty", place(field));
        }
        return text;
    }

    int integer(std::string_view field, bool required = false) const {
        const Json* value = find(field);
        if (value == nullptr) {
            if (required) {
                throw Error::format("{}: missing (an integer is required)", place(field));
            }
            return 0;
        }
        if (!value->is_number_integer()) {
            throw fail(field, "an integer", *value);
        }
        const auto number = value->get<std::int64_t>();
        if (number < std::numeric_limits<int>::min() || number > std::numeric_limits<int>::max()) {
            throw Error::format("{}: {} is out of range", place(field), number);
        }
        return static_cast<int>(number);
    }

    std::optional<int> optional_integer(std::string_view field) const {
        return find(field) == nullptr ? std::nullopt : std::optional<int>(integer(field));
    }

    bool boolean(std::string_view field, bool fallback) const {
        const Json* value = find(field);
        if (value == nullptr) {
            return fallback;
        }
        if (!value->is_boolean()) {
            throw fail(field, "true or false", *value);
        }
        return value->get<bool>();
    }

    // Each element of a list field as an object, with its place ("apps[2].probes[0]").
    template <typename Read>
    void each(std::string_view field, bool required, Read read) const {
        const Json* value = find(field);
        if (value == nullptr) {
            if (required) {
                throw Error::format("{}: missing (a list is required)", place(field));
            }
            return;
        }
        if (!value->is_array()) {
            throw fail(field, "a list", *value);
        }
        for (std::size_t i = 0; i < value->size(); ++i) {
            read(Fields((*value)[i], fmt::format("{}[{}]", place(field), i)));
        }
    }

  private:
    Error fail(std::string_view field, std::string_view expected, const Json& found) const {
        std::string at = field.empty() ? where_ : place(field);
        if (at.ends_with(": ")) {
            at.resize(at.size() - 2);
        }
        return Error::format("{}: expected {}, found {}", at, expected, type_name(found));
    }

    const Json& object_;
    std::string where_;
};

std::vector<RainbondEnv> read_envs(const Fields& app, std::string_view field) {
    std::vector<RainbondEnv> envs;
    app.each(field, false, [&](const Fields& env) {
        envs.push_back({env.required_text("attr_name"), env.string("attr_value", true)});
    });
    return envs;
}

RainbondComponent read_component(const Fields& app) {
    RainbondComponent c;
    c.service_key = app.required_text("service_key");
    c.service_share_uuid = app.string("service_share_uuid", false);
    c.service_cname = app.required_text("service_cname");
    c.share_image = app.required_text("share_image");
    c.version = app.string("version", true);
    c.deploy_version = app.string("deploy_version", false);
    c.cmd = app.string("cmd", false);
    c.extend_method = app.string("extend_method", false);
    c.memory = app.integer("memory");
    c.cpu = app.integer("cpu");
    if (c.memory < 0) {
        throw Error::format("{}: {} is not a size in MB", app.place("memory"), c.memory);
    }
    if (c.cpu < 0) {
        throw Error::format("{}: {} is not a CPU share in millicores", app.place("cpu"), c.cpu);
    }
    app.each("port_map_list", false, [&](const Fields& port) {
        RainbondPort p;
        p.container_port = port.integer("container_port", true);
        if (p.container_port < 1 || p.container_port > 65535) {
            throw Error::format("{}: {} is not a port (1..65535)", port.place("container_port"),
                                p.container_port);
        }
        p.protocol = port.string("protocol", false);
        p.is_outer_service = port.boolean("is_outer_service", false);
        p.port_alias = port.string("port_alias", false);
        c.ports.push_back(std::move(p));
    });
    c.envs = read_envs(app, "service_env_map_list");
    c.connect_infos = read_envs(app, "service_connect_info_map_list");
    app.each("service_volume_map_list", false, [&](const Fields& volume) {
        RainbondVolume v;
        v.volume_name = volume.required_text("volume_name");
        v.volume_path = volume.required_text("volume_path");
        v.volume_type = volume.string("volume_type", false);
        v.file_content = volume.string("file_content", false);
        v.mode = volume.optional_integer("mode");
        c.volumes.push_back(std::move(v));
    });
    app.each("mnt_relation_list", false, [&](const Fields& mount) {
        c.shared_volumes.push_back({mount.required_text("mnt_name"), mount.required_text("mnt_dir"),
                                    mount.required_text("service_share_uuid")});
    });
    app.each("dep_service_map_list", false, [&](const Fields& dep) {
        c.dep_service_keys.push_back(dep.required_text("dep_service_key"));
    });
    app.each("probes", false, [&](const Fields& probe) {
        RainbondProbe p;
        p.mode = probe.string("mode", false);
        p.scheme = probe.string("scheme", false);
        p.port = probe.integer("port");
        p.path = probe.string("path", false);
        p.cmd = probe.string("cmd", false);
        p.initial_delay_second = probe.integer("initial_delay_second");
        p.period_second = probe.integer("period_second");
        p.timeout_second = probe.integer("timeout_second");
        p.failure_threshold = probe.integer("failure_threshold");
        p.is_used = probe.boolean("is_used", true);
        c.probes.push_back(std::move(p));
    });
    // Only its type: ferry runs one container per component (docs/SERVICES.md).
    if (const Json* rule = app.find("extend_method_map"); rule != nullptr) {
        Fields(*rule, app.place("extend_method_map"));
    }
    return c;
}

}  // namespace

RainbondMetadata parse_rainbond_metadata(std::string_view text, std::string_view source) {
    if (text.size() > kMaxRainbondMetadataBytes) {
        throw Error::format("{}: larger than {} MiB", source, kMaxRainbondMetadataBytes >> 20);
    }
    Json json;
    try {
        json = Json::parse(text);
    } catch (const Json::exception& e) {
        throw Error::format("{}: not JSON: {}", source, core::json_error_text(e));
    }
    const Fields top(json, fmt::format("{}: ", source));
    RainbondMetadata metadata;
    metadata.group_key = top.required_text("group_key");
    metadata.group_name = top.required_text("group_name");
    metadata.group_version = top.required_text("group_version");
    top.each("apps", true,
             [&](const Fields& app) { metadata.apps.push_back(read_component(app)); });
    if (metadata.apps.empty()) {
        throw Error::format("{}: the app has no components", top.place("apps"));
    }
    top.each("plugins", false, [&](const Fields& plugin) {
        RainbondPlugin p;
        p.plugin_key = plugin.required_text("plugin_key");
        p.plugin_alias = plugin.string("plugin_alias", false);
        p.plugin_name = plugin.string("plugin_name", false);
        p.share_image = plugin.required_text("share_image");
        p.build_version = plugin.string("build_version", false);
        p.desc = plugin.string("desc", false);
        p.category = plugin.string("category", false);
        metadata.plugins.push_back(std::move(p));
    });
    return metadata;
}

}  // namespace ferry::bundle
