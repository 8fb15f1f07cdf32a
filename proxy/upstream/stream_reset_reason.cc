#include "proxy/upstream/stream_reset_reason.h"

namespace sluice::upstream {

std::string_view resetReasonName(StreamResetReason reason) {
  switch (reason) {
    case StreamResetReason::ConnectFailure: return "upstream_connect_failure";
    case StreamResetReason::ConnectTimeout: return "upstream_connect_timeout";
    case StreamResetReason::Overflow: return "upstream_pool_overflow";
    case StreamResetReason::LocalReset: return "upstream_local_reset";
    case StreamResetReason::RemoteReset: return "upstream_remote_reset";
    case StreamResetReason::ConnectionTermination: return "upstream_connection_termination";
    case StreamResetReason::ProtocolError: return "upstream_protocol_error";
    case StreamResetReason::RefusedStream: return "upstream_refused_stream";
    case StreamResetReason::ConnectionDrained: return "upstream_connection_drained";
  }
  return "unknown";
}

}  // namespace sluice::upstream
