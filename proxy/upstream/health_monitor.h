#pragma once
// HealthMonitor: the active and passive health of one cluster's hosts, owned
// by the main thread (once per proxy, not per worker) and published to every
// worker through ClusterShared (host flags + health_version).
//
// - Active: a HealthChecker when the cluster has `health_check`. Its
//   checks connect like the workers' data connections: over TLS, through
//   this thread's own View of the cluster's certificate provider, when the
//   cluster has `tls`.
// - Passive: an OutlierDetector when it has `outlier_detection`. Workers
//   report consecutive-failure runs and half-open probe results (posted to
//   the main thread); success-rate and failure-percentage run every
//   `interval` over the per-host request/error counters summed across
//   workers. Ejection ends in half-open: `half_open_max_requests` probe slots
//   are opened, and the first probe's result closes or re-opens the breaker.
//
// Main thread only. Destroying a monitor stops its checks and timers.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "proxy/event/loop.h"
#include "proxy/stats/stats.h"
#include "proxy/tls/certificate_provider.h"
#include "proxy/upstream/cluster_shared.h"
#include "proxy/upstream/health_checker.h"
#include "proxy/upstream/outlier_detector.h"
#include "proxy/util/random.h"

namespace sluice::upstream {

class HealthMonitor {
 public:
  // `endpoints` are those of the cluster's load assignment; `hosts` and
  // `host_stats` are parallel to them and live until exit. `tls` is the
  // cluster's certificate provider (null without `tls`).
  HealthMonitor(event::Loop& loop, const config::ClusterConfig& cc,
                const std::vector<config::EndpointConfig>& endpoints, ClusterShared& shared,
                std::vector<HostShared*> hosts, std::vector<stats::PerWorker<stats::HostStats>*> host_stats,
                std::shared_ptr<const tls::CertificateProvider> tls, util::RandomSource& random);
  ~HealthMonitor();
  // A monitor kept over a reload follows the cluster's provider, which a
  // changed `tls` block replaces: checks that start from now on use it (the
  // one in flight finishes with the old one). Same provider: no-op.
  void useTls(std::shared_ptr<const tls::CertificateProvider> tls);
  // Resets the hosts' published health to healthy/closed and starts checking.
  void start();

  // Events from workers (already on the main thread).
  void onConsecutiveFailures(const std::string& host, EjectCause cause);
  void onProbeResult(const std::string& host, bool success);

  // The parts of the config this monitor was built from, to keep it over a
  // reload that does not change them (`tls` aside: see useTls).
  const std::string& identity() const { return identity_; }
  static std::string identityOf(const config::ClusterConfig& cc, const std::vector<config::EndpointConfig>& endpoints);

  // For /clusters and /metrics.
  struct HostView {
    bool active_healthy = true;
    BreakerState breaker = BreakerState::Closed;
    uint64_t ejections = 0;
    std::optional<EjectCause> last_cause;
    int64_t ejected_ms_left = 0;
    HealthChecker::Counters checks;
  };
  // Per endpoint entry (entries that repeat an address show the same state).
  size_t hostCount() const { return entry_host_.size(); }
  HostView view(size_t entry) const;
  bool hasActiveCheck() const { return checker_ != nullptr; }
  bool hasOutlierDetection() const { return detector_ != nullptr; }

 private:
  std::optional<size_t> indexOf(const std::string& host) const;
  void publish(size_t host, BreakerState state);
  void armExpiry();
  void onExpiry();
  void onInterval();

  event::Loop& loop_;
  config::ClusterConfig config_;
  std::string identity_;
  ClusterShared& shared_;
  // Per distinct address (a repeated endpoint address is one server).
  std::vector<HostShared*> hosts_;
  std::vector<std::string> names_;
  std::vector<size_t> entry_host_;  // endpoint entry -> index into the above
  std::vector<stats::PerWorker<stats::HostStats>*> host_stats_;
  util::RandomSource& random_;
  // The main thread's view of the cluster's provider (Views are per
  // thread); null without `tls`. Declared before checker_, which uses it.
  std::shared_ptr<const tls::CertificateProvider> tls_provider_;
  std::unique_ptr<tls::CertificateProvider::View> tls_view_;
  std::unique_ptr<HealthChecker> checker_;
  std::unique_ptr<OutlierDetector> detector_;
  std::unique_ptr<event::Timer> expiry_timer_;
  std::unique_ptr<event::Timer> interval_timer_;
  // Summed per-host counters at the last look, for deltas.
  std::vector<int64_t> last_total_traffic_;  // for had_traffic
  std::vector<int64_t> last_window_total_;   // for the outlier interval
  std::vector<int64_t> last_window_errors_;
};

}  // namespace sluice::upstream
