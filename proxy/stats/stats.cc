#include "proxy/stats/stats.h"

namespace sluice::stats {

const std::vector<StatField<ListenerStats>>& ListenerStats::fields() {
  using S = ListenerStats;
  static const std::vector<StatField<S>> f = {
      {"downstream_cx_total", "Downstream connections accepted", false, &S::downstream_cx_total},
      {"downstream_cx_active", "Downstream connections open", true, &S::downstream_cx_active},
      {"downstream_cx_overflow_total", "Connections refused by max_connections", false, &S::downstream_cx_overflow},
      {"downstream_cx_idle_timeout_total", "Connections closed by the idle timeout", false,
       &S::downstream_cx_idle_timeout},
      {"downstream_cx_drain_closed_total", "Connections closed when a drain timed out", false,
       &S::downstream_cx_drain_closed},
      {"downstream_rx_bytes_total", "Bytes received from downstream", false, &S::downstream_rx_bytes},
      {"downstream_tx_bytes_total", "Bytes sent to downstream", false, &S::downstream_tx_bytes},
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
      {"upstream_rx_bytes_total", "Bytes received from upstream hosts", false, &S::upstream_rx_bytes},
      {"upstream_tx_bytes_total", "Bytes sent to upstream hosts", false, &S::upstream_tx_bytes},
  };
  return f;
}

const std::vector<StatField<HostStats>>& HostStats::fields() {
  using S = HostStats;
  static const std::vector<StatField<S>> f = {
      {"cx_total", "Connections attempted to this host", false, &S::cx_total},
      {"cx_active", "Connections open or connecting to this host", true, &S::cx_active},
      {"cx_connect_fail_total", "Connects to this host that failed or timed out", false, &S::cx_connect_fail},
  };
  return f;
}

}  // namespace sluice::stats
