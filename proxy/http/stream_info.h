#pragma once
// StreamInfo: what happened to one request, filled in as it goes and read
// by the access log and metrics when the stream ends.

#include <cstdint>
#include <optional>
#include <string>

#include "proxy/event/timer.h"
#include "ip/address.h"
#include "proxy/net/transport_socket.h"
#include "proxy/util/inline_string.h"

namespace sluice::http {

// Why a request did not end as a plain proxied response. Names follow
// Envoy's access-log short codes so operators can read both.
enum class ResponseFlag : uint32_t {
  None = 0,
  NoRoute = 1 << 0,                     // NR: no route matched (404)
  NoClusterFound = 1 << 1,              // NC: route names a missing cluster (503)
  NoHealthyUpstream = 1 << 2,           // UH: cluster has no host (503)
  UpstreamConnectionFailure = 1 << 3,   // UF: connect refused/timed out (503)
  UpstreamRequestTimeout = 1 << 4,      // UT: route timeout (504)
  UpstreamConnectionTermination = 1 << 5,  // UC: upstream closed/reset mid-request (502 or reset)
  UpstreamProtocolError = 1 << 6,       // UPE: malformed response (502)
  UpstreamOverflow = 1 << 7,            // UO: pool/circuit limit (503)
  DownstreamConnectionTermination = 1 << 8,  // DC: client went away
  DownstreamProtocolError = 1 << 9,     // DPE: malformed request (400/413/414/431)
  RequestHeadersTimeout = 1 << 10,      // RHT: headers not received in time (408)
  StreamIdleTimeout = 1 << 11,          // SI: no bytes either way for stream_idle_timeout
  FaultInjected = 1 << 12,              // FI: fault filter aborted the request
  DelayInjected = 1 << 13,              // DI: fault filter delayed the request
  LocalReply = 1 << 14,                 // a filter answered (direct response, redirect)
  RateLimited = 1 << 15,                // RL: a rate-limit filter answered 429
  UpstreamRetryLimitExceeded = 1 << 16,  // URX: the last attempt failed and no retry was left (or allowed)
  UpstreamPerTryTimeout = 1 << 17,      // UPT: an attempt timed out (per_try_timeout)
  DurationTimeout = 1 << 18,            // DT: max_stream_duration reached
  AuthzDenied = 1 << 19,                // AZ: the authz filter denied the request (403)
  Overload = 1 << 20,                   // OL: the overload manager shed the request (503)
};

inline ResponseFlag operator|(ResponseFlag a, ResponseFlag b) {
  return static_cast<ResponseFlag>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b));
}

// "UF,UT" style; "-" for none.
std::string responseFlagsString(uint32_t flags);

struct StreamInfo {
  event::MonoTime start{};
  std::chrono::system_clock::time_point start_wall{};
  std::optional<event::MonoTime> end;
  uint32_t response_flags = 0;
  int status = 0;  // response status sent downstream; 0 = none
  bool http2 = false;    // the downstream spoke HTTP/2
  bool grpc = false;     // the request is gRPC (proxy/http/grpc.h)
  int grpc_status = -1;  // from the response's headers or trailers; -1 = none
  // The request's grpc-timeout set its deadline (the router): a timeout is
  // DEADLINE_EXCEEDED, not UNAVAILABLE.
  bool grpc_deadline = false;
  uint64_t request_body_bytes = 0;
  uint64_t response_body_bytes = 0;
  std::string upstream_host;   // "ip:port" of the host that answered
  std::string upstream_cluster;
  // Upstream tries made (1 + retries); 0 when none was (a local reply).
  uint32_t upstream_request_attempt_count = 0;
  std::string route_name;
  const void* route_key = nullptr;  // the matched Route, for per-route stats
  util::InlineString<64> request_id;
  util::InlineString<32> trace_id;
  std::string details;  // why a local reply was sent ("upstream_connect_timeout", ...)
  // Request line facts, copied only when an access log needs them.
  std::string method;
  std::string path;  // as routed and forwarded: normalized (proxy/http/path_normalizer.h)
  // The :path as received, only when normalization changed or refused it;
  // empty means it was `path`.
  std::string original_path;
  std::string authority;
  ip::Address downstream_address;
  // The downstream connection's TLS handshake results (peer SPIFFE ID, SNI,
  // version), owned by the connection, which outlives its streams; null for
  // plaintext. A pointer: nothing is copied per request.
  const net::TlsInfo* downstream_tls = nullptr;

  void setFlag(ResponseFlag f) { response_flags |= static_cast<uint32_t>(f); }
  bool hasFlag(ResponseFlag f) const { return response_flags & static_cast<uint32_t>(f); }
  void reset() { *this = StreamInfo{}; }
};

}  // namespace sluice::http
