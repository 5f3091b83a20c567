// Shared by the client's end-to-end tests: reading a target's state (components.xml, JSON
// output, nginx's access log) and the Client fixture, which writes packages and runs commands.
#pragma once

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "e2e/e2e_support.hpp"
#include "formats/components_xml.hpp"
#include "formats/updates_xml.hpp"
#include "support/nginx_server.hpp"

namespace ferry::testing {

using Json = nlohmann::json;

inline formats::InstalledComponents installed(const fs::path& target) {
    return formats::parse_components_xml(read_text(target / "components.xml"), "components.xml");
}

// The version components.xml records for name; empty when it does not list it.
inline std::string installed_version(const fs::path& target, const std::string& name) {
    if (!fs::exists(target / "components.xml")) {
        return "";
    }
    const formats::InstalledComponents state = installed(target);
    const auto* component = state.find(name);
    return component != nullptr ? component->version : "";
}

inline std::vector<std::string> installed_names(const fs::path& target) {
    std::vector<std::string> names;
    const formats::InstalledComponents state = installed(target);
    for (const auto& component : state.components) {
        names.push_back(component.name);
    }
    return names;
}

// The values of key in the objects of a JSON array.
inline std::vector<std::string> values_of(const Json& array, const std::string& key) {
    std::vector<std::string> values;
    for (const auto& item : array) {
        values.push_back(item.at(key).get<std::string>());
    }
    return values;
}

inline std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t count = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
        ++count;
    }
    return count;
}

// The last line of an nginx access log that mentions path.
inline std::string last_request_for(const fs::path& log, const std::string& path) {
    std::ifstream in(log);
    std::string found;
    for (std::string line; std::getline(in, line);) {
        if (line.find(path) != std::string::npos) {
            found = line;
        }
    }
    return found;
}

class Client : public FerryTest {
  protected:
    fs::path packages() const { return root() / "packages"; }
    fs::path target() const { return root() / "target"; }

    // Runs a client command on a target: ferry COMMAND --root TARGET ARGS...
    CommandResult on(const fs::path& target, const std::string& command,
                     std::vector<std::string> args = {}) const {
        args.insert(args.begin(), {command, "--root", target.string()});
        return ferry(args);
    }

    // com.test.tool (shown as "Test Tool") at version with files, replacing an earlier one.
    void write_tool(const std::string& version, const std::map<std::string, std::string>& files,
                    const std::string& extra_xml = "") const {
        fs::remove_all(packages() / "com.test.tool");
        make_package(packages(), "com.test.tool", version, files, extra_xml);
        const fs::path xml = packages() / "com.test.tool" / "meta" / "package.xml";
        std::string text = read_text(xml);
        const std::string shown = "<DisplayName>com.test.tool</DisplayName>";
        text.replace(text.find(shown), shown.size(), "<DisplayName>Test Tool</DisplayName>");
        write_text(xml, text);
    }

    void write_tool_1() const {
        write_tool("1.0", {{"bin/tool", "tool 1.0\n"}, {"share/tool/old.txt", "old\n"}});
    }
    void write_tool_2() const {
        write_tool("2.0", {{"bin/tool", "tool 2.0\n"}, {"share/tool/new.txt", "new\n"}});
    }
};

}  // namespace ferry::testing
