// The JSON bodies of the market's API, read as its handlers read them (server/market_api.cpp):
// a pull request's app and major, the blob list of "which are missing", and a publish's app
// fields, index, notes and file list. A handler answers a ferry::Error or a JSON type error
// with 400, so those are the refusals; anything else would escape a worker thread.
#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "market/catalog.hpp"
#include "market/json.hpp"

namespace {

using Json = nlohmann::json;

void read_pull_request(const Json& body) {
    ferry::market::is_valid_key(body.at("app").get<std::string>());
    ferry::market::is_valid_key(body.value("major", ""));
}

void read_missing_blobs_request(const Json& body) {
    for (const Json& blob : body.at("blobs")) {
        blob.at("sha256").get<std::string>();
        blob.at("size").get<std::uint64_t>();
    }
}

void read_publish_request(const Json& body) {
    ferry::market::App stored;
    stored.key = "com.example.fuzz";
    ferry::market::app_from_json(body.value("app", Json::object()), stored);
    body.at("updates_xml").get<std::string>();
    body.value("notes", "");
    ferry::market::files_from_json(body.at("files"));
}

template <typename Fn>
void answered_400_at_most(Fn&& read) {
    ferry::fuzz::expect_refusal_at_most([&] {
        try {
            read();
        } catch (const Json::exception&) {
        }
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Json body = Json::parse(ferry::fuzz::as_text(data, size), nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        return 0;  // answered 400 before any field is read
    }
    answered_400_at_most([&] { read_pull_request(body); });
    answered_400_at_most([&] { read_missing_blobs_request(body); });
    answered_400_at_most([&] { read_publish_request(body); });
    return 0;
}
