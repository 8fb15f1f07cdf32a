#pragma once
// Passive health for one cluster: per host, the state machine that is also
// the host's circuit breaker.
//
//   Closed --eject--> Open --ejection time over (expire)--> HalfOpen
//   HalfOpen --probe success--> Closed
//   HalfOpen --probe failure--> Open again, for longer
//
// Threading: owned and called only by the main thread, one per cluster with
// outlier_detection configured. Workers count per-host results and post them
// here (a consecutive-failure threshold reached, per-interval request and
// failure counts, probe outcomes); the main thread publishes the resulting
// states back to the workers. Pure: no timers, no clock reads. The caller
// passes "now", calls evaluate() every `interval`, and arms one timer for
// nextExpiry() to call expire().
//
// How many probe requests a HalfOpen host admits (half_open_max_requests) is
// the workers' business: only the first probeResult() after a host turns
// HalfOpen counts, later ones are ignored.
//
// The host list is fixed at construction and hosts are indices into it.
//
// Ejection time = base_ejection_time * multiplier, capped at
// max_ejection_time. Every ejection (a probe failure included) increments the
// multiplier first; each evaluate() in which a Closed host was not ejected
// decrements it, so a host that recovered earns back short ejections.
//
// max_ejection_percent: a host may be ejected while the hosts not Closed
// (Open and HalfOpen) after it are <= hosts * max_ejection_percent / 100, or
// when none is. HalfOpen hosts count because a failed probe re-opens them
// without asking the limit.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "config/model.h"
#include "proxy/event/timer.h"

namespace sluice::upstream {

enum class BreakerState : uint8_t { Closed, Open, HalfOpen };
enum class EjectCause : uint8_t { Consecutive5xx, ConsecutiveGatewayFailure, SuccessRate, FailurePercentage };

const char* breakerStateName(BreakerState state);  // "closed" | "open" | "half_open"
const char* ejectCauseName(EjectCause cause);      // "consecutive_5xx" | "consecutive_gateway_failure" | ...

class OutlierDetector {
 public:
  OutlierDetector(const config::OutlierDetectionConfig& cfg, size_t hosts);

  // A worker saw a host's consecutive-failure counter reach the configured
  // threshold (cause is Consecutive5xx or ConsecutiveGatewayFailure). Ejects
  // the host unless it is not Closed, that detector is off (threshold 0), or
  // max_ejection_percent forbids. Returns true when it ejected.
  bool reportConsecutive(size_t host, EjectCause cause, event::MonoTime now);

  // One interval's per-host counts: deltas since the last evaluate(), failures <= requests.
  struct Window {
    uint64_t requests = 0;
    uint64_t failures = 0;
  };
  // Runs the success-rate and failure-percentage detectors (those configured)
  // over Closed hosts and ejects the outliers, worst success rate first, until
  // max_ejection_percent stops it; then decays multipliers. `windows` has one
  // entry per host. Returns the hosts ejected.
  std::vector<size_t> evaluate(std::span<const Window> windows, event::MonoTime now);

  // Moves Open hosts whose ejection time has ended to HalfOpen; returns them.
  std::vector<size_t> expire(event::MonoTime now);
  // Earliest time expire() has work; nullopt when no host is Open.
  std::optional<event::MonoTime> nextExpiry() const;

  // A HalfOpen host's probe request finished. Ignored (state unchanged)
  // unless the host is HalfOpen. Returns the host's state after the call.
  BreakerState probeResult(size_t host, bool success, event::MonoTime now);

  BreakerState state(size_t host) const { return hosts_[host].state; }
  // The multiplier the last ejection used; the next one uses this + 1. Stops
  // growing once base * multiplier reaches max_ejection_time, so a host that
  // failed for hours does not need hours of clean intervals to earn it back.
  uint32_t multiplier(size_t host) const { return hosts_[host].multiplier; }
  uint64_t ejectionsTotal(size_t host) const { return hosts_[host].ejections; }
  std::optional<EjectCause> lastCause(size_t host) const { return hosts_[host].last_cause; }
  // Meaningful while Open; otherwise when the last ejection ended.
  event::MonoTime ejectedUntil(size_t host) const { return hosts_[host].ejected_until; }
  size_t openCount() const { return open_; }
  size_t hostCount() const { return hosts_.size(); }

 private:
  struct HostState {
    BreakerState state = BreakerState::Closed;
    uint32_t multiplier = 0;
    uint64_t ejections = 0;
    std::optional<EjectCause> last_cause;
    event::MonoTime ejected_until{};
    bool ejected_this_interval = false;
  };

  bool mayEject() const;
  void eject(size_t host, EjectCause cause, event::MonoTime now);

  config::OutlierDetectionConfig cfg_;
  uint32_t max_multiplier_;
  std::vector<HostState> hosts_;
  size_t open_ = 0;
  size_t not_closed_ = 0;  // Open + HalfOpen
};

}  // namespace sluice::upstream
