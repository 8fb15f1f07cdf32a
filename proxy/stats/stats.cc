#include "proxy/stats/stats.h"

namespace sluice::stats {

const std::vector<StatField<ListenerStats>>& ListenerStats::fields() {
  using S = ListenerStats;
  static const std::vector<StatField<S>> f = {
      {"downstream_cx_total", "Downstream connections accepted", false, &S::downstream_cx_total},
      {"downstream_cx_active", "Downstream connections open", true, &S::downstream_cx_active},
      {"downstream_cx_overflow_total", "Connections refused by max_connections", false, &S::downstream_cx_overflow},
      {"downstream_cx_fd_overflow_total",
       "Connections accepted and closed at once because the process was out of file descriptors", false,
       &S::downstream_cx_fd_overflow},
      {"downstream_cx_idle_timeout_total", "Connections closed by the idle timeout", false,
       &S::downstream_cx_idle_timeout},
      {"downstream_cx_drain_closed_total", "Connections closed when a drain timed out", false,
       &S::downstream_cx_drain_closed},
      {"downstream_rx_bytes_total", "Bytes received from downstream", false, &S::downstream_rx_bytes},
      {"downstream_tx_bytes_total", "Bytes sent to downstream", false, &S::downstream_tx_bytes},
      {"downstream_rq_total", "HTTP requests received", false, &S::downstream_rq_total},
      {"downstream_rq_active", "HTTP requests in flight", true, &S::downstream_rq_active},
      {"downstream_rq_1xx_total", "HTTP responses 1xx", false, &S::downstream_rq_1xx},
      {"downstream_rq_2xx_total", "HTTP responses 2xx", false, &S::downstream_rq_2xx},
      {"downstream_rq_3xx_total", "HTTP responses 3xx", false, &S::downstream_rq_3xx},
      {"downstream_rq_4xx_total", "HTTP responses 4xx", false, &S::downstream_rq_4xx},
      {"downstream_rq_5xx_total", "HTTP responses 5xx", false, &S::downstream_rq_5xx},
      {"downstream_rq_protocol_error_total", "Malformed or over-limit HTTP requests", false,
       &S::downstream_rq_protocol_error},
      {"downstream_rq_timeout_total", "Requests ended by a request-headers or stream-idle timeout", false,
       &S::downstream_rq_timeout},
      {"downstream_rq_idle_timeout_total", "Requests ended by stream_idle_timeout", false,
       &S::downstream_rq_idle_timeout},
      {"downstream_rq_max_duration_reached_total", "Requests ended by max_stream_duration", false,
       &S::downstream_rq_max_duration_reached},
      {"downstream_rq_path_normalized_total", "Requests whose path normalization rewrote (routed and forwarded normalized)", false,
       &S::downstream_rq_path_normalized},
      {"downstream_rq_path_rejected_total", "Requests refused (400) for their path", false,
       &S::downstream_rq_path_rejected},
      {"downstream_rq_path_redirected_total", "Requests redirected (307) to their unescaped path", false,
       &S::downstream_rq_path_redirected},
      {"downstream_rq_overload_shed_total", "Requests answered 503 (flag OL) by the overload manager's shed_requests",
       false, &S::downstream_rq_overload_shed},
      {"downstream_cx_overload_keepalive_disabled_total",
       "Connections told to close after their response by the overload manager's disable_keepalive", false,
       &S::downstream_cx_overload_keepalive_disabled},
      {"downstream_cx_http1_total", "HTTP connections that spoke HTTP/1", false, &S::downstream_cx_http1},
      {"downstream_cx_http2_total", "HTTP connections that spoke HTTP/2", false, &S::downstream_cx_http2},
      {"downstream_h2_rapid_reset_total", "HTTP/2 connections ended for resetting streams too fast (GOAWAY ENHANCE_YOUR_CALM)",
       false, &S::downstream_h2_rapid_reset},
      {"downstream_h2_flood_total",
       "HTTP/2 connections ended for a frame flood (PING, SETTINGS, empty DATA, PRIORITY, WINDOW_UPDATE, unread output)",
       false, &S::downstream_h2_flood},
      {"downstream_h2_header_overflow_total",
       "HTTP/2 header blocks over the size or count limit, or with too many CONTINUATION frames", false,
       &S::downstream_h2_header_overflow},
      {"downstream_h2_protocol_error_total", "HTTP/2 connections ended by a protocol error", false,
       &S::downstream_h2_protocol_error},
      {"downstream_h2_keepalive_timeout_total", "HTTP/2 connections closed for not answering a keepalive PING", false,
       &S::downstream_h2_keepalive_timeout},
      {"downstream_h2_rx_reset_total", "HTTP/2 streams the client reset", false, &S::downstream_h2_rx_reset},
      {"downstream_h2_tx_reset_total", "HTTP/2 streams Sluice reset", false, &S::downstream_h2_tx_reset},
  };
  return f;
}

const std::vector<StatField<ClusterStats>>& ClusterStats::fields() {
  using S = ClusterStats;
  static const std::vector<StatField<S>> f = {
      {"upstream_cx_total", "Upstream connections attempted", false, &S::upstream_cx_total},
      {"upstream_cx_active", "Upstream connections open or connecting", true, &S::upstream_cx_active},
      {"upstream_cx_connect_fail_total", "Upstream connects refused or failed", false, &S::upstream_cx_connect_fail},
      {"upstream_cx_connect_timeout_total", "Upstream connects that timed out", false,
       &S::upstream_cx_connect_timeout},
      {"upstream_cx_connect_attempts_exceeded_total", "Downstreams closed after every connect attempt failed", false,
       &S::upstream_cx_connect_attempts_exceeded},
      {"upstream_cx_none_healthy_total", "Connections with no host to send to", false, &S::upstream_cx_none_healthy},
      {"upstream_cx_original_dst_loop_total",
       "Connections and requests an original_dst cluster refused: addressed to the listener itself (would loop), or "
       "not captured",
       false, &S::upstream_cx_original_dst_loop},
      {"upstream_rq_original_dst_host_invalid_total",
       "Requests whose x-envoy-original-dst-host was not an IP address and port (ignored)", false,
       &S::upstream_rq_original_dst_host_invalid},
      {"upstream_rx_bytes_total", "Bytes received from upstream hosts", false, &S::upstream_rx_bytes},
      {"upstream_tx_bytes_total", "Bytes sent to upstream hosts", false, &S::upstream_tx_bytes},
      {"upstream_rq_total", "HTTP requests sent upstream", false, &S::upstream_rq_total},
      {"upstream_rq_active", "HTTP requests in flight upstream", true, &S::upstream_rq_active},
      {"upstream_rq_1xx_total", "Upstream responses 1xx", false, &S::upstream_rq_1xx},
      {"upstream_rq_2xx_total", "Upstream responses 2xx", false, &S::upstream_rq_2xx},
      {"upstream_rq_3xx_total", "Upstream responses 3xx", false, &S::upstream_rq_3xx},
      {"upstream_rq_4xx_total", "Upstream responses 4xx", false, &S::upstream_rq_4xx},
      {"upstream_rq_5xx_total", "Upstream responses 5xx", false, &S::upstream_rq_5xx},
      {"upstream_rq_timeout_total", "Upstream requests that hit the route timeout", false, &S::upstream_rq_timeout},
      {"upstream_rq_reset_total", "Upstream requests ended by a connection reset or close", false,
       &S::upstream_rq_reset},
      {"upstream_rq_protocol_error_total", "Malformed upstream responses", false, &S::upstream_rq_protocol_error},
      {"upstream_cx_reused_total", "Requests sent on a pooled (reused) connection", false, &S::upstream_cx_reused},
      {"upstream_rq_pending_overflow_total",
       "Requests refused because the pool's queue or the max_pending_requests breaker was full", false,
       &S::upstream_rq_pending_overflow},
      {"upstream_cx_overflow_total", "Connections not made because of the max_connections breaker", false,
       &S::upstream_cx_overflow},
      {"upstream_rq_overflow_total", "Requests refused by the max_requests breaker", false, &S::upstream_rq_overflow},
      {"upstream_rq_retry_overflow_total", "Retries refused by the retry budget or the max_retries breaker", false,
       &S::upstream_rq_retry_overflow},
      {"upstream_rq_retry_total", "Retry attempts started", false, &S::upstream_rq_retry},
      {"upstream_rq_retry_success_total", "Requests that succeeded on a retry", false, &S::upstream_rq_retry_success},
      {"upstream_rq_retry_limit_exceeded_total", "Retriable failures returned because num_retries was used up",
       false, &S::upstream_rq_retry_limit_exceeded},
      {"upstream_rq_retry_backoff_ms_total", "Milliseconds requests waited between attempts", false,
       &S::upstream_rq_retry_backoff_ms},
      {"upstream_rq_per_try_timeout_total", "Attempts ended by per_try_timeout", false,
       &S::upstream_rq_per_try_timeout},
  };
  return f;
}

const std::vector<StatField<RouteStats>>& RouteStats::fields() {
  using S = RouteStats;
  static const std::vector<StatField<S>> f = {
      {"rq_total", "Requests matched to this route", false, &S::rq_total},
      {"rq_1xx_total", "Responses 1xx on this route", false, &S::rq_1xx},
      {"rq_2xx_total", "Responses 2xx on this route", false, &S::rq_2xx},
      {"rq_3xx_total", "Responses 3xx on this route", false, &S::rq_3xx},
      {"rq_4xx_total", "Responses 4xx on this route", false, &S::rq_4xx},
      {"rq_5xx_total", "Responses 5xx on this route", false, &S::rq_5xx},
  };
  return f;
}

const std::vector<StatField<HostStats>>& HostStats::fields() {
  using S = HostStats;
  static const std::vector<StatField<S>> f = {
      {"cx_total", "Connections attempted to this host", false, &S::cx_total},
      {"cx_active", "Connections open or connecting to this host", true, &S::cx_active},
      {"cx_connect_fail_total", "Connects to this host that failed or timed out", false, &S::cx_connect_fail},
      {"rq_total", "Requests sent to this host", false, &S::rq_total},
      {"rq_active", "Requests in flight to this host", true, &S::rq_active},
      {"rq_error_total", "Requests to this host that got a 5xx or a gateway failure", false, &S::rq_error},
  };
  return f;
}

}  // namespace sluice::stats
