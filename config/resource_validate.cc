#include "config/resource_validate.h"

namespace sluice::config {

void validateResourceReferences(const Config& cfg, ParseContext& ctx) {
  for (size_t i = 0; i < cfg.clusters.size(); ++i) {
    const ClusterConfig& c = cfg.clusters[i];
    if (cfg.findLoadAssignment(c.load_assignment) == nullptr)
      ctx.missingReference(c.loc, "clusters[" + std::to_string(i) + "]",
                           "unknown load assignment '" + c.load_assignment + "' (the cluster's endpoints)");
  }
}

}  // namespace sluice::config
