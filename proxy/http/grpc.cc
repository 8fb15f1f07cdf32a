#include "proxy/http/grpc.h"

#include <charconv>

namespace sluice::http::grpc {

bool isGrpc(const HeaderMap& request) {
  const auto ct = request.get("content-type");
  if (!ct) return false;
  constexpr std::string_view kGrpc = "application/grpc";
  if (ct->size() < kGrpc.size() || !equalsIgnoreCase(ct->substr(0, kGrpc.size()), kGrpc)) return false;
  return ct->size() == kGrpc.size() || (*ct)[kGrpc.size()] == '+' || (*ct)[kGrpc.size()] == ';';
}

int statusForHttp(int http_status) {
  switch (http_status) {
    case 400: return kInternal;
    case 401: return kUnauthenticated;
    case 403: return kPermissionDenied;
    case 404: return kUnimplemented;
    case 429:
    case 502:
    case 503:
    case 504: return kUnavailable;
    default: return kUnknown;
  }
}

std::optional<std::chrono::milliseconds> parseTimeout(std::string_view v) {
  if (v.size() < 2 || v.size() > 9) return std::nullopt;
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size() - 1, n);
  if (ec != std::errc() || end != v.data() + v.size() - 1) return std::nullopt;
  using namespace std::chrono;
  switch (v.back()) {
    case 'H': return duration_cast<milliseconds>(hours(n));
    case 'M': return duration_cast<milliseconds>(minutes(n));
    case 'S': return duration_cast<milliseconds>(seconds(n));
    case 'm': return milliseconds(n);
    // Below a millisecond rounds up: a deadline is never made shorter.
    case 'u': return milliseconds((n + 999) / 1000);
    case 'n': return milliseconds((n + 999999) / 1000000);
    default: return std::nullopt;
  }
}

std::optional<int> statusOf(const HeaderMap& headers) {
  const auto v = headers.get("grpc-status");
  if (!v) return std::nullopt;
  int code = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), code);
  if (ec != std::errc() || end != v->data() + v->size() || code < 0 || code > 16) return std::nullopt;
  return code;
}

std::string encodeMessage(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace sluice::http::grpc
