// Reads a service description (meta/service.yaml, or service.json): the schema of
// docs/SERVICES.md over the strict YAML access of yaml_fields.hpp, so that every field is known,
// every value of its type and in range, and each error names the file, the line and the field.
#include "formats/service.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "core/error.hpp"
#include "core/files.hpp"
#include "formats/names.hpp"
#include "formats/service_values.hpp"
#include "formats/yaml_fields.hpp"

namespace ferry::formats {

namespace {

namespace sv = service_values;

// A description is a page of YAML; anything near this size is not one.
constexpr std::size_t kMaxDescriptionBytes = 1u << 20;

const FieldNames kTopFields = {"name",        "image",      "entrypoint", "command", "ports",
                                   "environment", "connection", "volumes",    "depends", "health",
                                   "memory",      "cpus",       "restart"};
const FieldNames kPortFields = {"container", "protocol", "publish", "host", "name"};
const FieldNames kVolumeFields = {"name", "path",   "config",   "mode",
                                      "from", "volume", "read_only"};
const FieldNames kHealthFields = {"http",    "tcp",          "command", "interval",
                                      "timeout", "start_period", "retries"};
const FieldNames kRestartPolicies = {"no", "always", "on-failure", "unless-stopped"};
const FieldNames kHttpProbeFields = {"port", "path"};
const FieldNames kTcpProbeFields = {"port"};

class ServiceReader : private YamlFields {
  public:
    ServiceReader(std::string_view source, std::string_view component)
        : YamlFields(source), component_(component) {}

    using YamlFields::load;
    using YamlFields::yaml_error;

    ServiceDescription read(const YAML::Node& root) {
        if (!root.IsMap()) {
            fail(root, "",
                 fmt::format("the description is {}, expected a mapping of fields ({})",
                             kind_of(root), listed(kTopFields)));
        }
        fields(root, "", kTopFields,
               [&](std::string_view field, const YAML::Node& value, const std::string& path) {
                   top_field(field, value, path);
               },
               {"health"});          // null: no probe, as the canonical JSON writes it
        ServiceDescription& d = d_;  // complete once every field is read
        if (!has_image_) {
            fail(root, "image",
                 "is missing (the image's reference inside the component's image archive, "
                 "e.g. example/web:1.0)");
        }
        if (!named_) {
            d.name = sv::default_service_name(component_);
            if (auto problem = sv::service_name_problem(d.name)) {
                fail(root, "name",
                     fmt::format("the default {} (made of the component's name) {}; give a name",
                                 shown(d.name), *problem));
            }
        }
        for (const auto& [name, key] : connection_keys_) {
            if (d.environment.contains(name)) {
                fail(key, field_path("connection", name),
                     "is also in environment (a connection value is set in the service's own "
                     "environment already)");
            }
        }
        std::sort(
            d.connection.begin(), d.connection.end(),
            [](const ConnectionValue& a, const ConnectionValue& b) { return a.name < b.name; });
        return std::move(d_);
    }

  private:
    void top_field(std::string_view field, const YAML::Node& value, const std::string& path) {
        if (field == "name") {
            d_.name = checked(value, path, sv::service_name_problem);
            named_ = true;
        } else if (field == "image") {
            d_.image = checked(value, path, sv::image_reference_problem);
            has_image_ = true;
        } else if (field == "entrypoint") {
            d_.entrypoint = strings(value, path);
        } else if (field == "command") {
            d_.command = strings(value, path);
        } else if (field == "ports") {
            d_.ports = ports(value, path);
        } else if (field == "environment") {
            entries(
                value, path, sv::environment_name_problem,
                [&](const std::string& name, const YAML::Node& v, const std::string& entry_path) {
                    d_.environment[name] = text(v, entry_path);
                });
        } else if (field == "connection") {
            entries(
                value, path, sv::environment_name_problem,
                [&](const std::string& name, const YAML::Node& v, const std::string& entry_path) {
                    d_.connection.push_back(connection_value(name, v, entry_path));
                });
            for (const auto& entry : value) {
                connection_keys_.emplace(entry.first.Scalar(), entry.first);
            }
        } else if (field == "volumes") {
            d_.volumes = volumes(value, path);
        } else if (field == "depends") {
            d_.depends = depends(value, path, component_);
        } else if (field == "health") {
            if (!value.IsNull()) {  // null: no probe, as the canonical JSON writes it
                d_.health = health(value, path);
            }
        } else if (field == "memory") {
            d_.memory = parsed(value, path, sv::parse_memory,
                               "is not a size (bytes, or a whole number with a unit: 512M, 1G)");
        } else if (field == "cpus") {
            d_.cpus = parsed(value, path, sv::parse_cpus, "is not a number of CPUs (0.5, 2)");
        } else if (field == "restart") {
            d_.restart = text(value, path);
            if (!contains(kRestartPolicies, d_.restart)) {
                fail(value, path,
                     fmt::format("{} is not a restart policy ({})", shown(d_.restart),
                                 listed(kRestartPolicies)));
            }
        }
    }

    std::uint16_t port_number(const YAML::Node& node, std::string_view path) const {
        const std::string value = text(node, path);
        auto port = sv::parse_port(value);
        if (!port) {
            fail(node, path, fmt::format("{} is not a port (1..65535)", shown(value)));
        }
        return *port;
    }

    ConnectionValue connection_value(const std::string& name, const YAML::Node& node,
                                     const std::string& path) const {
        ConnectionValue value{name, {}, false};
        if (node.IsScalar()) {
            value.value = text(node, path);
            return value;
        }
        if (!node.IsMap() || node.size() == 0) {
            fail(node, path,
                 fmt::format("is {}, expected a string or {{generate: true}}", kind_of(node)));
        }
        fields(node, path, {"generate"},
               [&](std::string_view, const YAML::Node& flag, const std::string& flag_path) {
                   if (!boolean(flag, flag_path)) {
                       fail(flag, flag_path,
                            "is false; give the value as a string, or {generate: true} for a "
                            "secret");
                   }
               });
        value.generate = true;
        return value;
    }

    std::vector<ServicePort> ports(const YAML::Node& node, std::string_view path) const {
        expect_list(node, path);
        std::vector<ServicePort> result;
        std::map<std::pair<std::uint16_t, std::string>, std::size_t> container_ports;
        std::map<std::pair<std::uint16_t, std::string>, std::size_t> host_ports;
        for (std::size_t i = 0; i < node.size(); ++i) {
            const YAML::Node item = node[i];
            const std::string item_at = item_path(path, i);
            ServicePort port;
            bool has_container = false;
            bool has_host = false;
            fields(item, item_at, kPortFields,
                   [&](std::string_view field, const YAML::Node& value, const std::string& at) {
                       if (field == "container") {
                           port.container = port_number(value, at);
                           has_container = true;
                       } else if (field == "host") {
                           port.host = port_number(value, at);
                           has_host = true;
                       } else if (field == "publish") {
                           port.publish = boolean(value, at);
                       } else if (field == "protocol") {
                           port.protocol = text(value, at);
                           if (port.protocol != "tcp" && port.protocol != "udp") {
                               fail(value, at,
                                    fmt::format("{} is not a protocol (tcp, udp)",
                                                shown(port.protocol)));
                           }
                       } else if (field == "name") {
                           port.name = checked(value, at, sv::port_name_problem);
                       }
                   });
            if (!has_container) {
                fail(item, field_path(item_at, "container"), "is missing (the container's port)");
            }
            if (!has_host) {
                port.host = port.container;
            }
            const auto [earlier, fresh] =
                container_ports.emplace(std::pair(port.container, port.protocol), i);
            if (!fresh) {
                fail(item, item_at,
                     fmt::format("{}/{} is listed twice (also {})", port.container, port.protocol,
                                 item_path(path, earlier->second)));
            }
            if (port.publish) {
                const auto [other, free] =
                    host_ports.emplace(std::pair(port.host, port.protocol), i);
                if (!free) {
                    fail(item, field_path(item_at, "host"),
                         fmt::format("host port {}/{} is published by {} already", port.host,
                                     port.protocol, item_path(path, other->second)));
                }
            }
            result.push_back(std::move(port));
        }
        return result;
    }

    ServiceVolume volume(const YAML::Node& item, const std::string& item_at) const {
        ServiceVolume v;
        std::set<std::string> given;
        YAML::Node mode_node;
        fields(item, item_at, kVolumeFields,
               [&](std::string_view field, const YAML::Node& value, const std::string& at) {
                   given.emplace(field);
                   if (field == "path") {
                       v.path = checked(value, at, sv::container_path_problem);
                   } else if (field == "name") {
                       v.name = checked(value, at, sv::volume_name_problem);
                   } else if (field == "config") {
                       v.content = text(value, at);
                   } else if (field == "mode") {
                       const std::string mode = text(value, at);
                       auto parsed_mode = sv::parse_mode(mode);
                       if (!parsed_mode) {
                           fail(value, at,
                                fmt::format("{} is not a file mode in octal like \"0644\"",
                                            shown(mode)));
                       }
                       v.mode = *parsed_mode;
                       mode_node = value;
                   } else if (field == "from") {
                       v.from = text(value, at);
                       if (auto problem = name_problem(NameKind::component, v.from)) {
                           fail(value, at, fmt::format("{} {}", shown(v.from), *problem));
                       }
                   } else if (field == "volume") {
                       v.volume = checked(value, at, sv::volume_name_problem);
                   } else if (field == "read_only") {
                       v.read_only = boolean(value, at);
                   }
               });
        const bool data = given.contains("name");
        const bool config = given.contains("config") || given.contains("mode");
        const bool shared = given.contains("from") || given.contains("volume");
        if (static_cast<int>(data) + static_cast<int>(config) + static_cast<int>(shared) != 1) {
            fail(item, item_at,
                 fmt::format("{} (a volume is one of: a data volume with name, a config file with "
                             "config (and mode), a volume of another component with from and "
                             "volume)",
                             data || config || shared ? "mixes kinds" : "is of no kind"));
        }
        if (!given.contains("path")) {
            fail(item, field_path(item_at, "path"), "is missing (the path inside the container)");
        }
        if (config) {
            v.kind = ServiceVolume::Kind::config;
            if (!given.contains("config")) {
                fail(mode_node, field_path(item_at, "config"),
                     "is missing (the config file's content; mode alone is no volume)");
            }
        } else if (shared) {
            v.kind = ServiceVolume::Kind::shared;
            for (std::string_view needed : {"from", "volume"}) {
                if (!given.contains(std::string(needed))) {
                    fail(item, field_path(item_at, needed),
                         "is missing (a shared volume names the component (from) and its data "
                         "volume (volume))");
                }
            }
        }
        return v;
    }

    std::vector<ServiceVolume> volumes(const YAML::Node& node, std::string_view path) const {
        expect_list(node, path);
        std::vector<ServiceVolume> result;
        std::map<std::string, std::size_t> paths;
        std::map<std::string, std::size_t> names;
        for (std::size_t i = 0; i < node.size(); ++i) {
            const YAML::Node item = node[i];
            const std::string item_at = item_path(path, i);
            ServiceVolume v = volume(item, item_at);
            if (const auto [earlier, fresh] = paths.emplace(v.path, i); !fresh) {
                fail(item, field_path(item_at, "path"),
                     fmt::format("{} is mounted by {} already", shown(v.path),
                                 item_path(path, earlier->second)));
            }
            if (v.kind == ServiceVolume::Kind::data) {
                if (const auto [earlier, fresh] = names.emplace(v.name, i); !fresh) {
                    fail(item, field_path(item_at, "name"),
                         fmt::format("{} is the name of {} already", shown(v.name),
                                     item_path(path, earlier->second)));
                }
            }
            result.push_back(std::move(v));
        }
        return result;
    }

    std::vector<std::string> depends(const YAML::Node& node, std::string_view path,
                                     std::string_view component) const {
        std::vector<std::string> names = strings(node, path);
        std::set<std::string_view> seen;
        for (std::size_t i = 0; i < names.size(); ++i) {
            const std::string& name = names[i];
            if (auto problem = name_problem(NameKind::component, name)) {
                fail(node[i], item_path(path, i), fmt::format("{} {}", shown(name), *problem));
            }
            if (name == component) {
                fail(node[i], item_path(path, i),
                     fmt::format("{} is this component itself", shown(name)));
            }
            if (!seen.insert(name).second) {
                fail(node[i], item_path(path, i), fmt::format("{} is listed twice", shown(name)));
            }
        }
        return names;
    }

    std::chrono::seconds duration(const YAML::Node& node, std::string_view path,
                                  bool zero_allowed) const {
        const auto value =
            parsed(node, path, sv::parse_duration, "is not a duration (10s, 1m, 1m30s, 1h)");
        if (value.count() == 0 && !zero_allowed) {
            fail(node, path, fmt::format("{} is not longer than nothing", shown(node.Scalar())));
        }
        return value;
    }

    // An http or tcp probe: {port, path} or {port}.
    void network_probe(std::string_view kind, const YAML::Node& node, const std::string& path,
                       HealthProbe& probe) const {
        probe.kind = kind == "http" ? HealthProbe::Kind::http : HealthProbe::Kind::tcp;
        bool has_port = false;
        fields(node, path, kind == "http" ? kHttpProbeFields : kTcpProbeFields,
               [&](std::string_view name, const YAML::Node& value, const std::string& at) {
                   if (name == "port") {
                       probe.port = port_number(value, at);
                       has_port = true;
                       return;
                   }
                   probe.path = text(value, at);
                   const bool blank = std::any_of(probe.path.begin(), probe.path.end(), [](char c) {
                       return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
                   });
                   if (!probe.path.starts_with('/') || blank) {
                       fail(value, at,
                            fmt::format("{} is not a URL path (starting with '/', no spaces)",
                                        shown(probe.path)));
                   }
               });
        if (!has_port) {
            fail(node, field_path(path, "port"), "is missing (the port to probe)");
        }
    }

    HealthProbe health(const YAML::Node& node, std::string_view path) const {
        HealthProbe probe;
        std::vector<std::string> kinds;
        fields(
            node, path, kHealthFields,
            [&](std::string_view field, const YAML::Node& value, const std::string& at) {
                if (field == "http" || field == "tcp") {
                    kinds.emplace_back(field);
                    network_probe(field, value, at, probe);
                } else if (field == "command") {
                    kinds.emplace_back(field);
                    probe.kind = HealthProbe::Kind::command;
                    probe.command = strings(value, at);
                    if (probe.command.empty()) {
                        fail(value, at, "is empty (the program and its arguments)");
                    }
                } else if (field == "interval") {
                    probe.interval = duration(value, at, false);
                } else if (field == "timeout") {
                    probe.timeout = duration(value, at, false);
                } else if (field == "start_period") {
                    probe.start_period = duration(value, at, true);
                } else if (field == "retries") {
                    const std::string retries = text(value, at);
                    auto count = sv::parse_count(retries, 100);
                    if (!count || *count == 0) {
                        fail(value, at,
                             fmt::format("{} is not a number of retries (1..100)", shown(retries)));
                    }
                    probe.retries = *count;
                }
            });
        if (kinds.size() != 1) {
            fail(node, path,
                 kinds.empty() ? std::string("names no probe (give one of http, tcp, command)")
                               : fmt::format("names more than one probe ({}); give one",
                                             fmt::join(kinds, ", ")));
        }
        return probe;
    }

    std::string_view component_;
    ServiceDescription d_;
    bool named_ = false;
    bool has_image_ = false;
    std::map<std::string, YAML::Node> connection_keys_;  // for the line of an error
};

}  // namespace

ServiceDescription parse_service(std::string_view text, std::string_view source,
                                 std::string_view component) {
    if (text.size() > kMaxDescriptionBytes) {
        throw Error::format("{}: {} bytes, more than the {} a service description may have", source,
                            text.size(), kMaxDescriptionBytes);
    }
    ServiceReader reader(source, component);
    try {
        return reader.read(reader.load(text));
    } catch (const YAML::Exception& e) {
        throw reader.yaml_error(e);
    }
}

std::optional<ServiceDescription> read_service(const std::filesystem::path& meta_dir,
                                               std::string_view component) {
    const std::filesystem::path yaml = meta_dir / kServiceYaml;
    const std::filesystem::path json = meta_dir / kServiceJson;
    auto yaml_text = core::read_file_if_exists(yaml, kMaxDescriptionBytes);
    auto json_text = core::read_file_if_exists(json, kMaxDescriptionBytes);
    if (yaml_text && json_text) {
        throw Error::format("{}: both {} and {} are here; keep one", meta_dir.string(),
                            kServiceYaml, kServiceJson);
    }
    if (yaml_text) {
        return parse_service(*yaml_text, yaml.string(), component);
    }
    if (json_text) {
        return parse_service(*json_text, json.string(), component);
    }
    return std::nullopt;
}

}  // namespace ferry::formats
