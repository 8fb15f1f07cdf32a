#pragma once
// Load balancer contract. One instance per cluster per worker: it holds the
// worker's cursor/state and is never shared between threads, so picking a
// host takes no lock. Policies (round robin, least request, ring hash, ...)
// are one file each behind this interface.

#include <cstdint>
#include <optional>
#include <span>

#include "proxy/upstream/host.h"

namespace sluice::upstream {

// What the caller knows about the pick.
class LbContext {
 public:
  // True for hosts the caller wants to avoid (e.g. already tried for this
  // connection). A policy skips them while any other host is left.
  virtual bool shouldSkip(const Host& host) const = 0;

 protected:
  ~LbContext() = default;
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Index into the cluster's hosts of the chosen one; nullopt when there are none.
  virtual std::optional<size_t> choose(std::span<const Host> hosts, const LbContext* ctx) = 0;
};

}  // namespace sluice::upstream
