#include "proxy/http/retry_after.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

namespace sluice::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Reads exactly `digits` decimal digits (or 1..digits when `exact` is false).
bool readNumber(std::string_view& s, size_t digits, bool exact, int& out) {
  size_t i = 0;
  int v = 0;
  while (i < digits && i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) v = v * 10 + (s[i++] - '0');
  if (i == 0 || (exact && i != digits)) return false;
  s.remove_prefix(i);
  out = v;
  return true;
}

bool expect(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

bool skipSpaces(std::string_view& s) {
  if (s.empty() || s.front() != ' ') return false;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return true;
}

bool readMonth(std::string_view& s, int& month) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (s.substr(0, 3) == kMonths[i]) {
      month = static_cast<int>(i) + 1;
      s.remove_prefix(3);
      return true;
    }
  }
  return false;
}

bool readTime(std::string_view& s, int& h, int& m, int& sec) {
  return readNumber(s, 2, true, h) && expect(s, ':') && readNumber(s, 2, true, m) && expect(s, ':') &&
         readNumber(s, 2, true, sec) && h < 24 && m < 60 && sec <= 60;
}

bool skipDayName(std::string_view& s) {
  size_t i = 0;
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  if (i < 3) return false;
  s.remove_prefix(i);
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> epochSeconds(int year, int month, int day, int h, int m, int s) {
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  return daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + h * 3600 + m * 60 + s;
}

// "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate), "Sunday, 06-Nov-94 08:49:37 GMT"
// (RFC 850) or "Sun Nov  6 08:49:37 1994" (asctime).
std::optional<int64_t> parseHttpDate(std::string_view s, int now_year) {
  int day = 0, month = 0, year = 0, h = 0, m = 0, sec = 0;
  if (!skipDayName(s)) return std::nullopt;
  if (expect(s, ',')) {
    if (!skipSpaces(s) || !readNumber(s, 2, true, day)) return std::nullopt;
    if (expect(s, '-')) {  // RFC 850
      if (!readMonth(s, month) || !expect(s, '-') || !readNumber(s, 2, true, year)) return std::nullopt;
      // Two-digit years: a date more than 50 years ahead means the past century (RFC 9110).
      year += now_year - now_year % 100;
      if (year > now_year + 50) year -= 100;
    } else {
      if (!skipSpaces(s) || !readMonth(s, month) || !skipSpaces(s) || !readNumber(s, 4, true, year))
        return std::nullopt;
    }
    if (!skipSpaces(s) || !readTime(s, h, m, sec) || !skipSpaces(s) || s != "GMT") return std::nullopt;
  } else {  // asctime
    if (!skipSpaces(s) || !readMonth(s, month) || !skipSpaces(s) || !readNumber(s, 2, false, day) ||
        !skipSpaces(s) || !readTime(s, h, m, sec) || !skipSpaces(s) || !readNumber(s, 4, true, year) || !s.empty())
      return std::nullopt;
  }
  return epochSeconds(year, month, day, h, m, sec);
}

}  // namespace

std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front()))) {
    uint64_t secs = 0;
    for (char c : value) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      secs = secs * 10 + static_cast<uint64_t>(c - '0');
      if (secs > 100'000'000) return std::nullopt;  // years: nobody waits that long
    }
    return std::chrono::milliseconds(secs * 1000);
  }
  const auto days = std::chrono::floor<std::chrono::days>(now);
  const int now_year = static_cast<int>(std::chrono::year_month_day(days).year());
  const auto at = parseHttpDate(value, now_year);
  if (!at) return std::nullopt;
  // In milliseconds, not the clock's nanoseconds: those overflow for years
  // past 2262, and a peer may send any year up to 9999.
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const int64_t wait_ms = static_cast<int64_t>(*at) * 1000 - now_ms;
  return std::chrono::milliseconds(std::max<int64_t>(wait_ms, 0));
}

}  // namespace sluice::http
