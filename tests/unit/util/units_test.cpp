#include "util/units.hpp"

#include <gtest/gtest.h>

using namespace strata::util;
using std::chrono::milliseconds;

TEST(Units, ParsesGoDurations) {
  EXPECT_EQ(*parse_duration("336h"), milliseconds(336LL * 3600 * 1000));
  EXPECT_EQ(*parse_duration("1h30m"), milliseconds(90LL * 60 * 1000));
  EXPECT_EQ(*parse_duration("90s"), milliseconds(90000));
  EXPECT_EQ(*parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(*parse_duration("1.5h"), milliseconds(5400000));
  EXPECT_EQ(*parse_duration("7d"), milliseconds(7LL * 86400 * 1000));
  EXPECT_EQ(*parse_duration("2w"), milliseconds(14LL * 86400 * 1000));
  EXPECT_EQ(*parse_duration("0"), milliseconds(0));
}

TEST(Units, RejectsBadDurations) {
  for (const char* bad : {"", "h", "10", "10x", "1h-3m", "..5s", "1.2.3s"}) {
    auto r = parse_duration(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind(), strata::ErrorKind::invalid_argument);
    EXPECT_NE(r.error().message().find("invalid duration"), std::string::npos);
  }
}

TEST(Units, ParsesSizes) {
  EXPECT_EQ(*parse_size("1024"), 1024u);
  EXPECT_EQ(*parse_size("10GB"), 10000000000u);
  EXPECT_EQ(*parse_size("10G"), 10000000000u);
  EXPECT_EQ(*parse_size("10GiB"), 10737418240u);
  EXPECT_EQ(*parse_size("500mb"), 500000000u);
  EXPECT_EQ(*parse_size("1.5Ki"), 1536u);
  EXPECT_EQ(*parse_size("2 TiB"), 2199023255552u);
  EXPECT_EQ(*parse_size("7B"), 7u);
  EXPECT_FALSE(parse_size("ten"));
  EXPECT_FALSE(parse_size("10XB"));
  EXPECT_FALSE(parse_size(""));
}

TEST(Units, PrintsHumanSizesAndDurations) {
  EXPECT_EQ(human_size(512), "512 B");
  EXPECT_EQ(human_size(1536), "1.50 KiB");
  EXPECT_EQ(human_size(300ULL << 20), "300 MiB");
  EXPECT_EQ(human_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(human_duration(milliseconds(3 * 86400000LL + 4 * 3600000LL + 5000)), "3d 4h");
  EXPECT_EQ(human_duration(milliseconds(65000)), "1m 5s");
  EXPECT_EQ(go_duration(milliseconds(336LL * 3600 * 1000)), "336h0m0s");
}
