#pragma once
// Renders /metrics: sums every worker's stats blocks and writes Prometheus
// text format through prometheus-cpp's serializer. Main thread only.

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/stats/stats.h"

namespace sluice::admin {

// Process-wide values kept by the main thread.
struct ServerValues {
  uint64_t reloads_ok = 0;
  uint64_t reloads_failed = 0;
  uint64_t config_version = 0;
  bool draining = false;
  size_t workers = 0;
  double uptime_seconds = 0;
};

// Upstream health and breaker state, read by the main thread from the health
// monitors and the cluster-wide breaker counters.
struct HostHealthValue {
  std::string cluster;
  std::string host;
  bool healthy = true;               // in the balancer (not failed by checks, not ejected)
  bool active_check_healthy = true;
  const char* breaker = "closed";    // closed | open | half_open
  uint64_t ejections = 0;
  uint64_t checks_ok = 0;
  uint64_t checks_failed = 0;        // timeouts included
  uint64_t checks_timed_out = 0;
};
struct BreakerValue {
  std::string cluster;
  const char* priority;  // normal | high
  const char* resource;  // connections | pending_requests | requests | retries
  int64_t active = 0;
  uint32_t limit = 0;
};
struct UpstreamValues {
  std::vector<HostHealthValue> hosts;
  std::vector<BreakerValue> breakers;
};

// The overload manager's resources (those watched) and actions (all).
struct OverloadResourceValue {
  std::string resource;
  uint64_t used = 0;
  uint64_t max = 0;
  double pressure = 0;  // used / max; may pass 1
};
struct OverloadActionValue {
  std::string action;
  bool active = false;
  uint64_t activations = 0;
};
struct OverloadValues {
  std::vector<OverloadResourceValue> resources;
  std::vector<OverloadActionValue> actions;
};

std::string renderMetrics(const stats::StatsStore& store, const ServerValues& server,
                          const UpstreamValues& upstream = {}, const OverloadValues& overload = {});

}  // namespace sluice::admin
