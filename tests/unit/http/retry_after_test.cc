// Retry-After: delay-seconds and the three HTTP-date forms, dates in the past,
// and malformed values.
#include <gtest/gtest.h>

#include "proxy/http/retry_after.h"

namespace sluice::http {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono;

// 1994-11-06 08:49:37 UTC, the RFC's example instant.
const system_clock::time_point kExample = system_clock::time_point(seconds(784111777));

TEST(RetryAfter, DelaySeconds) {
  const auto now = system_clock::now();
  EXPECT_EQ(parseRetryAfter("120", now), milliseconds(120000));
  EXPECT_EQ(parseRetryAfter("0", now), milliseconds(0));
  EXPECT_EQ(parseRetryAfter("  3 ", now), milliseconds(3000));
}

TEST(RetryAfter, HttpDatesInEachFormMeasuredFromNow) {
  const auto now = kExample - seconds(90);
  EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now), milliseconds(90000));  // IMF-fixdate
  EXPECT_EQ(parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now), milliseconds(90000));  // RFC 850
  EXPECT_EQ(parseRetryAfter("Sun Nov  6 08:49:37 1994", now), milliseconds(90000));        // asctime
}

TEST(RetryAfter, ADateInThePastMeansNoWait) {
  EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kExample + hours(1)), milliseconds(0));
}

TEST(RetryAfter, TwoDigitYearsMoreThanFiftyYearsAheadAreThePastCentury) {
  // Now = 2026-11-22: "69" is 2069 (43 years ahead), "80" is 1980.
  const auto now = system_clock::time_point(seconds(1795305600));
  EXPECT_GT(parseRetryAfter("Friday, 01-Jan-69 00:00:00 GMT", now).value(), hours(24 * 365 * 40));
  EXPECT_EQ(parseRetryAfter("Tuesday, 01-Jan-80 00:00:00 GMT", now), milliseconds(0));
}

// Found by fuzz/retry_after_fuzz.cc: a year past 2262 overflowed the
// clock's nanoseconds (undefined behaviour). It is a long wait instead.
TEST(RetryAfter, FarFutureYearsDoNotOverflow) {
  const auto wait = parseRetryAfter("Wed, 21 Oct 6015 07:28:00 GMT", kExample);
  ASSERT_TRUE(wait.has_value());
  EXPECT_GT(*wait, hours(24 * 365 * 4000));
}

TEST(RetryAfter, MalformedValuesAreRejected) {
  const auto now = system_clock::now();
  for (const char* bad : {"", "soon", "-1", "1.5", "12abc", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun Nov  6 08:49:37",
                          "999999999999999999999"}) {
    EXPECT_EQ(parseRetryAfter(bad, now), std::nullopt) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace sluice::http
