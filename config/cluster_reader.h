#pragma once
// Reads the `clusters` list (endpoints, load balancing, health checking,
// outlier detection, circuit breakers) into the model. Used by the loader.
// A cluster's inline `endpoints` become a load assignment of their own
// (Config::load_assignments) named after the cluster, which names it back.

#include "config/yaml_reader.h"

namespace sluice::config {

void readClusters(MapReader& top, Config& cfg);
// Names end up in metric labels and admin output, so keep them plain.
void readName(MapReader& r, std::string& out);

}  // namespace sluice::config
