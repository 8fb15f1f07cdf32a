#include "filters/network/http/request_metadata.h"

#include "proxy/util/random.h"

namespace sluice::filters::http_cm {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void appendHex(std::string& out, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) out.push_back(kHex[(v >> (i * 4)) & 0xf]);
}

bool isLowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool allZero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

std::string newSpanId() {
  std::string s;
  uint64_t v;
  do {
    v = util::threadRandom();
  } while (v == 0);
  appendHex(s, v, 16);
  return s;
}

}  // namespace

std::string newUuid4() {
  uint64_t hi = util::threadRandom();
  uint64_t lo = util::threadRandom();
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                  // version 4
  lo = (lo & ~(0xc000ULL << 48)) | (0x8000ULL << 48);  // variant 10
  std::string s;
  s.reserve(36);
  appendHex(s, hi >> 32, 8);
  s.push_back('-');
  appendHex(s, (hi >> 16) & 0xffff, 4);
  s.push_back('-');
  appendHex(s, hi & 0xffff, 4);
  s.push_back('-');
  appendHex(s, lo >> 48, 4);
  s.push_back('-');
  appendHex(s, lo & 0xffffffffffffULL, 12);
  return s;
}

bool parseTraceparent(std::string_view v, std::string* trace_id, std::string* flags) {
  // version "-" trace-id(32) "-" parent-id(16) "-" flags(2); version 00 is exactly 55 chars.
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const auto version = v.substr(0, 2), trace = v.substr(3, 32), parent = v.substr(36, 16), fl = v.substr(53, 2);
  if (!isLowerHex(version) || version == "ff" || !isLowerHex(trace) || !isLowerHex(parent) || !isLowerHex(fl))
    return false;
  if (version == "00" && v.size() != 55) return false;
  if (allZero(trace) || allZero(parent)) return false;
  *trace_id = std::string(trace);
  *flags = std::string(fl);
  return true;
}

RequestIds addRequestMetadata(sluice::http::HeaderMap& h, const net::Address& peer, uint32_t trusted_hops,
                              bool generate_request_id) {
  RequestIds ids;
  const std::string ip = peer.ip();
  if (auto xff = h.get("x-forwarded-for"); xff && !xff->empty()) {
    std::string joined(*xff);
    joined += ", ";
    joined += ip;
    h.set("x-forwarded-for", joined);
  } else if (!ip.empty()) {
    h.set("x-forwarded-for", ip);
  }
  if (trusted_hops == 0 || !h.has("x-forwarded-proto")) h.set("x-forwarded-proto", "http");

  if (auto id = h.get("x-request-id"); id && !id->empty()) {
    ids.request_id = std::string(*id);
  } else if (generate_request_id) {
    ids.request_id = newUuid4();
    h.set("x-request-id", ids.request_id);
  }

  std::string flags;
  if (auto tp = h.get("traceparent"); !(tp && parseTraceparent(*tp, &ids.trace_id, &flags))) {
    ids.trace_id.clear();
    appendHex(ids.trace_id, util::threadRandom(), 16);
    appendHex(ids.trace_id, util::threadRandom() | 1, 16);
    flags = "00";
    h.remove("tracestate");  // it belonged to a trace we are not continuing
  }
  h.set("traceparent", "00-" + ids.trace_id + "-" + newSpanId() + "-" + flags);
  return ids;
}

}  // namespace sluice::filters::http_cm
