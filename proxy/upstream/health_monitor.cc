#include "proxy/upstream/health_monitor.h"

#include <algorithm>

#include "config/config_json.h"
#include "proxy/upstream/upstream_transport.h"

namespace sluice::upstream {

std::string HealthMonitor::identityOf(const config::ClusterConfig& cc,
                                      const std::vector<config::EndpointConfig>& endpoints) {
  // Addresses only: a weight or priority change must not restart checks or
  // forget ejections.
  const auto j = config::toJson(cc);
  nlohmann::json addresses = nlohmann::json::array();
  for (const auto& ep : endpoints) addresses.push_back(ep.address.str());
  nlohmann::json id = {{"endpoints", std::move(addresses)}};
  if (j.contains("health_check")) id["health_check"] = j["health_check"];
  if (j.contains("outlier_detection")) id["outlier_detection"] = j["outlier_detection"];
  return id.dump();
}

HealthMonitor::HealthMonitor(event::Loop& loop, const config::ClusterConfig& cc,
                             const std::vector<config::EndpointConfig>& endpoints, ClusterShared& shared,
                             std::vector<HostShared*> hosts,
                             std::vector<stats::PerWorker<stats::HostStats>*> host_stats,
                             std::shared_ptr<const tls::CertificateProvider> tls, util::RandomSource& random)
    : loop_(loop),
      config_(cc),
      identity_(identityOf(cc, endpoints)),
      shared_(shared),
      random_(random) {
  useTls(std::move(tls));
  // A repeated address is one server: checked, detected and counted once.
  for (size_t e = 0; e < endpoints.size(); ++e) {
    const std::string name = endpoints[e].address.str();
    auto it = std::find(names_.begin(), names_.end(), name);
    if (it == names_.end()) {
      names_.push_back(name);
      hosts_.push_back(hosts[e]);
      host_stats_.push_back(host_stats[e]);
      it = names_.end() - 1;
    }
    entry_host_.push_back(static_cast<size_t>(it - names_.begin()));
  }
  last_total_traffic_.assign(hosts_.size(), 0);
  last_window_total_.assign(hosts_.size(), 0);
  last_window_errors_.assign(hosts_.size(), 0);
  if (config_.health_check) {
    std::vector<ip::Address> addrs;
    for (const auto& name : names_) addrs.push_back(*ip::Address::parse(name));
    // A probe offers only the protocol it speaks: an HTTP/1 check of a
    // `protocol: auto` cluster must not be answered in h2.
    const auto& hc = *config_.health_check;
    std::string alpn;
    if (hc.grpc || (hc.http && hc.http->codec == config::HealthCheckConfig::Codec::Http2)) {
      alpn.assign("\x02h2", 3);
    } else if (hc.http) {
      alpn.assign("\x08http/1.1", 9);
    }
    checker_ = std::make_unique<HealthChecker>(
        loop_, hc, config_.name, std::move(addrs),
        [this, alpn = std::move(alpn)] { return makeUpstreamTransport(tls_view_.get(), alpn); }, random_,
        [this](size_t i, bool healthy) {
          hosts_[i]->active_hc_failed.store(!healthy, std::memory_order_release);
          shared_.publishHealth();
        },
        [this](size_t i) {
          const int64_t total = host_stats_[i]->sum(&stats::HostStats::rq_total);
          const bool had = total != last_total_traffic_[i];
          last_total_traffic_[i] = total;
          return had;
        });
  }
  if (config_.outlier_detection) {
    detector_ = std::make_unique<OutlierDetector>(*config_.outlier_detection, hosts_.size());
    expiry_timer_ = loop_.createTimer([this] { onExpiry(); });
    interval_timer_ = loop_.createTimer([this] { onInterval(); });
  }
}

HealthMonitor::~HealthMonitor() = default;

void HealthMonitor::useTls(std::shared_ptr<const tls::CertificateProvider> tls) {
  if (tls == tls_provider_) return;
  tls_view_ = tls ? std::make_unique<tls::CertificateProvider::View>(tls) : nullptr;
  tls_provider_ = std::move(tls);
}

void HealthMonitor::start() {
  for (size_t i = 0; i < hosts_.size(); ++i) {
    HostShared& h = *hosts_[i];
    h.active_hc_failed.store(false, std::memory_order_relaxed);
    h.breaker.store(static_cast<uint8_t>(HostBreaker::Closed), std::memory_order_relaxed);
    h.probes_left.store(0, std::memory_order_relaxed);
    h.consecutive_5xx.store(0, std::memory_order_relaxed);
    h.consecutive_gateway_failure.store(0, std::memory_order_relaxed);
    last_window_total_[i] = host_stats_[i]->sum(&stats::HostStats::rq_total);
    last_window_errors_[i] = host_stats_[i]->sum(&stats::HostStats::rq_error);
    last_total_traffic_[i] = last_window_total_[i];
  }
  shared_.publishHealth();
  if (checker_) checker_->start();
  // Always: besides the two rate detectors, each interval lets recovered
  // hosts earn back shorter ejections.
  if (interval_timer_) interval_timer_->enable(config_.outlier_detection->interval);
}

std::optional<size_t> HealthMonitor::indexOf(const std::string& host) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == host) return i;
  return std::nullopt;
}

void HealthMonitor::publish(size_t i, BreakerState state) {
  HostShared& h = *hosts_[i];
  HostBreaker b = HostBreaker::Closed;
  if (state == BreakerState::Open) b = HostBreaker::Open;
  if (state == BreakerState::HalfOpen) b = HostBreaker::HalfOpen;
  // Slots before the state: a worker that sees half-open finds them ready.
  h.probes_left.store(b == HostBreaker::HalfOpen ? static_cast<int32_t>(config_.outlier_detection->half_open_max_requests)
                                                 : 0,
                      std::memory_order_relaxed);
  if (b != HostBreaker::Closed) {
    // A new run starts after ejection and after the host comes back.
    h.consecutive_5xx.store(0, std::memory_order_relaxed);
    h.consecutive_gateway_failure.store(0, std::memory_order_relaxed);
  }
  h.breaker.store(static_cast<uint8_t>(b), std::memory_order_release);
  shared_.publishHealth();
}

void HealthMonitor::onConsecutiveFailures(const std::string& host, EjectCause cause) {
  if (!detector_) return;
  const auto i = indexOf(host);
  if (!i) return;
  if (detector_->reportConsecutive(*i, cause, loop_.now())) {
    publish(*i, BreakerState::Open);
    armExpiry();
  } else if (detector_->state(*i) == BreakerState::Closed) {
    // Not ejected (the max_ejection_percent limit): let the next run report again.
    hosts_[*i]->consecutive_5xx.store(0, std::memory_order_relaxed);
    hosts_[*i]->consecutive_gateway_failure.store(0, std::memory_order_relaxed);
  }
}

void HealthMonitor::onProbeResult(const std::string& host, bool success) {
  if (!detector_) return;
  const auto i = indexOf(host);
  if (!i || detector_->state(*i) != BreakerState::HalfOpen) return;
  publish(*i, detector_->probeResult(*i, success, loop_.now()));
  armExpiry();
}

void HealthMonitor::armExpiry() {
  const auto next = detector_->nextExpiry();
  if (next) {
    expiry_timer_->enableAt(*next);
  } else {
    expiry_timer_->disable();
  }
}

void HealthMonitor::onExpiry() {
  for (size_t i : detector_->expire(loop_.now())) publish(i, BreakerState::HalfOpen);
  armExpiry();
}

void HealthMonitor::onInterval() {
  std::vector<OutlierDetector::Window> windows(hosts_.size());
  for (size_t i = 0; i < hosts_.size(); ++i) {
    const int64_t total = host_stats_[i]->sum(&stats::HostStats::rq_total);
    const int64_t errors = host_stats_[i]->sum(&stats::HostStats::rq_error);
    // Requests still in flight count once they end; clamp so failures never exceed requests.
    const int64_t req = std::max<int64_t>(0, total - last_window_total_[i]);
    const int64_t err = std::clamp<int64_t>(errors - last_window_errors_[i], 0, req);
    windows[i] = {static_cast<uint64_t>(req), static_cast<uint64_t>(err)};
    last_window_total_[i] = total;
    last_window_errors_[i] = errors;
  }
  for (size_t i : detector_->evaluate(windows, loop_.now())) publish(i, BreakerState::Open);
  armExpiry();
  interval_timer_->enable(config_.outlier_detection->interval);
}

HealthMonitor::HostView HealthMonitor::view(size_t entry) const {
  const size_t i = entry_host_[entry];
  HostView v;
  if (checker_) {
    v.active_healthy = checker_->healthy(i);
    v.checks = checker_->counters(i);
  }
  if (detector_) {
    v.breaker = detector_->state(i);
    v.ejections = detector_->ejectionsTotal(i);
    v.last_cause = detector_->lastCause(i);
    if (v.breaker == BreakerState::Open)
      v.ejected_ms_left =
          std::chrono::duration_cast<std::chrono::milliseconds>(detector_->ejectedUntil(i) - loop_.now()).count();
  }
  return v;
}

}  // namespace sluice::upstream
