#include "proxy/upstream/health_checker.h"

#include <algorithm>
#include <cassert>

#include "proxy/upstream/http2_health_probe.h"

namespace sluice::upstream {

// One host's state for the checker's life. A probe callback or OnChange may
// be on the stack when the checker goes, so it outlives the checker until
// the end of the loop turn (see ~HealthChecker); parent_ is null from then on.
class HealthChecker::HostCheck final : public HealthProbeCallbacks, public event::DeferredDeletable {
 public:
  HostCheck(HealthChecker& parent, size_t index, ip::Address address)
      : loop_(parent.loop_),
        parent_(&parent),
        index_(index),
        address_(std::move(address)),
        interval_timer_(loop_.createTimer([this] { startCheck(); })) {}

  void scheduleIn(event::Duration after) { interval_timer_->enable(after); }

  void detach() {
    dropProbe();
    interval_timer_->disable();
    parent_ = nullptr;
  }

  void onProbeDone(ProbeResult result) override {
    // The probe is up the stack: it is freed at the end of the turn.
    loop_.deferredDelete(std::move(probe_));
    finish(result == ProbeResult::Pass, result == ProbeResult::Timeout);
  }

  bool healthy_ = true;
  Counters counters_;

 private:
  void startCheck();
  // Counts the verdict and schedules the next check. May call OnChange,
  // which may destroy the checker: callers return right after.
  void finish(bool pass, bool timed_out);
  void dropProbe() {
    if (!probe_) return;
    probe_->cancel();
    loop_.deferredDelete(std::move(probe_));
  }

  event::Loop& loop_;
  HealthChecker* parent_;
  const size_t index_;
  const ip::Address address_;
  std::unique_ptr<Probe> probe_;  // the check in flight
  bool checked_once_ = false;
  uint32_t consecutive_passes_ = 0;
  uint32_t consecutive_failures_ = 0;
  std::unique_ptr<event::Timer> interval_timer_;
};

void HealthChecker::HostCheck::startCheck() {
  assert(!probe_);
  ++counters_.attempts;
  const ProbeSpec& spec = parent_->spec_;
  if (spec.kind == ProbeSpec::Kind::Http2 || spec.kind == ProbeSpec::Kind::Grpc) {
    probe_ = std::make_unique<Http2HealthProbe>(loop_, spec, address_, parent_->newTransport(), *this);
  } else {
    probe_ = std::make_unique<HealthProbe>(loop_, spec, address_, parent_->newTransport(), *this);
  }
}

void HealthChecker::HostCheck::finish(bool pass, bool timed_out) {
  const config::HealthCheckConfig& cfg = parent_->cfg_;
  ++(pass ? counters_.successes : counters_.failures);
  if (timed_out) ++counters_.timeouts;

  bool flipped = false;
  if (pass) {
    consecutive_failures_ = 0;
    ++consecutive_passes_;
    if (!healthy_ && consecutive_passes_ >= std::max<uint32_t>(1, cfg.healthy_threshold)) flipped = true;
  } else {
    consecutive_passes_ = 0;
    ++consecutive_failures_;
    // Before the first verdict a healthy host is only assumed healthy, so one
    // failure is enough evidence against it.
    if (healthy_ && (!checked_once_ || consecutive_failures_ >= std::max<uint32_t>(1, cfg.unhealthy_threshold)))
      flipped = true;
  }
  checked_once_ = true;
  if (flipped) healthy_ = !healthy_;

  event::Duration wait = cfg.interval;
  if (healthy_ && parent_->had_traffic_ && !parent_->had_traffic_(index_)) wait = cfg.no_traffic_interval;
  const uint64_t jitter_ms = static_cast<uint64_t>(std::max<int64_t>(0, cfg.jitter.count()));
  wait += event::Duration(static_cast<int64_t>(parent_->random_.below(jitter_ms + 1)));
  interval_timer_->enable(wait);

  if (flipped && parent_->on_change_) {
    // A copy: the callback may destroy the checker, and with it on_change_.
    const OnChange on_change = parent_->on_change_;
    on_change(index_, healthy_);
  }
}

HealthChecker::HealthChecker(event::Loop& loop, const config::HealthCheckConfig& cfg, std::string host_header_default,
                             std::vector<ip::Address> hosts, TransportFactory transport, util::RandomSource& random,
                             OnChange on_change, HadTraffic had_traffic)
    : loop_(loop),
      cfg_(cfg),
      spec_(ProbeSpec::fromConfig(cfg, host_header_default)),
      transport_(std::move(transport)),
      random_(random),
      on_change_(std::move(on_change)),
      had_traffic_(std::move(had_traffic)) {
  hosts_.reserve(hosts.size());
  for (size_t i = 0; i < hosts.size(); ++i) hosts_.push_back(std::make_unique<HostCheck>(*this, i, std::move(hosts[i])));
}

HealthChecker::~HealthChecker() {
  // A HostCheck may be the one running (a probe verdict, a timer or
  // OnChange up the stack), so it is freed at the end of the turn rather
  // than now; its probe is cancelled at once.
  for (auto& h : hosts_) {
    h->detach();
    loop_.deferredDelete(std::move(h));
  }
}

std::unique_ptr<net::TransportSocket> HealthChecker::newTransport() const {
  return transport_ ? transport_() : std::make_unique<net::RawTransport>();
}

void HealthChecker::start() {
  const uint64_t interval_ms = static_cast<uint64_t>(std::max<int64_t>(0, cfg_.interval.count()));
  for (auto& h : hosts_) h->scheduleIn(event::Duration(static_cast<int64_t>(random_.below(interval_ms))));
}

bool HealthChecker::healthy(size_t host) const { return hosts_[host]->healthy_; }

const HealthChecker::Counters& HealthChecker::counters(size_t host) const { return hosts_[host]->counters_; }

}  // namespace sluice::upstream
