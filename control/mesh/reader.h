#pragma once
// Reads control.yaml's `mesh:` block (control/mesh/model.h) and checks it
// whole: every field as it is read, then every reference (a route to an
// unknown service, an endpoint naming an unknown workload, two listeners on
// one address), each error with file:line:col and its path
// ("control.yaml:41:15: mesh.routes[0].rules[1].to[0].service: unknown
// service 'backend' in namespace 'default'").

#include <string>
#include <vector>

#include "config/yaml_reader.h"
#include "control/mesh/model.h"

namespace sluice::control::mesh {

// Reads the mapping `r` (the `mesh:` block; calls r.finish()) into `out`.
// `discovered` (optional): services and workloads from the Kubernetes API
// server, merged in before references are checked (merge.h); the ones the
// file shadows are named in `shadowed`.
void readMesh(config::MapReader& r, Mesh& out, const Mesh* discovered = nullptr,
              std::vector<std::string>* shadowed = nullptr);

}  // namespace sluice::control::mesh
