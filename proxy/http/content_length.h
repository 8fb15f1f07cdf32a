#pragma once
// A Content-Length value as the HTTP/1 codecs take it: one run of digits
// (RFC 9110 8.6), nothing around it, no sign, no list, and no value past
// 2^64 - 1. Lists and duplicates are the parser's to settle before this.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::http {

inline std::optional<uint64_t> parseContentLength(std::string_view v) {
  uint64_t n = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  return n;
}

}  // namespace sluice::http
