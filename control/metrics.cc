#include "control/metrics.h"

#include <sstream>

#include <prometheus/text_serializer.h>

namespace sluice::control {

DaemonMetrics::DaemonMetrics(prometheus::Registry& registry)
    : reloads(prometheus::BuildCounter()
                  .Name("sluice_control_config_reloads_total")
                  .Help("Edits of the control config applied")
                  .Register(registry)
                  .Add({})),
      rejections(prometheus::BuildCounter()
                     .Name("sluice_control_config_rejections_total")
                     .Help("Edits of the control config refused for errors (the last good config kept serving)")
                     .Register(registry)
                     .Add({})),
      groups_published(prometheus::BuildCounter()
                           .Name("sluice_control_groups_published_total")
                           .Help("Group snapshots published to the ADS server")
                           .Register(registry)
                           .Add({})),
      config_loaded_at(prometheus::BuildGauge()
                           .Name("sluice_control_config_last_load_timestamp_seconds")
                           .Help("Unix time the serving control config was loaded")
                           .Register(registry)
                           .Add({})) {}

std::string metricsText(const prometheus::Registry& registry) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry.Collect());
  return out.str();
}

}  // namespace sluice::control
