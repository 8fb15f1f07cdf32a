#pragma once
// `sluice-control check -c control.yaml`: what each proxy will get, read
// offline from a valid file (like `istioctl analyze` with the answer
// printed): per mesh sidecar and gateway its node.id, SPIFFE identity,
// listeners (address, protocol, mTLS mode, authorization), and clusters
// (endpoints, the identities they are verified against); per `groups:`
// entry its listeners and clusters. `full` adds each mesh proxy's computed
// sluice YAML.

#include <string>

#include "control/control_config.h"

namespace sluice::control {

std::string checkReport(const ControlConfig& cfg, bool full);

}  // namespace sluice::control
