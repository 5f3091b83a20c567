#include "core/program.hpp"

#include <optional>

#include <fmt/format.h>

namespace ferry::core {

namespace {

struct Program {
    std::string name = "ferry";
    std::optional<std::filesystem::path> tool;
};

Program& program() {
    static Program instance;
    return instance;
}

}  // namespace

void set_maintenance_tool(const std::filesystem::path& tool) {
    program().name = tool.filename().string();
    program().tool = tool;
}

const std::string& program_name() {
    return program().name;
}

std::string suggested_command(std::string_view args, const std::filesystem::path& root) {
    const auto& tool = program().tool;
    if (!tool) {
        return fmt::format("`ferry {} --root {}`", args, root.string());
    }
    if (tool->parent_path() == root) {
        return fmt::format("`{} {}`", tool->string(), args);
    }
    return fmt::format("`{} {} --root {}`", tool->string(), args, root.string());
}

}  // namespace ferry::core
