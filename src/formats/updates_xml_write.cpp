// The repository index written: IFW's Updates.xml plus ferry's own additions
// (SHA-256 and byte size of every archive) in element names IFW does not use.
//
// Layout of the written file (stable: the same index always gives the same bytes):
//   <?xml version="1.0" encoding="UTF-8"?>
//   <Updates>                       one space of indentation per level, as IFW writes it
//    <ApplicationName/ApplicationVersion/Checksum>
//    <FerryRevision .../>           only when a market wrote the index
//    <RepositoryUpdate>             only with actions
//    <PackageUpdate>*               children in the fixed order of write_package below
//    <SHA1> <MetadataName>          united metadata, only when set
//    <FerryMetadataArchive .../>    only when set
//   </Updates>
#include "formats/updates_xml.hpp"

#include "formats/xml_text.hpp"

namespace ferry::formats {

namespace {

void write_archive(XmlWriter& w, std::string_view element, const ArchiveRecord& archive) {
    const std::string size = std::to_string(archive.size);
    XmlWriter::Attributes attributes{
        {"name", archive.name}, {"size", size}, {"sha1", archive.sha1}, {"sha256", archive.sha256}};
    if (!archive.input_sha256.empty()) {
        attributes.emplace_back("input-sha256", archive.input_sha256);
    }
    w.element(element, "", attributes);
}

XmlWriter::Attributes blob_attributes(const ImageBlobRecord& blob, const std::string& size) {
    return {{"digest", blob.digest}, {"size", size}, {"media-type", blob.media_type}};
}

void write_service(XmlWriter& w, const ServiceRecord& service) {
    write_archive(w, "FerryService", service.description);
    const std::string size = std::to_string(service.manifest.size);
    auto attributes = blob_attributes(service.manifest, size);
    attributes.insert(attributes.begin(), {"reference", service.image});
    w.open("FerryImage", attributes);
    for (const ImageBlobRecord& blob : service.blobs) {
        w.element("Blob", "", blob_attributes(blob, std::to_string(blob.size)));
    }
    w.close("FerryImage");
}

void write_retained(XmlWriter& w, const std::vector<RetainedVersion>& retained) {
    for (const RetainedVersion& r : retained) {
        const std::string files = join_comma_list(r.files);
        XmlWriter::Attributes attributes;
        if (!r.version.empty()) {
            attributes.emplace_back("version", r.version);
        }
        attributes.emplace_back("files", files);
        w.element("FerryRetained", "", attributes);
    }
}

void write_repository_action(XmlWriter& w, const RepositoryAction& action) {
    XmlWriter::Attributes attributes{{"action", to_string(action.kind)}};
    if (action.kind == RepositoryAction::Kind::replace) {
        attributes.emplace_back("oldUrl", action.old_url);
        attributes.emplace_back("newUrl", action.new_url);
    } else {
        attributes.emplace_back("url", action.url);
    }
    if (action.kind != RepositoryAction::Kind::remove) {
        // IFW's documentation says name= but its parser reads username=; write what it reads.
        if (!action.username.empty()) {
            attributes.emplace_back("username", action.username);
        }
        if (!action.password.empty()) {
            attributes.emplace_back("password", action.password);
        }
        if (!action.display_name.empty()) {
            attributes.emplace_back("displayname", action.display_name);
        }
    }
    w.element("Repository", "", attributes);
}

void write_localized(XmlWriter& w, std::string_view element,
                     const std::vector<LocalizedText>& texts) {
    for (const LocalizedText& text : texts) {
        if (text.lang.empty()) {
            w.element(element, text.text);
        } else {
            w.element(element, text.text, {{"xml:lang", text.lang}});
        }
    }
}

void write_if_set(XmlWriter& w, std::string_view element, std::string_view text) {
    if (!text.empty()) {
        w.element(element, text);
    }
}

void write_if_true(XmlWriter& w, std::string_view element, bool value) {
    if (value) {
        w.element(element, "true");
    }
}

void write_list(XmlWriter& w, std::string_view element, const std::vector<std::string>& items) {
    if (!items.empty()) {
        w.element(element, join_comma_list(items));
    }
}

void write_package(XmlWriter& w, const PackageUpdate& package) {
    const ComponentDescription& c = package.component;
    w.open("PackageUpdate");
    write_if_set(w, "Name", c.name);
    write_localized(w, "DisplayName", c.display_names);
    write_localized(w, "Description", c.descriptions);
    write_if_set(w, "Version", c.version);
    write_if_set(w, "ReleaseDate", c.release_date);
    write_if_set(w, "Default", c.default_value);
    write_if_true(w, "Virtual", c.is_virtual);
    if (c.sorting_priority) {
        w.element("SortingPriority", std::to_string(*c.sorting_priority));
    }
    write_if_true(w, "Essential", c.essential);
    write_if_true(w, "ForcedInstallation", c.forced_installation);
    write_if_true(w, "ForcedUpdate", c.forced_update);
    write_if_true(w, "RequiresAdminRights", c.requires_admin_rights);
    if (c.checkable) {
        w.element("Checkable", *c.checkable ? "true" : "false");
    }
    write_if_true(w, "ExpandedByDefault", c.expanded_by_default);
    write_list(w, "Dependencies", c.dependencies);
    write_list(w, "AutoDependOn", c.auto_depend_on);
    write_list(w, "Replaces", c.replaces);
    if (c.tree_name) {
        XmlWriter::Attributes attributes;
        if (c.tree_name->move_children) {
            attributes.emplace_back("moveChildren", "true");
        }
        w.element("TreeName", c.tree_name->name, attributes);
    }
    write_if_set(w, "Script", c.script);
    write_if_set(w, "UpdateText", c.update_text);
    // Updates.xml lists the files as text, unlike package.xml's child elements.
    write_list(w, "UserInterfaces", c.user_interfaces);
    write_list(w, "Translations", c.translations);
    if (!c.licenses.empty()) {
        w.open("Licenses");
        for (const License& license : c.licenses) {
            XmlWriter::Attributes attributes{{"name", license.name}, {"file", license.file}};
            if (!license.priority.empty()) {
                attributes.emplace_back("priority", license.priority);
            }
            w.element("License", "", attributes);
        }
        w.close("Licenses");
    }
    if (!c.operations.empty()) {
        w.open("Operations");
        for (const Operation& operation : c.operations) {
            w.open("Operation", {{"name", operation.name}});
            for (const std::string& argument : operation.arguments) {
                w.element("Argument", argument);
            }
            w.close("Operation");
        }
        w.close("Operations");
    }
    const std::string compressed = std::to_string(package.compressed_size);
    const std::string uncompressed = std::to_string(package.uncompressed_size);
    w.element(
        "UpdateFile", "",
        {{"CompressedSize", compressed}, {"UncompressedSize", uncompressed}, {"OS", package.os}});
    write_list(w, "DownloadableArchives", c.downloadable_archives);
    write_if_set(w, "ContentSha1", c.content_sha1);
    write_if_set(w, "SHA1", package.meta_sha1);
    for (const ArchiveRecord& archive : package.archives) {
        write_archive(w, "FerryArchive", archive);
    }
    if (package.meta_archive) {
        write_archive(w, "FerryMetaArchive", *package.meta_archive);
    }
    if (package.service) {
        write_service(w, *package.service);
    }
    write_retained(w, package.retained);
    w.close("PackageUpdate");
}

}  // namespace

std::string_view to_string(RepositoryAction::Kind kind) {
    switch (kind) {
        case RepositoryAction::Kind::add:
            return "add";
        case RepositoryAction::Kind::remove:
            return "remove";
        case RepositoryAction::Kind::replace:
            return "replace";
    }
    return "add";
}

std::string write_updates_xml(const RepositoryIndex& index) {
    XmlWriter w;
    w.open("Updates");
    w.element("ApplicationName", index.application_name);
    w.element("ApplicationVersion", index.application_version);
    w.element("Checksum", index.checksum ? "true" : "false");
    if (index.revision) {
        const std::string number = std::to_string(index.revision->number);
        w.element(
            "FerryRevision", "",
            {{"app", index.revision->app}, {"major", index.revision->major}, {"number", number}});
    }
    if (!index.repository_updates.empty()) {
        w.open("RepositoryUpdate");
        for (const RepositoryAction& action : index.repository_updates) {
            write_repository_action(w, action);
        }
        w.close("RepositoryUpdate");
    }
    for (const PackageUpdate& package : index.packages) {
        write_package(w, package);
    }
    write_if_set(w, "SHA1", index.metadata_sha1);
    write_if_set(w, "MetadataName", index.metadata_name);
    if (index.metadata_archive) {
        write_archive(w, "FerryMetadataArchive", *index.metadata_archive);
    }
    write_retained(w, index.retained_metadata);
    w.close("Updates");
    return w.text();
}

}  // namespace ferry::formats
