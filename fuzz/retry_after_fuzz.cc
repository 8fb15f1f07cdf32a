// libFuzzer target: the Retry-After parser (proxy/http/retry_after.h), which
// reads a header an upstream sends.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proxy/http/retry_after.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  const auto delay = sluice::http::parseRetryAfter(value, now);
  if (delay && delay->count() < 0) std::abort();  // a date in the past is zero, never negative
  return 0;
}
