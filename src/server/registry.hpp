// The market as a read-only container image registry: the pull side of the OCI distribution
// specification, so that `docker pull`, `podman pull` and `skopeo copy` fetch a service
// component's image straight from the market. An image is named <app-key>/<component> and
// tagged with the component's version (or "latest": the newest major that has it):
//   GET|HEAD /v2/                                      the API's version check
//   GET|HEAD /v2/<app-key>/<component>/manifests/<tag or digest>
//   GET|HEAD /v2/<app-key>/<component>/blobs/<digest>   with Range
// The manifests and blobs are the files of the app's repositories (images/sha256/<hex>).
#pragma once

#include "market/data_dir.hpp"
#include "server/http.hpp"

namespace ferry::server {

void install_registry(Routes& routes, const market::DataDir& data);

// Whether a request is for the registry: its 401 answers carry the challenge Docker needs
// before it sends credentials (WWW-Authenticate: Basic).
bool is_registry_path(std::string_view path);
void challenge(Response& res);

}  // namespace ferry::server
