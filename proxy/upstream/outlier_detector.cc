#include "proxy/upstream/outlier_detector.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace sluice::upstream {
namespace {

struct Candidate {
  size_t host;
  double success_rate;
  EjectCause cause;
};

// Hosts eligible for a statistical detector this interval.
std::vector<size_t> qualified(std::span<const OutlierDetector::Window> windows,
                              const OutlierDetector& detector, uint64_t request_volume) {
  std::vector<size_t> out;
  for (size_t i = 0; i < windows.size(); ++i) {
    assert(windows[i].failures <= windows[i].requests);
    // requests > 0 too: with request_volume 0 an idle host has no rate at all.
    if (detector.state(i) == BreakerState::Closed && windows[i].requests > 0 &&
        windows[i].requests >= request_volume) {
      out.push_back(i);
    }
  }
  return out;
}

double successRate(const OutlierDetector::Window& w) {
  return 1.0 - static_cast<double>(w.failures) / static_cast<double>(w.requests);
}

}  // namespace

const char* breakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::Closed: return "closed";
    case BreakerState::Open: return "open";
    case BreakerState::HalfOpen: return "half_open";
  }
  return "unknown";
}

const char* ejectCauseName(EjectCause cause) {
  switch (cause) {
    case EjectCause::Consecutive5xx: return "consecutive_5xx";
    case EjectCause::ConsecutiveGatewayFailure: return "consecutive_gateway_failure";
    case EjectCause::SuccessRate: return "success_rate";
    case EjectCause::FailurePercentage: return "failure_percentage";
  }
  return "unknown";
}

OutlierDetector::OutlierDetector(const config::OutlierDetectionConfig& cfg, size_t hosts)
    : cfg_(cfg), hosts_(hosts) {
  const int64_t base = cfg_.base_ejection_time.count();
  const int64_t max = cfg_.max_ejection_time.count();
  // The smallest multiplier whose ejection time already reaches the cap.
  max_multiplier_ = base <= 0 ? 1 : static_cast<uint32_t>(std::max<int64_t>(1, (max + base - 1) / base));
}

bool OutlierDetector::mayEject() const {
  if (not_closed_ == 0) return true;
  return not_closed_ + 1 <= hosts_.size() * cfg_.max_ejection_percent / 100;
}

void OutlierDetector::eject(size_t host, EjectCause cause, event::MonoTime now) {
  HostState& h = hosts_[host];
  assert(h.state != BreakerState::Open);
  if (h.state == BreakerState::Closed) ++not_closed_;
  h.state = BreakerState::Open;
  ++open_;
  h.multiplier = std::min(h.multiplier + 1, max_multiplier_);
  ++h.ejections;
  h.last_cause = cause;
  h.ejected_until = now + std::min(cfg_.base_ejection_time * h.multiplier, cfg_.max_ejection_time);
  h.ejected_this_interval = true;
}

bool OutlierDetector::reportConsecutive(size_t host, EjectCause cause, event::MonoTime now) {
  assert(host < hosts_.size());
  assert(cause == EjectCause::Consecutive5xx || cause == EjectCause::ConsecutiveGatewayFailure);
  const uint32_t threshold =
      cause == EjectCause::Consecutive5xx ? cfg_.consecutive_5xx : cfg_.consecutive_gateway_failure;
  if (threshold == 0) return false;
  if (hosts_[host].state != BreakerState::Closed || !mayEject()) return false;
  eject(host, cause, now);
  return true;
}

std::vector<size_t> OutlierDetector::evaluate(std::span<const Window> windows, event::MonoTime now) {
  assert(windows.size() == hosts_.size());
  std::vector<Candidate> candidates;

  if (cfg_.success_rate) {
    const auto& sr = *cfg_.success_rate;
    const std::vector<size_t> hosts = qualified(windows, *this, sr.request_volume);
    if (!hosts.empty() && hosts.size() >= sr.minimum_hosts) {
      double sum = 0;
      for (size_t i : hosts) sum += successRate(windows[i]);
      const double mean = sum / hosts.size();
      double squares = 0;
      for (size_t i : hosts) squares += (successRate(windows[i]) - mean) * (successRate(windows[i]) - mean);
      const double stdev = std::sqrt(squares / hosts.size());
      // The slack keeps rounding in the mean from ejecting hosts when all
      // rates are equal (stdev 0), where none is an outlier.
      const double threshold = mean - sr.stdev_factor * stdev - 1e-9;
      for (size_t i : hosts) {
        const double rate = successRate(windows[i]);
        if (rate < threshold) candidates.push_back({i, rate, EjectCause::SuccessRate});
      }
    }
  }

  if (cfg_.failure_percentage && cfg_.failure_percentage->threshold > 0) {
    const auto& fp = *cfg_.failure_percentage;
    const std::vector<size_t> hosts = qualified(windows, *this, fp.request_volume);
    if (!hosts.empty() && hosts.size() >= fp.minimum_hosts) {
      for (size_t i : hosts) {
        const Window& w = windows[i];
        if (w.failures * 100 < uint64_t{fp.threshold} * w.requests) continue;
        const bool listed = std::any_of(candidates.begin(), candidates.end(),
                                        [i](const Candidate& c) { return c.host == i; });
        if (!listed) candidates.push_back({i, successRate(w), EjectCause::FailurePercentage});
      }
    }
  }

  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.success_rate != b.success_rate ? a.success_rate < b.success_rate : a.host < b.host;
  });
  std::vector<size_t> ejected;
  for (const Candidate& c : candidates) {
    if (!mayEject()) break;  // the limit only tightens as we go
    eject(c.host, c.cause, now);
    ejected.push_back(c.host);
  }

  for (HostState& h : hosts_) {
    if (h.state == BreakerState::Closed && !h.ejected_this_interval && h.multiplier > 0) --h.multiplier;
    h.ejected_this_interval = false;
  }
  return ejected;
}

std::vector<size_t> OutlierDetector::expire(event::MonoTime now) {
  std::vector<size_t> out;
  for (size_t i = 0; i < hosts_.size(); ++i) {
    HostState& h = hosts_[i];
    if (h.state == BreakerState::Open && h.ejected_until <= now) {
      h.state = BreakerState::HalfOpen;
      --open_;
      out.push_back(i);
    }
  }
  return out;
}

std::optional<event::MonoTime> OutlierDetector::nextExpiry() const {
  std::optional<event::MonoTime> next;
  for (const HostState& h : hosts_) {
    if (h.state == BreakerState::Open && (!next || h.ejected_until < *next)) next = h.ejected_until;
  }
  return next;
}

BreakerState OutlierDetector::probeResult(size_t host, bool success, event::MonoTime now) {
  assert(host < hosts_.size());
  HostState& h = hosts_[host];
  if (h.state != BreakerState::HalfOpen) return h.state;
  if (success) {
    h.state = BreakerState::Closed;
    --not_closed_;
  } else {
    eject(host, *h.last_cause, now);
  }
  return h.state;
}

}  // namespace sluice::upstream
