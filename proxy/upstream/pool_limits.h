#pragma once
// What every HttpConnPool of one host (HTTP/1, HTTP/2, auto) does the same
// way with its limits and counters: admitting a request to wait (the pool's
// max_pending_requests and the cluster's pending-request breaker of the
// request's priority), the cluster's connection breaker, and the connection
// counters on the cluster's and the host's stats. Worker thread only.

#include <cstddef>
#include <optional>

#include "proxy/upstream/conn_pool.h"
#include "proxy/stats/stats.h"

namespace sluice::upstream {

// Admits one more request to wait beside `queued` others: the breaker group
// whose pending slot it now holds (null when the cluster has no shared
// breakers), or nullopt when it may not wait (counted as
// upstream_rq_pending_overflow; nothing is held).
std::optional<BreakerGroup*> admitWaiting(const PoolSettings& settings, stats::ClusterStats* cluster_stats,
                                          size_t queued, RoutingPriority priority);

// Takes a slot of the cluster's connection breaker for a new connection;
// false when it is full (counted as upstream_cx_overflow). The slot is held
// by settings.shared, which the connection keeps until it closes.
bool takeConnectionSlot(const PoolSettings& settings, stats::ClusterStats* cluster_stats);
// Gives back the slot `holder` holds, if any, and forgets it.
void releaseConnectionSlot(ClusterShared*& holder);

// A connection opened, closed, or failed to connect: the cluster's and the
// host's counters.
void countConnectionOpened(stats::ClusterStats* cluster_stats, const Host& host);
void countConnectionClosed(stats::ClusterStats* cluster_stats, const Host& host);
void countConnectFailure(stats::ClusterStats* cluster_stats, const Host& host, StreamResetReason why);

// A request the pool cannot take nor make wait.
void failOverflow(PoolCallbacks& callbacks);

}  // namespace sluice::upstream
