#include "repo/redirect.hpp"

#include <pugixml.hpp>

#include <sstream>

#include "core/error.hpp"
#include "core/files.hpp"

namespace ferry::repo {

namespace {

// Works on the DOM rather than on RepositoryIndex so that elements ferry does not model
// (IFW-made indexes may carry any) survive the edit.
class IndexDocument {
  public:
    explicit IndexDocument(const std::filesystem::path& repository)
        : path_(repository / "Updates.xml") {
        const std::string text = core::read_file(path_, formats::kMaxUpdatesXmlBytes);
        // Validates the index as a whole first: a broken one is reported, not edited.
        formats::parse_updates_xml(text, path_.string());
        auto result = document_.load_buffer(text.data(), text.size(),
                                            pugi::parse_default | pugi::parse_declaration);
        if (!result) {
            throw Error::format("{}: {}", path_.string(), result.description());
        }
    }

    pugi::xml_node section(bool create) {
        pugi::xml_node root = document_.child("Updates");
        pugi::xml_node node = root.child("RepositoryUpdate");
        if (!node && create) {
            // IFW places it before the first PackageUpdate.
            pugi::xml_node first = root.child("PackageUpdate");
            node = first ? root.insert_child_before("RepositoryUpdate", first)
                         : root.append_child("RepositoryUpdate");
        }
        return node;
    }

    void save() {
        pugi::xml_node section_node = section(false);
        if (section_node && !section_node.first_child()) {
            document_.child("Updates").remove_child(section_node);
        }
        std::ostringstream out;
        document_.save(out, " ", pugi::format_indent, pugi::encoding_utf8);
        core::write_file_atomic(path_, out.str());
    }

    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
    pugi::xml_document document_;
};

std::string key_of(const pugi::xml_node& node) {
    std::string action = node.attribute("action").value();
    return action == "replace" ? node.attribute("oldUrl").value() : node.attribute("url").value();
}

}  // namespace

void add_redirect(const std::filesystem::path& repository,
                  const formats::RepositoryAction& action) {
    using Kind = formats::RepositoryAction::Kind;
    const std::string& key = action.kind == Kind::replace ? action.old_url : action.url;
    if (key.empty() || (action.kind == Kind::replace && action.new_url.empty())) {
        throw Error(action.kind == Kind::replace ? "replace needs both --old-url and --new-url"
                                                 : "a repository URL is required (--url)");
    }
    IndexDocument document(repository);
    pugi::xml_node section = document.section(true);
    for (pugi::xml_node node = section.child("Repository"); node;) {
        pugi::xml_node next = node.next_sibling("Repository");
        if (key_of(node) == key) {
            section.remove_child(node);
        }
        node = next;
    }
    pugi::xml_node node = section.append_child("Repository");
    node.append_attribute("action") = std::string(formats::to_string(action.kind)).c_str();
    auto set = [&](const char* name, const std::string& value) {
        if (!value.empty()) {
            node.append_attribute(name) = value.c_str();
        }
    };
    if (action.kind == Kind::replace) {
        set("oldUrl", action.old_url);
        set("newUrl", action.new_url);
    } else {
        set("url", action.url);
    }
    if (action.kind != Kind::remove) {
        set("username", action.username);
        set("password", action.password);
        set("displayname", action.display_name);
    }
    document.save();
}

std::size_t drop_redirect(const std::filesystem::path& repository, const std::string& url) {
    IndexDocument document(repository);
    pugi::xml_node section = document.section(false);
    std::size_t dropped = 0;
    for (pugi::xml_node node = section.child("Repository"); node;) {
        pugi::xml_node next = node.next_sibling("Repository");
        if (key_of(node) == url) {
            section.remove_child(node);
            ++dropped;
        }
        node = next;
    }
    if (dropped > 0) {
        document.save();
    }
    return dropped;
}

std::vector<formats::RepositoryAction> list_redirects(const std::filesystem::path& repository) {
    const auto path = repository / "Updates.xml";
    return formats::parse_updates_xml(core::read_file(path, formats::kMaxUpdatesXmlBytes),
                                      path.string())
        .repository_updates;
}

}  // namespace ferry::repo
