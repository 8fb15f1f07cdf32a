#include <gtest/gtest.h>

#include "config/config_json.h"
#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

TEST(DurationTest, ParsesEveryUnit) {
  const std::pair<const char*, int64_t> cases[] = {
      {"0", 0},          {"0s", 0},        {"0ms", 0},       {"250ms", 250},   {"5s", 5000},
      {"90s", 90000},    {"2m", 120000},   {"1h", 3600000},  {"007s", 7000},
      // The largest whole number of hours that fits in int64 milliseconds.
      {"2562047788015h", 2562047788015LL * 3600000},
  };
  for (const auto& [text, ms] : cases) {
    Duration d{-1};
    EXPECT_TRUE(parseDuration(text, d)) << text;
    EXPECT_EQ(d.count(), ms) << text;
  }
}

TEST(DurationTest, RejectsMalformed) {
  const char* const cases[] = {
      "",    "5",   "s",     "ms",    "-5s",  "+5s",   "1.5s",  "5d",   "5us", "5 s", " 5s", "5S",
      "5sec", "1h30m", "0x10s", "2562047788016h", "99999999999999999999ms",
  };
  for (const char* text : cases) {
    Duration d{42};
    EXPECT_FALSE(parseDuration(text, d)) << text;
    EXPECT_EQ(d.count(), 42) << "left unchanged on error: " << text;
  }
}

TEST(DurationTest, StringUsesLargestExactUnit) {
  const std::pair<int64_t, const char*> cases[] = {
      {0, "0s"},         {1, "1ms"},        {250, "250ms"},  {1000, "1s"},       {1500, "1500ms"},
      {90000, "90s"},    {120000, "2m"},    {5400000, "90m"}, {3600000, "1h"},   {86400000, "24h"},
  };
  for (const auto& [ms, text] : cases) {
    EXPECT_EQ(durationString(Duration(ms)), text);
    Duration back{-1};
    EXPECT_TRUE(parseDuration(text, back)) << text;
    EXPECT_EQ(back.count(), ms) << "round trip of " << text;
  }
}

}  // namespace
}  // namespace sluice::config
