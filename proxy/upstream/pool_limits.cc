#include "proxy/upstream/pool_limits.h"

namespace sluice::upstream {

std::optional<BreakerGroup*> admitWaiting(const PoolSettings& settings, stats::ClusterStats* cluster_stats,
                                          size_t queued, RoutingPriority priority) {
  BreakerGroup* group = nullptr;
  bool admitted = queued < settings.max_pending_requests;
  if (admitted && settings.shared) {
    group = &settings.shared->breakers(priority);
    const auto& limits = priority == RoutingPriority::High ? settings.breakers.high : settings.breakers.normal;
    admitted = group->pending.tryAcquire(limits.max_pending_requests);
  }
  if (!admitted) {
    if (cluster_stats) cluster_stats->upstream_rq_pending_overflow.inc();
    return std::nullopt;
  }
  return group;
}

bool takeConnectionSlot(const PoolSettings& settings, stats::ClusterStats* cluster_stats) {
  if (!settings.shared ||
      settings.shared->breakers(RoutingPriority::Normal).connections.tryAcquire(settings.breakers.normal.max_connections))
    return true;
  if (cluster_stats) cluster_stats->upstream_cx_overflow.inc();
  return false;
}

void releaseConnectionSlot(ClusterShared*& holder) {
  if (holder) holder->breakers(RoutingPriority::Normal).connections.release();
  holder = nullptr;
}

void countConnectionOpened(stats::ClusterStats* cluster_stats, const Host& host) {
  if (cluster_stats) {
    cluster_stats->upstream_cx_total.inc();
    cluster_stats->upstream_cx_active.inc();
  }
  if (host.stats) {
    host.stats->cx_total.inc();
    host.stats->cx_active.inc();
  }
}

void countConnectionClosed(stats::ClusterStats* cluster_stats, const Host& host) {
  if (cluster_stats) cluster_stats->upstream_cx_active.dec();
  if (host.stats) host.stats->cx_active.dec();
}

void countConnectFailure(stats::ClusterStats* cluster_stats, const Host& host, StreamResetReason why) {
  if (cluster_stats) {
    (why == StreamResetReason::ConnectTimeout ? cluster_stats->upstream_cx_connect_timeout
                                              : cluster_stats->upstream_cx_connect_fail)
        .inc();
  }
  if (host.stats) host.stats->cx_connect_fail.inc();
}

void failOverflow(PoolCallbacks& callbacks) {
  callbacks.onPoolFailure(StreamResetReason::Overflow, resetReasonName(StreamResetReason::Overflow));
}

}  // namespace sluice::upstream
