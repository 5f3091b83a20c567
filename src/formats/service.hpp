// A service component's description: meta/service.yaml (or service.json) beside package.xml.
// It says how the component's image runs as a container: command, ports, environment, the
// connection information it offers to the components that depend on it, volumes, dependencies,
// a health probe, limits and a restart policy. docs/SERVICES.md is the schema.
//
// Reading is strict: an unknown field, a value of the wrong type or out of range is an error
// that names the file, the line and the field ("meta/service.yaml:7: ports[1].container: 70000
// is not a port (1..65535)").
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::formats {

// The name of the description in a component's meta/ (and in the repository, see
// service_file_name): service.yaml or service.json; a directory with both is refused.
inline constexpr std::string_view kServiceYaml = "service.yaml";
inline constexpr std::string_view kServiceJson = "service.json";

struct ServicePort {
    std::uint16_t container = 0;
    std::string protocol = "tcp";  // tcp | udp
    bool publish = false;          // reachable from the host; else only inside the app
    std::uint16_t host = 0;        // the default host port when published; 0 = the container port
    std::string name;              // optional, for people ("http")
    bool operator==(const ServicePort&) const = default;
};

// One value offered to dependants (and set in the service's own environment). generate: a
// random secret made once at install and kept across updates (Rainbond's "**None**").
struct ConnectionValue {
    std::string name;   // an environment variable name
    std::string value;  // empty when generated
    bool generate = false;
    bool operator==(const ConnectionValue&) const = default;
};

struct ServiceVolume {
    enum class Kind { data, config, shared };
    Kind kind = Kind::data;
    std::string path;       // absolute path inside the container
    std::string name;       // data: the volume's name (unique within the service)
    std::string content;    // config: the file's content
    std::uint32_t mode = 0644;  // config: the file's permissions
    std::string from;       // shared: the component whose data volume this is
    std::string volume;     // shared: that component's volume name
    bool read_only = false;
    bool operator==(const ServiceVolume&) const = default;
};

struct HealthProbe {
    enum class Kind { http, tcp, command };
    Kind kind = Kind::http;
    std::uint16_t port = 0;            // http, tcp
    std::string path = "/";            // http
    std::vector<std::string> command;  // command (exec form)
    std::chrono::seconds interval{10};
    std::chrono::seconds timeout{5};
    std::chrono::seconds start_period{0};
    unsigned retries = 3;
    bool operator==(const HealthProbe&) const = default;
};

struct ServiceDescription {
    // The compose service name and host name inside the app; default: the component's name
    // with '.' replaced by '-'. Lowercase letters, digits and '-'.
    std::string name;
    // The image reference inside the component's image archive ("example/web:1.0").
    std::string image;
    std::vector<std::string> entrypoint;  // empty: the image's own
    std::vector<std::string> command;     // empty: the image's own
    std::vector<ServicePort> ports;
    std::map<std::string, std::string> environment;
    std::vector<ConnectionValue> connection;
    std::vector<ServiceVolume> volumes;
    std::vector<std::string> depends;  // component names of the same app
    std::optional<HealthProbe> health;
    std::uint64_t memory = 0;  // bytes; 0 = no limit
    double cpus = 0;           // 0 = no limit
    std::string restart = "unless-stopped";  // no | always | on-failure | unless-stopped

    bool operator==(const ServiceDescription&) const = default;
};

// Parses a description (YAML, of which JSON is a part). source names it in errors. component
// is the component's name, for the default service name.
ServiceDescription parse_service(std::string_view text, std::string_view source,
                                 std::string_view component);
// Reads meta/service.yaml or meta/service.json from a component's meta directory; nullopt when
// neither exists (a file component).
std::optional<ServiceDescription> read_service(const std::filesystem::path& meta_dir,
                                               std::string_view component);

// The canonical JSON form (sorted keys, every default written out): what a repository carries
// and what decides whether a description changed. parse_service(to_json(d)) == d.
std::string to_json(const ServiceDescription& description);

// Checks the services of one app together: every dependency and every shared volume names a
// service component of the app (and a data volume it has), service names are unique, and the
// dependencies have no cycle (the error lists it: "a -> b -> a"). Throws ferry::Error (invalid
// input) naming the component and the field.
void check_app_services(const std::map<std::string, ServiceDescription>& by_component);

// The components in an order that starts every service after the ones it depends on.
std::vector<std::string> start_order(const std::map<std::string, ServiceDescription>& by_component);

}  // namespace ferry::formats
