#pragma once
// Cluster state that must agree across workers: the exact circuit-breaker
// counters, and each host's published health. One ClusterShared per cluster
// name, created by the main thread and kept until exit (like stats scopes),
// so workers hold plain pointers and a reload that keeps a cluster keeps its
// in-flight counts and host health.
//
// Who writes what:
// - Breaker counters: any worker, one atomic read-modify-write to take a slot
//   and one to give it back (principle 5: the few exact atomics).
// - HostShared health fields and ClusterShared::health_version: the main
//   thread only (health checks, outlier detection). Workers read them when
//   health_version moves, which is rare, so the lines stay shared-clean.
// - HostShared consecutive-failure runs: workers, only on failures (a success
//   reads the counter and writes only when it was not already 0).
// - HostShared::probes_left: workers take a half-open probe slot; the main
//   thread refills it when the host turns half-open.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "config/model.h"

namespace sluice::upstream {

// One exact cluster-wide limit. try_acquire either takes a slot or counts
// nothing; callers release exactly the slots they took.
class Breaker {
 public:
  bool tryAcquire(uint32_t limit) {
    if (active_.fetch_add(1, std::memory_order_relaxed) >= static_cast<int64_t>(limit)) {
      active_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void release() { active_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t active() const { return active_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> active_{0};
};

enum class RoutingPriority : uint8_t { Normal = 0, High = 1 };
const char* routingPriorityName(RoutingPriority p);  // "normal" | "high"

struct alignas(64) BreakerGroup {
  Breaker connections;
  Breaker pending;
  Breaker requests;
  Breaker retries;
};

// The limit on concurrent retries right now: with a retry budget,
// max(min_retry_concurrency, budget_percent of the group's active requests,
// pending ones included); without one, the static max_retries. Any thread.
uint32_t retryLimit(const config::CircuitBreakerThresholds& t, const BreakerGroup& g);

// Breaker state of a host as published by the main thread (mirrors
// OutlierDetector's BreakerState: closed, open = ejected, half-open = probing).
enum class HostBreaker : uint8_t { Closed = 0, Open = 1, HalfOpen = 2 };

struct alignas(64) HostShared {
  // Main thread writes; workers read after seeing health_version move.
  std::atomic<bool> active_hc_failed{false};
  std::atomic<uint8_t> breaker{0};  // HostBreaker
  // Half-open probe slots; workers take one per probe request.
  std::atomic<int32_t> probes_left{0};
  // Consecutive-failure runs (workers); a run reaching the threshold is
  // reported to the main thread once (the worker that makes it equal).
  alignas(64) std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_gateway_failure{0};

  HostBreaker breakerState() const { return static_cast<HostBreaker>(breaker.load(std::memory_order_acquire)); }
  // In the balancer: not failed by active checks and not ejected.
  bool usable() const {
    return !active_hc_failed.load(std::memory_order_acquire) && breakerState() != HostBreaker::Open;
  }
  // Takes a half-open probe slot; false when none is left.
  bool tryTakeProbe() {
    int32_t n = probes_left.load(std::memory_order_relaxed);
    while (n > 0) {
      if (probes_left.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }
};

class ClusterShared {
 public:
  BreakerGroup& breakers(RoutingPriority p) { return groups_[static_cast<size_t>(p)]; }
  const BreakerGroup& breakers(RoutingPriority p) const { return groups_[static_cast<size_t>(p)]; }
  // Bumped (release) by the main thread after it changed any host's health.
  std::atomic<uint64_t> health_version{0};
  void publishHealth() { health_version.fetch_add(1, std::memory_order_release); }

  // Main thread only: the host's state, created on first use and kept for
  // the process lifetime (addresses are few and bounded by config).
  HostShared& host(const std::string& address);

 private:
  BreakerGroup groups_[2];
  std::map<std::string, std::unique_ptr<HostShared>> hosts_;
};

}  // namespace sluice::upstream
