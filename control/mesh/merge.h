#pragma once
// The services and workloads discovered from the Kubernetes API server
// (control/kubernetes/), added to the file's mesh before its references are
// checked, so that a file's route or binding may name a discovered service.
//
// The file wins: a discovered service or workload with the namespace/name
// of one in the file is left out, and named in `shadowed` ("service
// prod/backend") for the caller to report. Namespace labels and service
// accounts are taken as discovered.

#include <string>
#include <vector>

#include "control/mesh/model.h"

namespace sluice::control::mesh {

void mergeDiscovered(Mesh& mesh, const Mesh& discovered, std::vector<std::string>* shadowed = nullptr);

}  // namespace sluice::control::mesh
