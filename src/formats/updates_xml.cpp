// The repository index: IFW's Updates.xml and ferry's additions, read (updates_xml_write.cpp
// writes it and describes the layout). Any element order is accepted, unknown elements are
// ignored, and every error names the file, the line and the element.
#include "formats/updates_xml.hpp"

#include <charconv>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "formats/component_fields.hpp"
#include "formats/names.hpp"
#include "formats/xml_text.hpp"

namespace ferry::formats {

namespace {

std::optional<std::uint64_t> parse_byte_count(std::string_view text) {
    text = trim(text);
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

// IFW reads its flags as "is the text 'true'", so anything else is simply false.
bool is_true(std::string_view text) {
    return parse_bool_text(text).value_or(false);
}

using Text = std::string ComponentDescription::*;

constexpr std::pair<std::string_view, Text> kTexts[] = {
    {"Name", &ComponentDescription::name},
    {"Version", &ComponentDescription::version},
    {"ReleaseDate", &ComponentDescription::release_date},
    {"Default", &ComponentDescription::default_value},
    {"Script", &ComponentDescription::script},
    {"UpdateText", &ComponentDescription::update_text},
    {"ContentSha1", &ComponentDescription::content_sha1},
};

class IndexReader {
  public:
    explicit IndexReader(const XmlSource& xml) : xml_(xml) {}

    RepositoryIndex read() {
        pugi::xml_node root = xml_.document().document_element();
        if (std::string_view(root.name()) != "Updates") {
            throw xml_.error_at(
                root, fmt::format("root element is <{}>, expected <Updates>", root.name()));
        }
        RepositoryIndex index;
        index.checksum = false;  // IFW: absent means no checksums
        // A PackageUpdate is large; growing the vector element by element would move every one
        // of thousands several times.
        const auto packages = root.children("PackageUpdate");
        index.packages.reserve(
            static_cast<std::size_t>(std::distance(packages.begin(), packages.end())));
        pugi::xml_node application_name;
        pugi::xml_node application_version;
        for (pugi::xml_node e : root.children()) {
            if (e.type() != pugi::node_element) {
                continue;
            }
            const std::string_view name = e.name();
            if (name == "ApplicationName") {
                application_name = e;
                index.application_name = element_text(e);
            } else if (name == "ApplicationVersion") {
                application_version = e;
                index.application_version = element_text(e);
            } else if (name == "Checksum") {
                index.checksum = is_true(element_text(e));
            } else if (name == "RepositoryUpdate") {
                for (pugi::xml_node r : e.children("Repository")) {
                    index.repository_updates.push_back(read_repository_action(r));
                }
            } else if (name == "PackageUpdate") {
                index.packages.push_back(read_package(e, index.packages.size() + 1));
            } else if (name == "SHA1") {
                index.metadata_sha1 = element_text(e);
            } else if (name == "MetadataName") {
                index.metadata_name = element_text(e);
                auto problem = index.metadata_name.empty()
                                   ? std::nullopt
                                   : name_problem(NameKind::archive, index.metadata_name);
                if (problem) {
                    throw xml_.error_at(e, fmt::format("MetadataName \"{}\" {}",
                                                       index.metadata_name, *problem));
                }
            } else if (name == "FerryMetadataArchive") {
                index.metadata_archive = read_archive(e, "");
            } else if (name == "FerryRetained") {
                index.retained_metadata.push_back(read_retained(e));
            } else if (name == "FerryRevision") {
                index.revision = read_revision(e);
            }
        }
        require_text(root, application_name, "ApplicationName");
        require_text(root, application_version, "ApplicationVersion");
        return index;
    }

  private:
    RevisionStamp read_revision(const pugi::xml_node& e) {
        RevisionStamp stamp{e.attribute("app").value(), e.attribute("major").value(), 0};
        const std::string_view number = e.attribute("number").value();
        auto [end, error] =
            std::from_chars(number.data(), number.data() + number.size(), stamp.number);
        if (stamp.app.empty() || stamp.major.empty() || error != std::errc() ||
            end != number.data() + number.size() || stamp.number < 1) {
            throw xml_.error_at(
                e, "FerryRevision needs app, major and a revision number of 1 or more");
        }
        return stamp;
    }

    void require_text(const pugi::xml_node& root, const pugi::xml_node& e, const char* name) {
        if (!e) {
            throw xml_.error_at(root, fmt::format("<Updates> has no {}", name));
        }
        if (trim(element_text(e)).empty()) {
            throw xml_.error_at(e, fmt::format("{} is empty", name));
        }
    }

    RepositoryAction read_repository_action(const pugi::xml_node& e) {
        RepositoryAction action;
        const std::string_view kind = e.attribute("action").value();
        auto required = [&](const char* attribute) {
            std::string value = e.attribute(attribute).value();
            if (value.empty()) {
                throw xml_.error_at(e, fmt::format("Repository action \"{}\" has no {} attribute",
                                                   kind, attribute));
            }
            return value;
        };
        if (kind == "add" || kind == "remove") {
            action.kind =
                kind == "add" ? RepositoryAction::Kind::add : RepositoryAction::Kind::remove;
            action.url = required("url");
        } else if (kind == "replace") {
            action.kind = RepositoryAction::Kind::replace;
            action.old_url = required("oldUrl");
            action.new_url = required("newUrl");
        } else {
            throw xml_.error_at(e, fmt::format("Repository action \"{}\" is unknown (expected "
                                               "add, remove or replace)",
                                               kind));
        }
        pugi::xml_attribute username = e.attribute("username");
        action.username = username ? username.value() : e.attribute("name").value();
        action.password = e.attribute("password").value();
        action.display_name = e.attribute("displayname").value();
        return action;
    }

    // label names the PackageUpdate in errors; empty for the root's metadata archive.
    ArchiveRecord read_archive(const pugi::xml_node& e, std::string_view label) {
        const std::string where =
            label.empty() ? std::string(e.name()) : fmt::format("{}: {}", label, e.name());
        ArchiveRecord archive;
        archive.name = e.attribute("name").value();
        if (archive.name.empty()) {
            throw xml_.error_at(e, fmt::format("{} has no name attribute", where));
        }
        if (auto problem = repository_path_problem(archive.name)) {
            throw xml_.error_at(e, fmt::format("{} name \"{}\" {}", where, archive.name, *problem));
        }
        const std::string_view size = e.attribute("size").value();
        auto bytes = parse_byte_count(size);
        if (!bytes) {
            throw xml_.error_at(e, fmt::format("{} \"{}\": size \"{}\" is not a byte count", where,
                                               archive.name, size));
        }
        archive.size = *bytes;
        archive.sha1 = e.attribute("sha1").value();
        archive.sha256 = e.attribute("sha256").value();
        if (!core::is_hex_digest(archive.sha1, 40)) {
            throw xml_.error_at(e, fmt::format("{} \"{}\": sha1 \"{}\" is not 40 lowercase hex "
                                               "digits",
                                               where, archive.name, archive.sha1));
        }
        if (!core::is_hex_digest(archive.sha256, 64)) {
            throw xml_.error_at(e, fmt::format("{} \"{}\": sha256 \"{}\" is not 64 lowercase "
                                               "hex digits",
                                               where, archive.name, archive.sha256));
        }
        archive.input_sha256 = e.attribute("input-sha256").value();
        if (!archive.input_sha256.empty() && !core::is_hex_digest(archive.input_sha256, 64)) {
            throw xml_.error_at(e, fmt::format("{} \"{}\": input-sha256 \"{}\" is not 64 "
                                               "lowercase hex digits",
                                               where, archive.name, archive.input_sha256));
        }
        return archive;
    }

    ImageBlobRecord read_blob(const pugi::xml_node& e, std::string_view label) {
        ImageBlobRecord blob{e.attribute("digest").value(), 0, e.attribute("media-type").value()};
        const std::string_view hex =
            std::string_view(blob.digest).substr(std::min<std::size_t>(blob.digest.size(), 7));
        if (!blob.digest.starts_with("sha256:") || !core::is_hex_digest(hex, 64)) {
            throw xml_.error_at(e, fmt::format("{}: {} digest \"{}\" is not sha256: and 64 "
                                               "lowercase hex digits",
                                               label, e.name(), blob.digest));
        }
        const std::string_view size = e.attribute("size").value();
        auto bytes = parse_byte_count(size);
        if (!bytes) {
            throw xml_.error_at(e, fmt::format("{}: {} {}: size \"{}\" is not a byte count", label,
                                               e.name(), blob.digest, size));
        }
        blob.size = *bytes;
        if (blob.media_type.empty()) {
            throw xml_.error_at(
                e, fmt::format("{}: {} {} has no media-type", label, e.name(), blob.digest));
        }
        return blob;
    }

    void read_image(const pugi::xml_node& e, std::string_view label, PackageUpdate& package) {
        if (!package.service) {
            throw xml_.error_at(
                e, fmt::format("{}: FerryImage without FerryService before it", label));
        }
        ServiceRecord& service = *package.service;
        service.image = e.attribute("reference").value();
        if (service.image.empty()) {
            throw xml_.error_at(e, fmt::format("{}: FerryImage has no reference", label));
        }
        service.manifest = read_blob(e, label);
        for (pugi::xml_node blob : e.children("Blob")) {
            service.blobs.push_back(read_blob(blob, label));
        }
        if (service.blobs.empty()) {
            throw xml_.error_at(e, fmt::format("{}: FerryImage lists no blobs", label));
        }
    }

    RetainedVersion read_retained(const pugi::xml_node& e) {
        RetainedVersion retained{e.attribute("version").value(),
                                 split_comma_list(e.attribute("files").value())};
        for (const auto& file : retained.files) {
            if (auto problem = repository_path_problem(file)) {
                throw xml_.error_at(e, fmt::format("FerryRetained file \"{}\" {}", file, *problem));
            }
        }
        return retained;
    }

    PackageUpdate read_package(const pugi::xml_node& p, std::size_t position) {
        // The name is looked up first so that every error below can say which package it is.
        const std::string name = element_text(p.child("Name"));
        const std::string label = name.empty() ? fmt::format("PackageUpdate #{}", position)
                                               : fmt::format("PackageUpdate \"{}\"", name);
        const std::string context = name.empty() ? std::string() : "component " + name;
        PackageUpdate package;
        ComponentDescription& c = package.component;
        for (pugi::xml_node e : p.children()) {
            if (e.type() == pugi::node_element) {
                read_package_element(e, label, package);
                check_path_names(xml_, e, c, context);
            }
        }
        if (package.service && package.service->manifest.digest.empty()) {
            throw xml_.error_at(p, fmt::format("{} has FerryService but no FerryImage", label));
        }
        for (const auto& [element, text] :
             {std::pair{"Name", &c.name}, std::pair{"Version", &c.version},
              std::pair{"ReleaseDate", &c.release_date}}) {
            if (trim(*text).empty()) {
                throw xml_.error_at(p, fmt::format("{} has no {}", label, element));
            }
        }
        return package;
    }

    void read_package_element(const pugi::xml_node& e, const std::string& label,
                              PackageUpdate& package) {
        ComponentDescription& c = package.component;
        const std::string_view name = e.name();
        const std::string text = element_text(e);
        for (const auto& [flag_name, flag] : kComponentFlags) {
            if (name == flag_name) {
                c.*flag = is_true(text);
                return;
            }
        }
        for (const auto& [list_name, list] : kComponentLists) {
            if (name == list_name) {
                c.*list = split_comma_list(text);
                return;
            }
        }
        for (const auto& [text_name, member] : kTexts) {
            if (name == text_name) {
                c.*member = text;
                return;
            }
        }
        if (name == "DisplayName") {
            c.display_names.push_back({e.attribute("xml:lang").value(), text});
        } else if (name == "Description") {
            c.descriptions.push_back({e.attribute("xml:lang").value(), text});
        } else if (name == "Checkable") {
            // Checkable is the one flag whose default is true.
            c.checkable = parse_bool_text(text).value_or(true);
        } else if (name == "SortingPriority") {
            // IFW reads it with toInt(), which makes garbage 0 rather than an error; ferry
            // leaves it unset instead of inventing a priority.
            int value = 0;
            std::string_view digits = trim(text);
            auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
            if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size()) {
                c.sorting_priority = value;
            }
        } else if (name == "TreeName") {
            c.tree_name = TreeName{text, is_true(e.attribute("moveChildren").value())};
        } else if (name == "UserInterfaces") {
            c.user_interfaces = file_list(e, "UserInterface");
        } else if (name == "Translations") {
            c.translations = file_list(e, "Translation");
        } else if (name == "Licenses") {
            for (pugi::xml_node l : e.children("License")) {
                c.licenses.push_back({l.attribute("name").value(), l.attribute("file").value(),
                                      l.attribute("priority").value()});
            }
        } else if (name == "Operations") {
            for (pugi::xml_node o : e.children("Operation")) {
                Operation operation{o.attribute("name").value(), {}};
                for (pugi::xml_node argument : o.children("Argument")) {
                    operation.arguments.push_back(element_text(argument));
                }
                c.operations.push_back(std::move(operation));
            }
        } else if (name == "UpdateFile") {
            read_update_file(e, label, package);
        } else if (name == "SHA1") {
            package.meta_sha1 = text;
        } else if (name == "FerryArchive") {
            package.archives.push_back(read_archive(e, label));
        } else if (name == "FerryMetaArchive") {
            package.meta_archive = read_archive(e, label);
        } else if (name == "FerryService") {
            package.service = ServiceRecord{read_archive(e, label), {}, {}, {}};
        } else if (name == "FerryImage") {
            read_image(e, label, package);
        } else if (name == "FerryRetained") {
            package.retained.push_back(read_retained(e));
        }
    }

    // Updates.xml writes "a.ui,b.ui" as text; package.xml style has one child element each.
    static std::vector<std::string> file_list(const pugi::xml_node& e, const char* child) {
        if (!has_child_elements(e)) {
            return split_comma_list(element_text(e));
        }
        std::vector<std::string> files;
        for (pugi::xml_node f : e.children(child)) {
            const std::string raw = element_text(f);
            std::string_view file = trim(raw);
            if (!file.empty()) {
                files.emplace_back(file);
            }
        }
        return files;
    }

    void read_update_file(const pugi::xml_node& e, const std::string& label,
                          PackageUpdate& package) {
        auto size = [&](const char* attribute) -> std::uint64_t {
            pugi::xml_attribute a = e.attribute(attribute);
            if (!a) {
                return 0;
            }
            auto bytes = parse_byte_count(a.value());
            if (!bytes) {
                throw xml_.error_at(e, fmt::format("{}: UpdateFile {} \"{}\" is not a byte count",
                                                   label, attribute, a.value()));
            }
            return *bytes;
        };
        package.compressed_size = size("CompressedSize");
        package.uncompressed_size = size("UncompressedSize");
        if (pugi::xml_attribute os = e.attribute("OS")) {
            package.os = os.value();
        }
    }

    const XmlSource& xml_;
};

}  // namespace

const PackageUpdate* RepositoryIndex::find(std::string_view name) const {
    for (const PackageUpdate& package : packages) {
        if (package.component.name == name) {
            return &package;
        }
    }
    return nullptr;
}

RepositoryIndex parse_updates_xml(std::string_view xml_text, std::string_view source_name) {
    XmlSource xml(xml_text, source_name);
    return IndexReader(xml).read();
}

}  // namespace ferry::formats
