// libFuzzer target: the access-log format parser (config/access_log_format.h),
// which reads an operator's format string.
#include <cstdint>
#include <string>

#include "config/access_log_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string format(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto parsed = sluice::config::parseAccessLogFormat(format, &error);
  if (!parsed && error.empty()) __builtin_trap();  // a refusal always says why
  return 0;
}
