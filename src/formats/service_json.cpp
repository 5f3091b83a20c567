// The canonical JSON form of a service description: every field written, defaults included, keys
// sorted (nlohmann::json's objects are), so that equal descriptions are equal bytes. It is read
// back by parse_service like any description; parse_service(to_json(d)) == d.
#include <nlohmann/json.hpp>

#include "formats/service.hpp"
#include "formats/service_values.hpp"

namespace ferry::formats {

namespace {

nlohmann::json volume_json(const ServiceVolume& v) {
    nlohmann::json j = {{"path", v.path}, {"read_only", v.read_only}};
    switch (v.kind) {
        case ServiceVolume::Kind::data:
            j["name"] = v.name;
            break;
        case ServiceVolume::Kind::config:
            j["config"] = v.content;
            j["mode"] = service_values::format_mode(v.mode);
            break;
        case ServiceVolume::Kind::shared:
            j["from"] = v.from;
            j["volume"] = v.volume;
            break;
    }
    return j;
}

nlohmann::json health_json(const HealthProbe& probe) {
    nlohmann::json j = {{"interval", service_values::format_duration(probe.interval)},
                        {"timeout", service_values::format_duration(probe.timeout)},
                        {"start_period", service_values::format_duration(probe.start_period)},
                        {"retries", probe.retries}};
    switch (probe.kind) {
        case HealthProbe::Kind::http:
            j["http"] = {{"port", probe.port}, {"path", probe.path}};
            break;
        case HealthProbe::Kind::tcp:
            j["tcp"] = {{"port", probe.port}};
            break;
        case HealthProbe::Kind::command:
            j["command"] = probe.command;
            break;
    }
    return j;
}

}  // namespace

std::string to_json(const ServiceDescription& d) {
    nlohmann::json ports = nlohmann::json::array();
    for (const ServicePort& p : d.ports) {
        ports.push_back({{"container", p.container},
                         {"protocol", p.protocol},
                         {"publish", p.publish},
                         {"host", p.host == 0 ? p.container : p.host},
                         {"name", p.name}});
    }
    nlohmann::json connection = nlohmann::json::object();
    for (const ConnectionValue& c : d.connection) {
        connection[c.name] =
            c.generate ? nlohmann::json{{"generate", true}} : nlohmann::json(c.value);
    }
    nlohmann::json volumes = nlohmann::json::array();
    for (const ServiceVolume& v : d.volumes) {
        volumes.push_back(volume_json(v));
    }
    const nlohmann::json j = {
        {"name", d.name},
        {"image", d.image},
        {"entrypoint", d.entrypoint},
        {"command", d.command},
        {"ports", ports},
        {"environment", d.environment},
        {"connection", connection},
        {"volumes", volumes},
        {"depends", d.depends},
        {"health", d.health ? health_json(*d.health) : nlohmann::json(nullptr)},
        {"memory", d.memory},
        {"cpus", d.cpus},
        {"restart", d.restart},
    };
    return j.dump(2) + "\n";
}

}  // namespace ferry::formats
