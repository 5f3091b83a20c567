// Which formats an app may be exported in: the publisher's list when there is one; everything
// for the market's own apps without a list; nothing unlisted for apps synced from upstream.
#include "market/export_policy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ferry::market {
namespace {

using ::testing::HasSubstr;

App app(App::Source source, std::vector<std::string> formats) {
    App a;
    a.key = "com.acme.shop";
    a.source = source;
    a.upstream_url = source == App::Source::upstream ? "https://cloud.example" : "";
    a.export_formats = std::move(formats);
    return a;
}

TEST(ExportPolicy, TheMarketsOwnAppsWithoutAListGoAnywhere) {
    EXPECT_EQ(export_refusal(app(App::Source::published, {}), kComposeFormat), std::nullopt);
    EXPECT_EQ(export_refusal(app(App::Source::imported, {}), kComposeFormat), std::nullopt);
}

TEST(ExportPolicy, APublishersListIsFollowed) {
    EXPECT_EQ(export_refusal(app(App::Source::published, {"docker-compose"}), kComposeFormat),
              std::nullopt);
    const auto refusal = export_refusal(app(App::Source::published, {"bundle"}), kComposeFormat);
    ASSERT_TRUE(refusal.has_value());
    EXPECT_THAT(*refusal, HasSubstr("the publisher of com.acme.shop does not allow "
                                    "docker-compose export (it allows bundle)"));
}

TEST(ExportPolicy, UpstreamAppsLeaveOnlyInTheFormatsTheirPublisherAllowed) {
    const auto refusal = export_refusal(app(App::Source::upstream, {}), kComposeFormat);
    ASSERT_TRUE(refusal.has_value());
    EXPECT_THAT(*refusal, HasSubstr("was synced from https://cloud.example"));
    EXPECT_EQ(export_refusal(app(App::Source::upstream, {"docker-compose"}), kComposeFormat),
              std::nullopt);
}

}  // namespace
}  // namespace ferry::market
