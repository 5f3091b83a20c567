// The catalog's value types as text (the names stored in the catalog and shown by the API) and
// the rule for keys that end up in paths and URLs (market/names.hpp).
#include "market/catalog.hpp"

#include <array>
#include <ctime>
#include <utility>

#include "market/names.hpp"

namespace ferry::market {

namespace {

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& names,
                         Enum value) {
    for (const auto& [v, name] : names) {
        if (v == value) {
            return name;
        }
    }
    return "unknown";
}

template <typename Enum, std::size_t N>
Enum parse_name(const std::array<std::pair<Enum, std::string_view>, N>& names,
                std::string_view text, std::string_view what) {
    for (const auto& [value, name] : names) {
        if (name == text) {
            return value;
        }
    }
    std::string known;
    for (const auto& [value, name] : names) {
        known += known.empty() ? "" : ", ";
        known += name;
    }
    throw Error::format("\"{}\" is not a {} (expected one of: {})", text, what, known);
}

constexpr std::array<std::pair<App::Kind, std::string_view>, 2> kind_names{{
    {App::Kind::app, "app"},
    {App::Kind::plugin, "plugin"},
}};
constexpr std::array<std::pair<App::Source, std::string_view>, 3> source_names{{
    {App::Source::published, "published"},
    {App::Source::upstream, "upstream"},
    {App::Source::imported, "imported"},
}};
constexpr std::array<std::pair<Token::Role, std::string_view>, 2> role_names{{
    {Token::Role::publish, "publish"},
    {Token::Role::admin, "admin"},
}};
constexpr std::array<std::pair<Job::State, std::string_view>, 4> state_names{{
    {Job::State::queued, "queued"},
    {Job::State::running, "running"},
    {Job::State::success, "success"},
    {Job::State::failed, "failed"},
}};

}  // namespace

std::string to_rfc3339(std::chrono::system_clock::time_point time) {
    const std::time_t t = std::chrono::system_clock::to_time_t(time);
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                       utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

std::string_view to_string(App::Kind kind) {
    return name_of(kind_names, kind);
}
std::string_view to_string(App::Source source) {
    return name_of(source_names, source);
}
std::string_view to_string(Token::Role role) {
    return name_of(role_names, role);
}
std::string_view to_string(Job::State state) {
    return name_of(state_names, state);
}

App::Kind parse_app_kind(std::string_view text) {
    return parse_name(kind_names, text, "kind");
}
App::Source parse_app_source(std::string_view text) {
    return parse_name(source_names, text, "app source");
}
Token::Role parse_token_role(std::string_view text) {
    return parse_name(role_names, text, "token role");
}
Job::State parse_job_state(std::string_view text) {
    return parse_name(state_names, text, "job state");
}

bool is_valid_key(std::string_view text) {
    return !key_problem(text).has_value();
}

}  // namespace ferry::market
