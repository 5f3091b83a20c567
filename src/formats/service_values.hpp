// The rules for the values of a service description (meta/service.yaml), each a pure function of
// the text: parse_service applies them where each field is read and adds the file, line and field.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::formats::service_values {

// Each *_problem function returns nullopt when the text is valid, else why not, as a phrase
// that follows the quoted text: `"Web" contains 'W' (...)`.

// The service's name: a DNS label (Compose service and host name inside the app).
std::optional<std::string> service_name_problem(std::string_view text);
// A data volume's name (a Compose volume's name, prefixed with the project's).
std::optional<std::string> volume_name_problem(std::string_view text);
// A port's name, for people ("http"); empty means none.
std::optional<std::string> port_name_problem(std::string_view text);
// An environment variable's name: [A-Za-z_][A-Za-z0-9_]*.
std::optional<std::string> environment_name_problem(std::string_view text);
// A path inside the container: absolute and clean ("/var/lib/db", not "/var//lib/../db/").
std::optional<std::string> container_path_problem(std::string_view text);
// An image reference as docker names it: name[:tag][@digest], the name's path components in
// lowercase, an optional registry host first ("registry.example:5000/team/web:1.0").
std::optional<std::string> image_reference_problem(std::string_view text);
// Valid UTF-8 without NUL: what any string of a description must be (it becomes JSON, YAML of a
// Compose file, an argument or an environment variable).
std::optional<std::string> text_problem(std::string_view text);

// The service's default name from its component's name: lowercased, '.' and '_' become '-'.
std::string default_service_name(std::string_view component);

// The parse_* functions return nullopt for text that is not a value of the kind, and set why
// to the reason when there is more to say than "is not a ...".

// 1..65535, decimal digits only.
std::optional<std::uint16_t> parse_port(std::string_view text);
// Bytes: digits with an optional unit, powers of 1024 as Docker reads them: b; k, kb, kib; m,
// mb, mib; g, gb, gib; t, tb, tib (any case). 0 means no limit; else at least Docker's 6 MiB.
std::optional<std::uint64_t> parse_memory(std::string_view text, std::string& why);
// CPUs: a decimal number (digits, optionally '.' and digits); 0 means no limit; else 0.01..1024.
std::optional<double> parse_cpus(std::string_view text, std::string& why);
// A duration: one or more <digits><unit>, units h, m, s, ms ("10s", "1m30s", "1500ms" is
// refused: probes count whole seconds); at most 24h.
std::optional<std::chrono::seconds> parse_duration(std::string_view text, std::string& why);
// A file mode in octal with its leading 0: "0644" (the permission bits only, 0000..0777).
std::optional<std::uint32_t> parse_mode(std::string_view text);
// The text "true" or "false" (also True/TRUE, False/FALSE: YAML's core schema).
std::optional<bool> parse_bool(std::string_view text);
// A decimal count 0..limit.
std::optional<unsigned> parse_count(std::string_view text, unsigned limit);

// "0644".
std::string format_mode(std::uint32_t mode);
// "90s".
std::string format_duration(std::chrono::seconds duration);

}  // namespace ferry::formats::service_values
