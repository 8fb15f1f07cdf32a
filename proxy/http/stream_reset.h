#pragma once
// Why a stream ended before both its messages completed, or (upstream)
// never started. One enum for both sides of the proxy: a server codec
// reports it for the streams it carries (the peer reset one, broke the
// protocol on one, or the connection went); pools report it for upstream
// streams (proxy/upstream/conn_pool.h), where the retry policy maps it to an
// AttemptFailure; the owner of a stream gives it when it resets one itself.

#include <cstdint>
#include <string_view>

namespace sluice::http {

enum class StreamResetReason : uint8_t {
  ConnectFailure,         // upstream: the connection could not be made (refused, unreachable, TLS handshake failed)
  ConnectTimeout,         // upstream: connect_timeout expired before the connection was up
  Overflow,               // upstream: the pool's queue or a circuit breaker was full; nothing was tried
  LocalReset,             // this side ended the stream (a filter, a timeout, a body over a limit)
  RemoteReset,            // the peer ended the stream and not the connection (HTTP/2 RST_STREAM)
  RefusedStream,          // the peer refused the stream before processing it (HTTP/2): safe to retry
  ProtocolError,          // the peer broke the protocol on this stream
  ConnectionTermination,  // the connection closed or failed under the stream
  ConnectionDrained,      // the connection stopped at its drain timeout (goAway()) with the stream open
};

constexpr std::string_view streamResetReasonName(StreamResetReason r) {
  switch (r) {
    case StreamResetReason::ConnectFailure: return "connect_failure";
    case StreamResetReason::ConnectTimeout: return "connect_timeout";
    case StreamResetReason::Overflow: return "overflow";
    case StreamResetReason::LocalReset: return "local_reset";
    case StreamResetReason::RemoteReset: return "remote_reset";
    case StreamResetReason::RefusedStream: return "refused_stream";
    case StreamResetReason::ProtocolError: return "protocol_error";
    case StreamResetReason::ConnectionTermination: return "connection_termination";
    case StreamResetReason::ConnectionDrained: return "connection_drained";
  }
  return "unknown";
}

}  // namespace sluice::http
