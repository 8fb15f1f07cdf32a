// libFuzzer target: the duration parsers. config's parseDuration
// ("250ms", "5s", "2m", "1h"; config/yaml_reader.h) with its formatter
// durationString (config/config_json.h), and the grpc-timeout header parser
// (proxy/http/grpc.h), which reads what a client sends.
//
// Properties:
// - each accepts exactly what a plain reading of its grammar accepts and
//   gives the same value, computed here in 128-bit arithmetic, so no
//   overflow passes (and UBSan sees none inside);
// - parse(format(x)) == x for every duration, and format(parse(t)) parses
//   back to the same value;
// - units are monotonic: the same digits never mean less with a larger unit.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "config/config_json.h"
#include "config/yaml_reader.h"
#include "proxy/http/grpc.h"

namespace {

using namespace sluice;
using i128 = __int128;

void check(bool ok) {
  if (!ok) std::abort();
}

// The value in ms of at most `max_digits` digits followed by units[i],
// worth num[i] / den[i] ms (rounded up); nullopt when that is not the
// shape, -1 when it is far too large for any parser to accept.
std::optional<i128> reference(std::string_view text, size_t max_digits, const std::string_view* units,
                              const i128* num, const i128* den, size_t count) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > max_digits) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  for (size_t i = 0; i < count; ++i) {
    if (unit != units[i]) continue;
    i128 n = 0;
    for (size_t k = 0; k < digits; ++k) {
      n = n * 10 + (text[k] - '0');
      if (n > (i128(1) << 100)) return i128(-1);  // beyond any limit: too large
    }
    return (n * num[i] + den[i] - 1) / den[i];
  }
  return std::nullopt;
}

void configDuration(std::string_view text) {
  static constexpr std::string_view kUnits[] = {"ms", "s", "m", "h"};
  static constexpr i128 kNum[] = {1, 1000, 60'000, 3'600'000};
  static constexpr i128 kDen[] = {1, 1, 1, 1};
  std::optional<i128> want = text == "0" ? std::optional<i128>(0) : reference(text, 1000, kUnits, kNum, kDen, 4);
  if (want && (*want < 0 || *want > std::numeric_limits<int64_t>::max())) want.reset();  // overflow: refused

  config::Duration d{-7};
  const bool ok = config::parseDuration(text, d);
  check(ok == want.has_value());
  if (!ok) {
    check(d.count() == -7);  // left as it was
    return;
  }
  check(d.count() == *want);
  const std::string canonical = config::durationString(d);
  config::Duration back{-7};
  check(config::parseDuration(canonical, back) && back == d);
  // The same digits with each larger unit: never less; once too large, for good.
  const size_t digits = text.find_first_not_of("0123456789");
  if (digits == std::string_view::npos) return;  // "0"
  int64_t last = -1;
  bool overflowed = false;
  for (std::string_view unit : kUnits) {
    config::Duration u{-7};
    const bool parsed = config::parseDuration(std::string(text.substr(0, digits)) + std::string(unit), u);
    check(!(parsed && overflowed));
    overflowed = !parsed;
    if (parsed) {
      check(u.count() >= last);
      last = u.count();
    }
  }
}

void grpcTimeout(std::string_view text) {
  // Per gRPC's PROTOCOL-HTTP2: 1-8 digits and H, M, S, m, u or n; below a
  // millisecond rounds up.
  static constexpr std::string_view kUnits[] = {"n", "u", "m", "S", "M", "H"};
  static constexpr i128 kNum[] = {1, 1, 1, 1000, 60'000, 3'600'000};
  static constexpr i128 kDen[] = {1'000'000, 1000, 1, 1, 1, 1};
  const auto want = reference(text, 8, kUnits, kNum, kDen, 6);
  const auto got = http::grpc::parseTimeout(text);
  check(got.has_value() == want.has_value());
  if (!got) return;
  check(got->count() == *want && got->count() >= 0);
  // Monotonic: each larger unit with the same digits means at least as much.
  const std::string digits(text.substr(0, text.size() - 1));
  int64_t last = -1;
  for (std::string_view unit : kUnits) {
    const auto u = http::grpc::parseTimeout(digits + std::string(unit));
    check(u.has_value() && u->count() >= last);
    last = u->count();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  configDuration(text);
  grpcTimeout(text);
  // Any duration formats and parses back: the first 8 bytes as a count of ms.
  if (size >= 8) {
    int64_t ms;
    std::memcpy(&ms, data, sizeof(ms));
    if (ms < 0) ms = -(ms + 1);
    config::Duration back{-7};
    check(config::parseDuration(config::durationString(config::Duration(ms)), back) && back.count() == ms);
  }
  return 0;
}
