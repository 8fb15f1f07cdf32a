#pragma once
// Why an upstream stream ended before its response completed, or never
// started. Pools and connections raise it; the router maps it to a response
// flag and status, and the retry policy to an AttemptFailure. Nothing
// downstream of the pool parses a detail string to learn the cause.

#include <cstdint>
#include <string_view>

namespace sluice::upstream {

enum class StreamResetReason : uint8_t {
  ConnectFailure,         // the connection could not be made (refused, unreachable, TLS handshake failed)
  ConnectTimeout,         // connect_timeout expired before the connection was up
  Overflow,               // the pool's queue or a circuit breaker was full: nothing was tried
  LocalReset,             // this side reset the stream
  RemoteReset,            // the upstream reset the stream (HTTP/2 RST_STREAM) after it may have processed it
  ConnectionTermination,  // the connection closed before the response completed
  ProtocolError,          // the response was malformed
  RefusedStream,          // the upstream refused the stream before processing it (HTTP/2 REFUSED_STREAM)
};

// The short name used as a local reply's details and in the access log
// ("upstream_connect_failure", "upstream_pool_overflow", ...).
std::string_view resetReasonName(StreamResetReason reason);

}  // namespace sluice::upstream
