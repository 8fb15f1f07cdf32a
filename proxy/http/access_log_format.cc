// AccessLogFormatter: compiled when a snapshot is built, from the same
// split (config/access_log_format.h) that checked the format when the
// config was read; format() runs on the worker at the end of every logged
// stream and appends to the caller's reused line buffer without allocating
// anything else.
#include "proxy/http/access_log.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <iterator>
#include <string>
#include <string_view>

#include "config/access_log_format.h"

namespace sluice::http {
namespace {

enum Token : int {
  kStartTime,
  kMethod,
  kPath,
  kAuthority,
  kStatus,
  kResponseFlags,
  kBytesReceived,
  kBytesSent,
  kDuration,
  kUpstreamHost,
  kUpstreamCluster,
  kRouteName,
  kRequestId,
  kTraceId,
  kDownstreamAddress,
  kDetails,
  kDownstreamPeerUriSan,
  kDownstreamTlsVersion,
  kRequestedServerName,
  kUpstreamRequestAttemptCount,
  kOriginalPath,
  kGrpcStatus,
  kProtocol,
};

// The formatter's ids for config::kAccessLogTokens, in the same order.
static_assert(kProtocol + 1 == std::size(config::kAccessLogTokens),
              "one Token per name in config/access_log_format.h, in order");

constexpr char kHex[] = "0123456789abcdef";

std::string_view protocolName(const StreamInfo& info) { return info.http2 ? "HTTP/2" : "HTTP/1.1"; }

void appendUint(std::string& out, uint64_t v) {
  char buf[20];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void appendPadded(char*& p, unsigned v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  p += width;
}

// RFC 3339, UTC, milliseconds: 2026-11-21T10:00:00.123Z. Pure arithmetic:
// gmtime_r takes glibc's timezone lock, which we keep off the worker.
void appendTime(std::string& out, std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  const int year = static_cast<int>(ymd.year());
  if (year >= 0 && year <= 9999) {
    char buf[4];
    char* p = buf;
    appendPadded(p, static_cast<unsigned>(year), 4);
    out.append(buf, 4);
  } else {
    char buf[12];
    auto r = std::to_chars(buf, buf + sizeof(buf), year);
    out.append(buf, r.ptr);
  }
  char buf[20];
  char* p = buf;
  *p++ = '-';
  appendPadded(p, static_cast<unsigned>(ymd.month()), 2);
  *p++ = '-';
  appendPadded(p, static_cast<unsigned>(ymd.day()), 2);
  *p++ = 'T';
  appendPadded(p, static_cast<unsigned>(hms.hours().count()), 2);
  *p++ = ':';
  appendPadded(p, static_cast<unsigned>(hms.minutes().count()), 2);
  *p++ = ':';
  appendPadded(p, static_cast<unsigned>(hms.seconds().count()), 2);
  *p++ = '.';
  appendPadded(p, static_cast<unsigned>(hms.subseconds().count()), 3);
  *p++ = 'Z';
  out.append(buf, p);
}

// Milliseconds with three decimals ("12.345"). Integer arithmetic, so the
// digits are exact and no locale or floating point formatting is involved.
void appendDurationMs(std::string& out, event::MonoTime start, event::MonoTime end) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(end - start).count();
  const uint64_t v = us > 0 ? static_cast<uint64_t>(us) : 0;  // steady clock: never negative in practice
  appendUint(out, v / 1000);
  char buf[4] = {'.'};
  char* p = buf + 1;
  appendPadded(p, static_cast<unsigned>(v % 1000), 3);
  out.append(buf, 4);
}

// "1.2.3.4:80" / "[::1]:80" like Address::str(), but into `out` without a
// temporary string; "-" for an unset (or non-IP) address.
void appendAddress(std::string& out, const ip::Address& a) {
  char buf[INET6_ADDRSTRLEN + 8];
  const sockaddr* sa = a.sockAddr();
  if (a.family() == AF_INET) {
    if (!inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof(buf))) buf[0] = '\0';
    out.append(buf);
  } else if (a.family() == AF_INET6) {
    if (!inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof(buf))) buf[0] = '\0';
    out.push_back('[');
    out.append(buf);
    out.push_back(']');
  } else {
    out.push_back('-');
    return;
  }
  out.push_back(':');
  appendUint(out, a.port());
}

// Length of the UTF-8 sequence starting at s[i], or 0 if the bytes there are
// not valid UTF-8 (overlong forms, surrogates and code points above U+10FFFF
// are not).
size_t utf8SequenceLength(std::string_view s, size_t i) {
  auto cont = [&](size_t k, unsigned char lo, unsigned char hi) {
    if (i + k >= s.size()) return false;
    const auto c = static_cast<unsigned char>(s[i + k]);
    return c >= lo && c <= hi;
  };
  const auto c = static_cast<unsigned char>(s[i]);
  if (c >= 0xC2 && c <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2, 0x80, 0xBF) ? 3 : 0;
  if (c >= 0xE1 && c <= 0xEF) return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

// A JSON string literal. Request lines come from the network and need not be
// UTF-8; a byte that does not start a valid sequence becomes U+FFFD so every
// line stays parseable by strict JSON readers.
void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes copied as they are
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (size_t n = utf8SequenceLength(s, i)) {
        i += n;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(esc, sizeof(esc));
    } else {
      out.append("\\ufffd");
    }
    run = ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

// A value in a text-format line: "-" when empty; control bytes as \xNN so a
// value can never end the line early or forge another one.
void appendText(std::string& out, std::string_view s) {
  if (s.empty()) {
    out.push_back('-');
    return;
  }
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != 0x7F) continue;
    out.append(s.data() + run, i - run);
    const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xF]};
    out.append(esc, sizeof(esc));
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
}

// Codes come one flag at a time from responseFlagsString(): each fits in the
// small-string buffer, so this allocates nothing however many flags are set.
void appendResponseFlags(std::string& out, uint32_t flags) {
  const size_t start = out.size();
  for (uint32_t bit = 0; bit < 32; ++bit) {
    if (!(flags & (1u << bit))) continue;
    const std::string code = responseFlagsString(1u << bit);
    if (code == "-") continue;  // a bit with no code
    if (out.size() != start) out.push_back(',');
    out.append(code);
  }
  if (out.size() == start) out.push_back('-');
}

// The peer's SPIFFE ID, else its URI SANs joined by commas; empty when none.
// Appended in place: no per-request string is built.
template <class Append>
void appendPeerUriSan(const StreamInfo& info, Append append) {
  if (info.downstream_tls == nullptr) return;
  const net::TlsInfo& t = *info.downstream_tls;
  if (!t.peer_spiffe_id.empty()) {
    append(t.peer_spiffe_id, false);
    return;
  }
  for (size_t i = 0; i < t.peer_uri_sans.size(); ++i) append(t.peer_uri_sans[i], i > 0);
}

void appendJsonTls(std::string& out, const StreamInfo& info) {
  const net::TlsInfo* t = info.downstream_tls;
  out.append(",\"downstream_peer_uri_san\":");
  if (t == nullptr || (t->peer_spiffe_id.empty() && t->peer_uri_sans.empty())) {
    out.append("null");
  } else if (!t->peer_spiffe_id.empty() || t->peer_uri_sans.size() == 1) {
    appendJsonString(out, t->peer_spiffe_id.empty() ? t->peer_uri_sans[0] : t->peer_spiffe_id);
  } else {
    std::string joined;  // rare: several URI SANs and none a SPIFFE ID
    appendPeerUriSan(info, [&](std::string_view s, bool comma) {
      if (comma) joined.push_back(',');
      joined.append(s);
    });
    appendJsonString(out, joined);
  }
  out.append(",\"downstream_tls_version\":");
  if (t == nullptr) {
    out.append("null");
  } else {
    appendJsonString(out, t->version);
  }
  out.append(",\"requested_server_name\":");
  if (t == nullptr || t->sni.empty()) {
    out.append("null");
  } else {
    appendJsonString(out, t->sni);
  }
}

// Kept only when normalization changed the path; else it is the path.
std::string_view originalPath(const StreamInfo& info) {
  return info.original_path.empty() ? std::string_view(info.path) : std::string_view(info.original_path);
}

void appendJson(std::string& out, const StreamInfo& info) {
  out.append("{\"time\":\"");
  appendTime(out, info.start_wall);
  out.append("\",\"method\":");
  appendJsonString(out, info.method);
  out.append(",\"path\":");
  appendJsonString(out, info.path);
  out.append(",\"original_path\":");
  appendJsonString(out, originalPath(info));
  out.append(",\"authority\":");
  appendJsonString(out, info.authority);
  out.append(",\"status\":");
  appendUint(out, static_cast<uint64_t>(std::max(info.status, 0)));
  out.append(",\"response_flags\":\"");
  appendResponseFlags(out, info.response_flags);  // codes need no escaping
  out.append("\",\"bytes_received\":");
  appendUint(out, info.request_body_bytes);
  out.append(",\"bytes_sent\":");
  appendUint(out, info.response_body_bytes);
  out.append(",\"duration_ms\":");
  if (info.end) {
    appendDurationMs(out, info.start, *info.end);
  } else {
    out.append("null");
  }
  out.append(",\"protocol\":\"");
  out.append(protocolName(info));
  out.append("\"");
  if (info.grpc_status >= 0) {
    out.append(",\"grpc_status\":");
    appendUint(out, static_cast<uint64_t>(info.grpc_status));
  }
  out.append(",\"upstream_host\":");
  appendJsonString(out, info.upstream_host);
  out.append(",\"upstream_cluster\":");
  appendJsonString(out, info.upstream_cluster);
  out.append(",\"upstream_request_attempt_count\":");
  appendUint(out, info.upstream_request_attempt_count);
  out.append(",\"route\":");
  appendJsonString(out, info.route_name);
  out.append(",\"request_id\":");
  appendJsonString(out, info.request_id);
  out.append(",\"trace_id\":");
  appendJsonString(out, info.trace_id);
  out.append(",\"downstream_address\":\"");
  appendAddress(out, info.downstream_address);  // digits, dots, colons, brackets only
  out.append("\",\"details\":");
  appendJsonString(out, info.details);
  appendJsonTls(out, info);
  out.push_back('}');
}

void appendToken(std::string& out, int token, const StreamInfo& info) {
  switch (static_cast<Token>(token)) {
    case kStartTime: appendTime(out, info.start_wall); return;
    case kMethod: appendText(out, info.method); return;
    case kPath: appendText(out, info.path); return;
    case kOriginalPath: appendText(out, originalPath(info)); return;
    case kAuthority: appendText(out, info.authority); return;
    case kStatus:
      if (info.status > 0) {
        appendUint(out, static_cast<uint64_t>(info.status));
      } else {
        out.push_back('-');
      }
      return;
    case kResponseFlags: appendResponseFlags(out, info.response_flags); return;
    case kBytesReceived: appendUint(out, info.request_body_bytes); return;
    case kBytesSent: appendUint(out, info.response_body_bytes); return;
    case kDuration:
      if (info.end) {
        appendDurationMs(out, info.start, *info.end);
      } else {
        out.push_back('-');
      }
      return;
    case kUpstreamHost: appendText(out, info.upstream_host); return;
    case kGrpcStatus:
      if (info.grpc_status >= 0) {
        appendUint(out, static_cast<uint64_t>(info.grpc_status));
      } else {
        out.push_back('-');
      }
      return;
    case kProtocol: out.append(protocolName(info)); return;
    case kUpstreamCluster: appendText(out, info.upstream_cluster); return;
    case kUpstreamRequestAttemptCount: appendUint(out, info.upstream_request_attempt_count); return;
    case kRouteName: appendText(out, info.route_name); return;
    case kRequestId: appendText(out, info.request_id); return;
    case kTraceId: appendText(out, info.trace_id); return;
    case kDownstreamAddress: appendAddress(out, info.downstream_address); return;
    case kDetails: appendText(out, info.details); return;
    case kDownstreamPeerUriSan: {
      const size_t before = out.size();
      appendPeerUriSan(info, [&](std::string_view s, bool comma) {
        if (comma) out.push_back(',');
        appendText(out, s);
      });
      if (out.size() == before) out.push_back('-');
      return;
    }
    case kDownstreamTlsVersion:
      appendText(out, info.downstream_tls ? std::string_view(info.downstream_tls->version) : std::string_view());
      return;
    case kRequestedServerName:
      appendText(out, info.downstream_tls ? std::string_view(info.downstream_tls->sni) : std::string_view());
      return;
  }
}

}  // namespace

std::shared_ptr<const AccessLogFormatter> AccessLogFormatter::create(const std::string& format, std::string* error) {
  const auto parsed = config::parseAccessLogFormat(format, error);
  if (!parsed) return nullptr;
  auto f = std::make_shared<AccessLogFormatter>();
  f->json_ = parsed->json;
  for (const auto& p : parsed->pieces) f->pieces_.push_back({p.literal, p.text, static_cast<int>(p.token)});
  return f;
}

void AccessLogFormatter::format(const StreamInfo& info, std::string& out) const {
  if (json_) {
    appendJson(out, info);
    return;
  }
  for (const Piece& p : pieces_) {
    if (p.literal) {
      out.append(p.text);
    } else {
      appendToken(out, p.token, info);
    }
  }
}

}  // namespace sluice::http
