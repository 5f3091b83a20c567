// Rainbond's app model as its exports carry it: the metadata.json of a `rainbond-app` package
// (rainbond-oam's RainbondApplicationConfig, v1alpha1). Only the fields ferry maps are read
// (docs/SERVICES.md, "Rainbond packages"); the others are ignored, but every field read must have
// its type, and a missing required one is an error naming its place:
// "metadata.json: apps[2].port_map_list[0].container_port: expected an integer, found a string".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::bundle {

struct RainbondPort {
    int container_port = 0;
    std::string protocol;  // http, tcp, udp, mysql, grpc, ...
    bool is_outer_service = false;
    std::string port_alias;
};

// An environment variable, or a piece of connection information (attr_value "**None**": a
// value Rainbond generates at install).
struct RainbondEnv {
    std::string attr_name;
    std::string attr_value;
};

struct RainbondVolume {
    std::string volume_name;
    std::string volume_path;
    std::string volume_type;   // share-file, local, memoryfs, config-file, ...
    std::string file_content;  // config-file
    std::optional<int> mode;   // config-file permissions
};

// A volume of another component mounted here (mnt_relation_list).
struct RainbondSharedVolume {
    std::string mnt_name;
    std::string mnt_dir;
    std::string service_share_uuid;
};

struct RainbondProbe {
    std::string mode;    // readiness, liveness, ignore
    std::string scheme;  // http, tcp, cmd
    int port = 0;
    std::string path;
    std::string cmd;
    int initial_delay_second = 0;
    int period_second = 0;
    int timeout_second = 0;
    int failure_threshold = 0;
    bool is_used = true;
};

struct RainbondComponent {
    std::string service_key;
    std::string service_share_uuid;
    std::string service_cname;
    std::string share_image;
    std::string version;
    std::string deploy_version;
    std::string cmd;
    std::string extend_method;
    std::vector<RainbondPort> ports;
    std::vector<RainbondEnv> envs;
    std::vector<RainbondEnv> connect_infos;
    std::vector<RainbondVolume> volumes;
    std::vector<RainbondSharedVolume> shared_volumes;
    std::vector<std::string> dep_service_keys;
    std::vector<RainbondProbe> probes;
    int memory = 0;  // MB
    int cpu = 0;     // millicores
};

struct RainbondPlugin {
    std::string plugin_key;
    std::string plugin_alias;
    std::string plugin_name;
    std::string share_image;
    std::string build_version;
    std::string desc;
    std::string category;
};

struct RainbondMetadata {
    std::string group_key;
    std::string group_name;
    std::string group_version;
    std::vector<RainbondComponent> apps;
    std::vector<RainbondPlugin> plugins;
};

// The largest metadata.json read (config files are inside it).
inline constexpr std::size_t kMaxRainbondMetadataBytes = 16u << 20;

// Parses metadata.json strictly; source names it in errors ("pkg.tar.gz: metadata.json").
// Throws ferry::Error (invalid input).
RainbondMetadata parse_rainbond_metadata(std::string_view text, std::string_view source);

}  // namespace ferry::bundle
