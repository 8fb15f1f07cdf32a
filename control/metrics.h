#pragma once
// The daemon's own metrics, beside those the ADS server registers in the
// same registry (proxies connected, pushes, push latency, NACKs by type),
// and the registry as Prometheus text for GET /metrics.

#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace sluice::control {

struct DaemonMetrics {
  explicit DaemonMetrics(prometheus::Registry& registry);
  // Edits of control.yaml applied (the first load is not a reload).
  prometheus::Counter& reloads;            // sluice_control_config_reloads_total
  // Edits refused because of an error; the last good config went on serving.
  prometheus::Counter& rejections;         // sluice_control_config_rejections_total
  // Group snapshots published (only the groups an edit changed).
  prometheus::Counter& groups_published;   // sluice_control_groups_published_total
  // Unix time of the config now serving.
  prometheus::Gauge& config_loaded_at;     // sluice_control_config_last_load_timestamp_seconds
};

// Everything in `registry`, in the Prometheus text format.
std::string metricsText(const prometheus::Registry& registry);

}  // namespace sluice::control
