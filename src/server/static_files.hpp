// Serving a directory tree over HTTP: safe path resolution, files streamed from disk, validators
// (ETag, Last-Modified), conditional and Range requests, gzip for XML and JSON.
#pragma once

#include <filesystem>
#include <string>

#include "server/http.hpp"

namespace ferry::server {

// Registers GET and HEAD for "<url_prefix>/<path>" (url_prefix like "/repo", or "" for the
// top), answering with the regular file <root>/<path>. Paths with "..", ".", empty
// components or NUL are refused with 403; missing files, directories and symlinks that lead
// out of root are 404; error bodies are JSON. Throws ferry::Error when root does not exist.
void serve_static(Routes& routes, const std::string& url_prefix, const std::filesystem::path& root);

// The same answer for the file <root>/<req.matches[1]>, for routes that choose the file
// themselves (the image registry's blobs and manifests).
Handler file_handler(const std::filesystem::path& root);

}  // namespace ferry::server
