#include "image/platform.hpp"

#include <gtest/gtest.h>

using strata::ErrorKind;
using strata::image::match_rank;
using strata::image::matches;
using strata::image::Platform;

namespace {

Platform parse_ok(std::string_view text) {
  auto p = Platform::parse(text);
  EXPECT_TRUE(p.has_value()) << text << ": " << (p ? "" : p.error().message());
  return p ? *p : Platform();
}

TEST(Platform, ParsesAndNormalises) {
  struct Case {
    const char* input;
    const char* str;
  };
  const Case cases[] = {
      {"linux/amd64", "linux/amd64"},     {"linux/arm64/v8", "linux/arm64/v8"}, {"linux/arm/v7", "linux/arm/v7"},
      {"windows/amd64", "windows/amd64"}, {"linux/aarch64", "linux/arm64"},     {"linux/x86_64", "linux/amd64"},
      {"linux/x86-64", "linux/amd64"},    {"linux/armhf", "linux/arm/v7"},      {"linux/armel", "linux/arm/v6"},
      {"linux/i386", "linux/386"},        {"linux/386", "linux/386"},           {"linux/arm", "linux/arm/v7"},
      {"linux/arm/6", "linux/arm/v6"},    {"LINUX/AMD64", "linux/amd64"},       {"macos/arm64", "darwin/arm64"},
      {"amd64", "linux/amd64"},           {"linux/arm64/8", "linux/arm64/v8"},  {"linux/amd64/v1", "linux/amd64"},
      {"linux/s390x", "linux/s390x"},     {"linux/arm64/v9", "linux/arm64/v9"},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_ok(c.input).str(), c.str) << c.input;

  Platform w = parse_ok("windows(10.0.17763.1879)/amd64");
  EXPECT_EQ(w.os, "windows");
  EXPECT_EQ(w.os_version, "10.0.17763.1879");
  EXPECT_EQ(parse_ok("linux").os, "linux");
  EXPECT_EQ(parse_ok("linux").architecture, Platform::host().architecture);
}

TEST(Platform, RejectsGarbage) {
  for (const char* bad : {"", "/", "linux/", "linux/amd64/v8/x", "linux/am d64", "linux//v7", "lin(ux/amd64"}) {
    auto p = Platform::parse(bad);
    ASSERT_FALSE(p.has_value()) << bad;
    EXPECT_EQ(p.error().kind(), ErrorKind::invalid_argument);
    EXPECT_NE(p.error().message().find("invalid platform"), std::string::npos);
  }
}

TEST(Platform, HostUsesGoNames) {
  Platform h = Platform::host();
  EXPECT_EQ(h.os, "linux");
  EXPECT_FALSE(h.architecture.empty());
  EXPECT_NE(h.architecture, "x86_64");
  EXPECT_NE(h.architecture, "aarch64");
  if (h.architecture == "arm64") {
    EXPECT_EQ(h.variant, "v8");
  }
}

TEST(Platform, Matching) {
  EXPECT_EQ(match_rank(parse_ok("linux/amd64"), parse_ok("linux/amd64")), 0);
  EXPECT_EQ(match_rank(parse_ok("linux/amd64"), parse_ok("linux/arm64")), -1);
  EXPECT_EQ(match_rank(parse_ok("linux/amd64"), parse_ok("windows/amd64")), -1);
  // arm64: v8 is the default and equals no variant, both ways.
  EXPECT_EQ(match_rank(parse_ok("linux/arm64/v8"), Platform{"linux", "arm64", "", "", {}}), 0);
  EXPECT_EQ(match_rank(parse_ok("linux/arm64"), Platform{"linux", "arm64", "v8", "", {}}), 0);
  EXPECT_EQ(match_rank(parse_ok("linux/arm64"), Platform{"linux", "aarch64", "", "", {}}), 0);
  EXPECT_FALSE(matches(parse_ok("linux/arm64/v8"), Platform{"linux", "arm64", "v9", "", {}}));
  // arm: lower variants are fallbacks, higher ones never run.
  EXPECT_EQ(match_rank(parse_ok("linux/arm/v7"), parse_ok("linux/arm/v7")), 0);
  EXPECT_EQ(match_rank(parse_ok("linux/arm/v7"), parse_ok("linux/arm/v6")), 1);
  EXPECT_EQ(match_rank(parse_ok("linux/arm/v7"), parse_ok("linux/arm/v5")), 2);
  EXPECT_EQ(match_rank(parse_ok("linux/arm/v6"), parse_ok("linux/arm/v7")), -1);
  EXPECT_EQ(match_rank(parse_ok("linux/arm/v7"), Platform{"linux", "arm", "", "", {}}), 0);
  // amd64 micro-architecture levels.
  EXPECT_EQ(match_rank(parse_ok("linux/amd64/v3"), parse_ok("linux/amd64")), 2);
  EXPECT_EQ(match_rank(parse_ok("linux/amd64/v3"), parse_ok("linux/amd64/v2")), 1);
  EXPECT_EQ(match_rank(parse_ok("linux/amd64"), parse_ok("linux/amd64/v2")), -1);
  // Windows: same build number needed when both sides say.
  Platform win = parse_ok("windows(10.0.17763.100)/amd64");
  EXPECT_TRUE(matches(win, Platform{"windows", "amd64", "", "10.0.17763.1879", {}}));
  EXPECT_FALSE(matches(win, Platform{"windows", "amd64", "", "10.0.20348.1", {}}));
}

}  // namespace
