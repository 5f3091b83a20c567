#include "formats/compose.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "core/error.hpp"

namespace ferry::formats {

namespace {

// "web-app" → "WEB_APP": a service's part of variable names.
std::string variable_part(std::string_view text) {
    std::string out;
    for (char c : text) {
        out += std::isalnum(static_cast<unsigned char>(c))
                   ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                   : '_';
    }
    return out;
}

std::string port_variable(const ServiceDescription& service, const ServicePort& port) {
    return fmt::format("{}_PORT_{}{}", variable_part(service.name), port.container,
                       port.protocol == "udp" ? "_UDP" : "");
}

std::string secret_variable(const ServiceDescription& service, const ConnectionValue& value) {
    return fmt::format("SECRET_{}_{}", variable_part(service.name), variable_part(value.name));
}

// Compose replaces ${...} in every value: a literal '$' is written "$$".
std::string escape_dollars(std::string_view text) {
    std::string out;
    for (char c : text) {
        out += c;
        if (c == '$') {
            out += '$';
        }
    }
    return out;
}

std::string connection_value(const ServiceDescription& service, const ConnectionValue& value) {
    return value.generate ? fmt::format("${{{}}}", secret_variable(service, value))
                          : escape_dollars(value.value);
}

std::string seconds(std::chrono::seconds value) {
    return fmt::format("{}s", value.count());
}

class Writer {
  public:
    explicit Writer(const ComposeProject& project) : project_(project) {
        for (const auto& service : project.services) {
            by_component_.emplace(service.component, &service);
        }
    }

    std::string write() {
        out_ << YAML::BeginMap;
        out_ << YAML::Key << "services" << YAML::Value << YAML::BeginMap;
        for (const auto& service : project_.services) {
            write_service(service);
        }
        out_ << YAML::EndMap;
        write_volumes();
        out_ << YAML::EndMap;
        if (!out_.good()) {
            throw Error::format("cannot write the Compose file of {}: {}", project_.name,
                                out_.GetLastError());
        }
        return std::string("# Written by ferry; .env holds the ports and secrets.\n") +
               out_.c_str() + "\n";
    }

  private:
    void string(std::string_view text) { out_ << YAML::DoubleQuoted << std::string(text); }

    void key(std::string_view name) { out_ << YAML::Key << std::string(name) << YAML::Value; }

    void string_list(std::string_view name, const std::vector<std::string>& items) {
        key(name);
        out_ << YAML::Flow << YAML::BeginSeq;
        for (const auto& item : items) {
            string(escape_dollars(item));
        }
        out_ << YAML::EndSeq;
    }

    const ComposeService& dependency(const std::string& component) const {
        auto it = by_component_.find(component);
        if (it == by_component_.end()) {
            throw Error::format(ErrorKind::invalid_input,
                                "the Compose project {} has no service component {}", project_.name,
                                component);
        }
        return *it->second;
    }

    void write_service(const ComposeService& compose) {
        const ServiceDescription& s = compose.description;
        key(s.name);
        out_ << YAML::BeginMap;
        key("image");
        string(compose.image);
        if (!s.entrypoint.empty()) {
            string_list("entrypoint", s.entrypoint);
        }
        if (!s.command.empty()) {
            string_list("command", s.command);
        }
        write_ports(s);
        write_environment(s);
        write_service_volumes(s);
        write_depends(s);
        write_health(s);
        if (s.memory > 0) {
            key("mem_limit");
            out_ << s.memory;
        }
        if (s.cpus > 0) {
            key("cpus");
            out_ << s.cpus;
        }
        key("restart");
        string(s.restart);
        out_ << YAML::EndMap;
    }

    void write_ports(const ServiceDescription& s) {
        std::vector<std::string> published;
        std::vector<std::string> internal;
        for (const auto& port : s.ports) {
            const std::string container = fmt::format("{}/{}", port.container, port.protocol);
            if (port.publish) {
                // "${PORT-default}": a port left empty in .env lets Docker choose one.
                published.push_back(fmt::format("${{{}:-{}}}:${{{}-{}}}:{}", kBindVariable,
                                                kDefaultBindAddress, port_variable(s, port),
                                                port.host != 0 ? port.host : port.container,
                                                container));
            } else {
                internal.push_back(container);
            }
        }
        if (!published.empty()) {
            key("ports");
            out_ << YAML::BeginSeq;
            for (const auto& p : published) {
                out_ << YAML::DoubleQuoted << p;
            }
            out_ << YAML::EndSeq;
        }
        if (!internal.empty()) {
            key("expose");
            out_ << YAML::BeginSeq;
            for (const auto& p : internal) {
                string(p);
            }
            out_ << YAML::EndSeq;
        }
    }

    // What a service sees: its dependencies' host, first port and connection values, then its
    // own connection values, then its own environment (which wins a name they share).
    void write_environment(const ServiceDescription& s) {
        std::map<std::string, std::string> environment;
        for (const auto& component : s.depends) {
            const ServiceDescription& d = dependency(component).description;
            const std::string prefix = variable_part(d.name);
            environment[prefix + "_HOST"] = d.name;
            if (!d.ports.empty()) {
                environment[prefix + "_PORT"] = std::to_string(d.ports.front().container);
            }
            for (const auto& value : d.connection) {
                environment[value.name] = connection_value(d, value);
            }
        }
        for (const auto& value : s.connection) {
            environment[value.name] = connection_value(s, value);
        }
        for (const auto& [name, value] : s.environment) {
            environment[name] = escape_dollars(value);
        }
        if (environment.empty()) {
            return;
        }
        key("environment");
        out_ << YAML::BeginMap;
        for (const auto& [name, value] : environment) {
            key(name);
            string(value);
        }
        out_ << YAML::EndMap;
    }

    void write_service_volumes(const ServiceDescription& s) {
        if (s.volumes.empty()) {
            return;
        }
        key("volumes");
        out_ << YAML::BeginSeq;
        for (const auto& volume : s.volumes) {
            std::string source;
            switch (volume.kind) {
                case ServiceVolume::Kind::data:
                    source = s.name + "-" + volume.name;
                    volumes_.push_back(source);
                    break;
                case ServiceVolume::Kind::config:
                    source = "./" + config_file_path(s.name, volume);
                    break;
                case ServiceVolume::Kind::shared:
                    source = dependency(volume.from).description.name + "-" + volume.volume;
                    break;
            }
            const bool read_only = volume.read_only || volume.kind == ServiceVolume::Kind::config;
            string(fmt::format("{}:{}{}", source, volume.path, read_only ? ":ro" : ""));
        }
        out_ << YAML::EndSeq;
    }

    void write_depends(const ServiceDescription& s) {
        if (s.depends.empty()) {
            return;
        }
        key("depends_on");
        out_ << YAML::BeginMap;
        for (const auto& component : s.depends) {
            const ServiceDescription& d = dependency(component).description;
            key(d.name);
            out_ << YAML::BeginMap;
            key("condition");
            string(d.health ? "service_healthy" : "service_started");
            out_ << YAML::EndMap;
        }
        out_ << YAML::EndMap;
    }

    void write_health(const ServiceDescription& s) {
        if (!s.health) {
            return;
        }
        const HealthProbe& h = *s.health;
        key("healthcheck");
        out_ << YAML::BeginMap;
        key("test");
        out_ << YAML::Flow << YAML::BeginSeq;
        switch (h.kind) {
            case HealthProbe::Kind::http:
                string("CMD-SHELL");
                string(fmt::format("wget -q -O /dev/null http://127.0.0.1:{}{} || exit 1", h.port,
                                   escape_dollars(h.path)));
                break;
            case HealthProbe::Kind::tcp:
                string("CMD-SHELL");
                // busybox's nc has no -z; with nothing to send it connects and ends.
                string(fmt::format(
                    "nc -z 127.0.0.1 {0} 2>/dev/null || nc -w 2 127.0.0.1 {0} </dev/null || exit 1",
                    h.port));
                break;
            case HealthProbe::Kind::command:
                string("CMD");
                for (const auto& argument : h.command) {
                    string(escape_dollars(argument));
                }
                break;
        }
        out_ << YAML::EndSeq;
        key("interval");
        string(seconds(h.interval));
        key("timeout");
        string(seconds(h.timeout));
        key("retries");
        out_ << h.retries;
        key("start_period");
        string(seconds(h.start_period));
        out_ << YAML::EndMap;
    }

    void write_volumes() {
        if (volumes_.empty()) {
            return;
        }
        std::sort(volumes_.begin(), volumes_.end());
        volumes_.erase(std::unique(volumes_.begin(), volumes_.end()), volumes_.end());
        key("volumes");
        out_ << YAML::BeginMap;
        for (const auto& volume : volumes_) {
            key(volume);
            out_ << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        }
        out_ << YAML::EndMap;
    }

    const ComposeProject& project_;
    std::map<std::string, const ComposeService*> by_component_;
    std::vector<std::string> volumes_;
    YAML::Emitter out_;
};

}  // namespace

std::string write_compose(const ComposeProject& project) {
    return Writer(project).write();
}

std::vector<ComposeVariable> compose_variables(const ComposeProject& project) {
    std::vector<ComposeVariable> variables;
    variables.push_back({"COMPOSE_PROJECT_NAME", project.name, false,
                         "The Compose project: containers and volumes are named after it"});
    variables.push_back({std::string(kBindVariable), std::string(kDefaultBindAddress), false,
                         "The host address published ports listen on (127.0.0.1: this host only)"});
    for (const auto& service : project.services) {
        const ServiceDescription& s = service.description;
        for (const auto& port : s.ports) {
            if (port.publish) {
                variables.push_back(
                    {port_variable(s, port),
                     std::to_string(port.host != 0 ? port.host : port.container), false,
                     fmt::format("The host port of {}'s {}/{}{} (empty: Docker chooses one)",
                                 s.name, port.container, port.protocol,
                                 port.name.empty() ? "" : " (" + port.name + ")")});
            }
        }
        for (const auto& value : s.connection) {
            if (value.generate) {
                variables.push_back(
                    {secret_variable(s, value), "", true,
                     fmt::format("{} of {}, generated once; keep it", value.name, s.name)});
            }
        }
    }
    return variables;
}

std::string config_file_path(const std::string& service, const ServiceVolume& volume) {
    return "service-config/" + service + volume.path;
}

std::string image_tag(std::string_view component, std::string_view version) {
    std::string tag;
    for (char c : component) {
        const bool allowed =
            std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
        tag += allowed ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : '_';
    }
    tag += ':';
    for (char c : version) {
        const bool allowed =
            std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
        tag += allowed ? c : '_';
    }
    return tag;
}

std::string write_env_file(const std::vector<ComposeVariable>& variables,
                           const std::map<std::string, std::string>& values, bool make_secrets) {
    std::string text =
        "# The settings of this Compose project. Change a port here; keep the secrets: the\n"
        "# services' data was set up with them.\n";
    for (const auto& variable : variables) {
        auto kept = values.find(variable.name);
        std::string value = kept != values.end() ? kept->second
                            : !variable.secret   ? variable.value
                            : make_secrets       ? random_secret()
                                                 : std::string();
        text += fmt::format("# {}\n{}={}\n", variable.comment, variable.name, value);
    }
    return text;
}

std::map<std::string, std::string> parse_env_file(std::string_view text) {
    std::map<std::string, std::string> values;
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) {
            line.remove_prefix(1);
        }
        const auto equals = line.find('=');
        if (line.empty() || line.front() == '#' || equals == std::string_view::npos) {
            continue;
        }
        values[std::string(line.substr(0, equals))] = std::string(line.substr(equals + 1));
    }
    return values;
}

std::string random_secret() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw Error("cannot make a secret: the system's random source failed");
    }
    std::string hex;
    for (unsigned char b : bytes) {
        hex += fmt::format("{:02x}", b);
    }
    return hex;
}

}  // namespace ferry::formats
