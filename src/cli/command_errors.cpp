#include "cli/command_errors.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/terminal.hpp"
#include "core/program.hpp"

namespace ferry::cli {

namespace {

// Levenshtein distance, with an adjacent transposition counted as one edit ("isntall").
std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) {
        d[i][0] = i;
    }
    for (std::size_t j = 0; j <= b.size(); ++j) {
        d[0][j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

std::vector<std::string> command_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        names.push_back(sub->get_name());
        for (const std::string& alias : sub->get_aliases()) {
            names.push_back(alias);
        }
    }
    return names;
}

const char* kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::invalid_input:
            return "invalid_input";
        case ErrorKind::not_found:
            return "not_found";
        case ErrorKind::conflict:
            return "conflict";
        case ErrorKind::upstream:
            return "upstream";
        case ErrorKind::storage:
            return "storage";
        case ErrorKind::internal:
            return "internal";
    }
    return "internal";
}

}  // namespace

std::optional<std::string> nearest_command(const CLI::App& app, const std::string& typed) {
    std::optional<std::string> best;
    std::size_t best_distance = 0;
    for (const std::string& name : command_names(app)) {
        // A typo is a couple of edits; more than a third of the word is another word.
        const std::size_t limit =
            std::max<std::size_t>(1, std::min<std::size_t>(2, name.size() / 3));
        const std::size_t distance = edit_distance(typed, name);
        if (distance <= limit && (!best || distance < best_distance)) {
            best = name;
            best_distance = distance;
        }
    }
    return best;
}

std::optional<std::string> unknown_command(const CLI::App& app,
                                           const std::vector<std::string>& args) {
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& word = args[i];
        if (word.empty() || word[0] == '-') {
            continue;
        }
        const auto names = command_names(app);
        if (std::find(names.begin(), names.end(), word) != names.end()) {
            return std::nullopt;
        }
        return word;
    }
    return std::nullopt;
}

bool json_requested(const CLI::App& app) {
    for (const CLI::App* sub : app.get_subcommands()) {
        const CLI::Option* json = sub->get_option_no_throw("--json");
        if ((json && json->count() > 0) || json_requested(*sub)) {
            return true;
        }
    }
    return false;
}

void report_failure(const Error& error, bool json) {
    print_error(core::program_name(), error.describe());
    if (json) {
        const nlohmann::json object = {{"error",
                                        {{"message", error.what()},
                                         {"kind", kind_name(error.kind())},
                                         {"context", error.context()}}}};
        print_json(object);  // messages may quote bytes of any input
    }
}

}  // namespace ferry::cli
