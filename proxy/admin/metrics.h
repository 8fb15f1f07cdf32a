#pragma once
// Renders /metrics: sums every worker's stats blocks and writes Prometheus
// text format through prometheus-cpp's serializer. Main thread only.

#include <cstdint>
#include <string>

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

std::string renderMetrics(const stats::StatsStore& store, const ServerValues& server);

}  // namespace sluice::admin
