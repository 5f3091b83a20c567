// Which image of a Rainbond package a share_image names (docs/SERVICES.md, "Rainbond packages"):
// Rainbond's references carry its registry's host, `docker save` wrote whatever tag it had.
#include <fmt/format.h>

#include "bundle/rainbond.hpp"
#include "core/error.hpp"

namespace ferry::bundle {

namespace {

// The reference without a registry host: "goodrain.me/team/web:1" -> "team/web:1"; a reference
// without a tag or digest gets ":latest".
std::string without_host(std::string_view ref) {
    std::string out(ref);
    const auto slash = out.find('/');
    if (slash != std::string::npos) {
        const std::string_view first = std::string_view(out).substr(0, slash);
        if (first.find('.') != std::string_view::npos ||
            first.find(':') != std::string_view::npos || first == "localhost") {
            out.erase(0, slash + 1);
        }
    }
    const auto last_slash = out.rfind('/');
    const std::string_view last =
        std::string_view(out).substr(last_slash == std::string::npos ? 0 : last_slash + 1);
    if (last.find(':') == std::string_view::npos && last.find('@') == std::string_view::npos) {
        out += ":latest";
    }
    if (out.starts_with("library/") && out.find('/', 8) == std::string::npos) {
        out.erase(0, 8);
    }
    return out;
}

// Rainbond's older save name: the host and the first path element gone ("team/web:1" ->
// "web:1").
std::string save_name(std::string_view ref) {
    std::string out = without_host(ref);
    const auto slash = out.find('/');
    return slash == std::string::npos ? out : out.substr(slash + 1);
}

}  // namespace

const image::Image* match_share_image(const std::vector<image::Image>& images,
                                      std::string_view share_image, std::string* matched) {
    for (const auto& image : images) {
        for (const auto& ref : image.references) {
            if (ref == share_image) {
                *matched = ref;
                return &image;
            }
        }
    }
    for (const auto rule : {&without_host, &save_name}) {
        const std::string wanted = rule(share_image);
        const image::Image* found = nullptr;
        std::vector<std::string> candidates;
        for (const auto& image : images) {
            for (const auto& ref : image.references) {
                if (rule(ref) == wanted) {
                    if (found != &image) {
                        candidates.push_back(ref);
                    }
                    found = &image;
                    *matched = ref;
                }
            }
        }
        if (candidates.size() > 1) {
            throw Error::format("share_image \"{}\" may be any of {}", share_image,
                                fmt::join(candidates, ", "));
        }
        if (found != nullptr) {
            return found;
        }
    }
    return nullptr;
}

}  // namespace ferry::bundle
