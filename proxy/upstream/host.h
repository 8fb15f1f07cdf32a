#pragma once
// A host of a cluster as one worker sees it. A plain value: callers copy it
// for the life of a connection attempt, so a config swap that rebuilds the
// cluster's host list never leaves anyone holding a dangling host.

#include <cstdint>
#include <string>

#include "ip/address.h"
#include "proxy/stats/stats.h"

namespace sluice::upstream {

struct HostShared;

struct Host {
  ip::Address address;
  uint32_t weight = 1;
  stats::HostStats* stats = nullptr;  // this worker's block; lives until exit
  std::string name;                   // address.str(), computed once per config
  uint32_t priority = 0;
  HostShared* shared = nullptr;       // cross-worker health state; lives until exit
};

}  // namespace sluice::upstream
