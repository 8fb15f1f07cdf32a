#include "proxy/http/request_metadata.h"

#include <algorithm>
#include <cstring>

#include "proxy/util/random.h"

namespace sluice::http {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Writes `digits` lowercase hex digits of v; returns the end.
char* writeHex(char* out, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) *out++ = kHex[(v >> (i * 4)) & 0xf];
  return out;
}

bool isLowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool allZero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

uint64_t nonZeroRandom() {
  uint64_t v;
  do {
    v = util::threadRandom();
  } while (v == 0);
  return v;
}

}  // namespace

void writeUuid4(char* out) {
  uint64_t hi = util::threadRandom();
  uint64_t lo = util::threadRandom();
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                  // version 4
  lo = (lo & ~(0xc000ULL << 48)) | (0x8000ULL << 48);  // variant 10
  out = writeHex(out, hi >> 32, 8);
  *out++ = '-';
  out = writeHex(out, (hi >> 16) & 0xffff, 4);
  *out++ = '-';
  out = writeHex(out, hi & 0xffff, 4);
  *out++ = '-';
  out = writeHex(out, lo >> 48, 4);
  *out++ = '-';
  writeHex(out, lo & 0xffffffffffffULL, 12);
}

std::string newUuid4() {
  std::string s(36, '\0');
  writeUuid4(s.data());
  return s;
}

bool validTraceparent(std::string_view v) {
  // version "-" trace-id(32) "-" parent-id(16) "-" flags(2); version 00 is exactly 55 chars.
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const auto version = v.substr(0, 2), trace = v.substr(3, 32), parent = v.substr(36, 16), fl = v.substr(53, 2);
  if (!isLowerHex(version) || version == "ff" || !isLowerHex(trace) || !isLowerHex(parent) || !isLowerHex(fl))
    return false;
  if (version == "00" && v.size() != 55) return false;
  return !allZero(trace) && !allZero(parent);
}

bool parseTraceparent(std::string_view v, std::string* trace_id, std::string* flags) {
  if (!validTraceparent(v)) return false;
  *trace_id = std::string(v.substr(3, 32));
  *flags = std::string(v.substr(53, 2));
  return true;
}

RequestIds addRequestMetadata(HeaderMap& h, std::string_view ip, uint32_t trusted_hops,
                              bool generate_request_id) {
  // Runs on every request: values are built in stack buffers (the header map
  // copies them into its own storage), so nothing here allocates.
  RequestIds ids;
  if (auto xff = h.get("x-forwarded-for"); xff && !xff->empty()) {
    char buf[512];
    if (xff->size() + 2 + ip.size() <= sizeof(buf)) {
      char* end = std::copy(xff->begin(), xff->end(), buf);
      *end++ = ',';
      *end++ = ' ';
      end = std::copy(ip.begin(), ip.end(), end);
      h.set("x-forwarded-for", std::string_view(buf, static_cast<size_t>(end - buf)));
    } else {
      h.set("x-forwarded-for", std::string(*xff) + ", " + std::string(ip));
    }
  } else if (!ip.empty()) {
    // Absent: add. Present with an empty first value: set() replaces every one.
    if (xff) {
      h.set("x-forwarded-for", ip);
    } else {
      h.add("x-forwarded-for", ip);
    }
  }
  if (!h.has("x-forwarded-proto")) {
    h.add("x-forwarded-proto", "http");
  } else if (trusted_hops == 0) {
    h.set("x-forwarded-proto", "http");
  }

  if (auto id = h.get("x-request-id"); id && !id->empty()) {
    ids.request_id = *id;
  } else if (generate_request_id) {
    char uuid[36];
    writeUuid4(uuid);
    ids.request_id = std::string_view(uuid, sizeof(uuid));
    if (id) {
      h.set("x-request-id", ids.request_id.view());
    } else {
      h.add("x-request-id", ids.request_id.view());
    }
  }

  // "00-" trace-id(32) "-" span-id(16) "-" flags(2)
  char tp[55];
  std::string_view flags = "00";
  const auto in = h.get("traceparent");
  if (in && validTraceparent(*in)) {
    std::memcpy(tp + 3, in->data() + 3, 32);
    flags = in->substr(53, 2);
  } else {
    writeHex(writeHex(tp + 3, util::threadRandom(), 16), util::threadRandom() | 1, 16);
    h.remove("tracestate");  // it belonged to a trace we are not continuing
  }
  std::memcpy(tp, "00-", 3);
  tp[35] = '-';
  writeHex(tp + 36, nonZeroRandom(), 16);
  tp[52] = '-';
  std::memcpy(tp + 53, flags.data(), 2);  // before set(): flags may point into the old value
  ids.trace_id = std::string_view(tp + 3, 32);
  if (in) {
    h.set("traceparent", std::string_view(tp, sizeof(tp)));
  } else {
    h.add("traceparent", std::string_view(tp, sizeof(tp)));
  }
  return ids;
}

namespace {

constexpr std::string_view kXfcc = "x-forwarded-client-cert";

// A value that could break the header (CR, LF, other controls) is never
// forwarded: a certificate's URI SAN is not ours to trust byte for byte.
bool printable(std::string_view v) {
  for (const char c : v)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

// One key=value of an element; pairs are separated by ';'.
void appendPair(std::string& out, bool first, std::string_view key, std::string_view value) {
  if (!first) out.push_back(';');
  out.append(key);
  out.push_back('=');
  if (value.find_first_of(",;=\"") == std::string_view::npos) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (const char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

bool appendClientCertElement(std::string& out, const net::TlsInfo* tls, std::string_view own_uri) {
  if (tls == nullptr || !tls->peer_certificate_presented || !tls->peer_certificate_verified) return false;
  const size_t start = out.size();
  if (start > 0) out.push_back(',');  // elements are separated by ','
  bool first = true;
  if (!own_uri.empty() && printable(own_uri)) {
    appendPair(out, first, "By", own_uri);
    first = false;
  }
  bool any_uri = false;
  auto uri = [&](std::string_view v) {
    appendPair(out, first, "URI", v);
    first = false;
    any_uri = true;
  };
  if (!tls->peer_spiffe_id.empty()) {
    uri(tls->peer_spiffe_id);
  } else {
    for (const auto& u : tls->peer_uri_sans)
      if (!u.empty() && printable(u)) uri(u);
  }
  if (!any_uri) {  // a By alone says nothing about the client
    out.resize(start);
    return false;
  }
  return true;
}

void applyForwardClientCert(HeaderMap& h, ForwardClientCert mode, const net::TlsInfo* tls,
                            std::string_view own_uri) {
  switch (mode) {
    case ForwardClientCert::ForwardOnly: return;
    case ForwardClientCert::Sanitize: h.remove(kXfcc); return;
    case ForwardClientCert::SanitizeSet: h.remove(kXfcc); break;
    case ForwardClientCert::AppendForward: break;
  }
  if (tls == nullptr) return;  // plaintext: nothing to add, and the client's (if kept) stays as sent
  // Reused per worker thread: building the value allocates only while it grows.
  thread_local std::string value;
  value.clear();
  if (mode == ForwardClientCert::AppendForward) {
    // Every field the client sent, in order, as one list.
    h.forEach([&](std::string_view name, std::string_view v) {
      if (v.empty() || !equalsIgnoreCase(name, kXfcc)) return;
      if (!value.empty()) value.push_back(',');
      value.append(v);
    });
  }
  if (appendClientCertElement(value, tls, own_uri)) h.set(kXfcc, value);
}

}  // namespace sluice::http
