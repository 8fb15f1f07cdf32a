#pragma once
// Load balancer contract. One instance per priority level of a cluster per
// worker: it holds the worker's cursor, ring or table and is never shared
// between threads, so picking a host takes no lock. Policies are one file
// each behind this interface; makeLoadBalancer() builds the configured one.
//
// The caller (upstream::Cluster) decides which hosts a balancer sees: the
// healthy hosts of one priority level, or all of them in panic mode. It calls
// refresh() whenever that set changes (config swap, health change) and
// choose() per pick. Weights come from Host::weight; least_request reads the
// worker's own active-request count from Host::stats.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "config/model.h"
#include "proxy/upstream/host.h"
#include "proxy/util/random.h"

namespace sluice::upstream {

// What the caller knows about one pick.
class LbContext {
 public:
  // True for hosts the caller wants to avoid (already tried for this request,
  // or out of half-open probe slots). A policy skips them while any member
  // is left that is not skipped; when all are skipped it may return one anyway.
  virtual bool shouldSkip(const Host&) const { return false; }
  // The request's hash key (from the cluster's hash_policy) for ring_hash and
  // maglev; nullopt makes those policies pick at random.
  virtual std::optional<uint64_t> hashKey() const { return std::nullopt; }

 protected:
  ~LbContext() = default;
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Sets the hosts to balance over: `members` are indices into `hosts` (the
  // cluster's whole host list). Both spans stay valid until the next
  // refresh(). May allocate (rings and tables are built here, not per pick).
  // State that still makes sense (cursors) may be kept.
  virtual void refresh(std::span<const Host> hosts, std::span<const uint32_t> members) = 0;
  // Index into `hosts` of the pick; nullopt when there are no members.
  // No allocation.
  virtual std::optional<size_t> choose(const LbContext* ctx) = 0;
};

// The cluster's configured policy (the loader accepts only known names).
std::unique_ptr<LoadBalancer> makeLoadBalancer(const config::ClusterConfig& cluster, util::RandomSource& random);

}  // namespace sluice::upstream
