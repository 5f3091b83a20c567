// The values of service descriptions read from text (formats/service_values.hpp): image
// references, memory sizes and durations, accepted and refused.
#include <initializer_list>
#include <string>

#include <gtest/gtest.h>

#include "formats/service_values.hpp"

namespace ferry::formats {
namespace {

struct ValueCase {
    std::string text;
    bool valid;
};

TEST(ServiceValues, ImageReferences) {
    for (const auto& [text, valid] : std::initializer_list<ValueCase>{
             {"busybox", true},
             {"busybox:1.36", true},
             {"library/busybox:latest", true},
             {"example/web:1.0", true},
             {"registry.example.com:5000/team/web:v1.0_rc-2", true},
             {"localhost/web", true},
             {"Registry.Example/web", true},
             {"a/b__c-d--e.f", true},
             {"web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true},
             {"web:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
              true},
             {"", false},
             {"Web", false},
             {"web:", false},
             {"web:.1", false},
             {"web:" + std::string(129, 'a'), false},
             {"/web", false},
             {"web/", false},
             {"a//b", false},
             {"a___b", false},
             {"-a", false},
             {"a.", false},
             {"host:port/web", false},
             {"web@sha256:ABC", false},
             {std::string(256, 'a'), false},
         }) {
        EXPECT_EQ(!service_values::image_reference_problem(text).has_value(), valid) << text;
    }
}

TEST(ServiceValues, MemorySizes) {
    std::string why;
    EXPECT_EQ(service_values::parse_memory("0", why), 0u);
    EXPECT_EQ(service_values::parse_memory("6291456", why), 6291456u);
    EXPECT_EQ(service_values::parse_memory("512M", why), 512u << 20);
    EXPECT_EQ(service_values::parse_memory("512m", why), 512u << 20);
    EXPECT_EQ(service_values::parse_memory("512MiB", why), 512u << 20);
    EXPECT_EQ(service_values::parse_memory("512mb", why), 512u << 20);
    EXPECT_EQ(service_values::parse_memory("1G", why), 1u << 30);
    EXPECT_EQ(service_values::parse_memory("1gib", why), 1u << 30);
    EXPECT_EQ(service_values::parse_memory("8192k", why), 8u << 20);
    EXPECT_EQ(service_values::parse_memory("2T", why), 2ull << 40);
    EXPECT_EQ(service_values::parse_memory("16777216b", why), 16u << 20);
    EXPECT_EQ(service_values::parse_memory("1 G", why), std::nullopt);
    EXPECT_EQ(service_values::parse_memory("G", why), std::nullopt);
}

TEST(ServiceValues, Durations) {
    std::string why;
    EXPECT_EQ(service_values::parse_duration("10s", why), std::chrono::seconds(10));
    EXPECT_EQ(service_values::parse_duration("2m", why), std::chrono::seconds(120));
    EXPECT_EQ(service_values::parse_duration("1h1m1s", why), std::chrono::seconds(3661));
    EXPECT_EQ(service_values::parse_duration("2000ms", why), std::chrono::seconds(2));
    EXPECT_EQ(service_values::parse_duration("24h", why), std::chrono::seconds(86400));
    EXPECT_EQ(service_values::parse_duration("s", why), std::nullopt);
    EXPECT_EQ(service_values::parse_duration("1d", why), std::nullopt);
    EXPECT_EQ(service_values::parse_duration("-1s", why), std::nullopt);
    EXPECT_EQ(service_values::parse_duration("999999999h", why), std::nullopt);
    EXPECT_EQ(why, "is longer than a day (24h)");
}

}  // namespace
}  // namespace ferry::formats
