#pragma once
// Small pieces shared by the HTTP integration tests.

#include <atomic>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

// Starts `proxy` and waits for its HTTP listener (default "web").
::testing::AssertionResult startHttpProxy(ProxyProcess& proxy, uint16_t* port, const std::string& listener = "web");

// A /metrics value, 0 when absent (a counter nobody bumped yet may be absent).
double metricOr0(const ProxyProcess& proxy, const std::string& name, const Labels& labels);

// Samples the proxy's VmRSS every 10 ms on a thread of its own, from
// construction to stop(), and keeps the peak.
class RssSampler {
 public:
  explicit RssSampler(const ProxyProcess& proxy);
  ~RssSampler() { stop(); }
  void stop();
  long peakKb() const { return peak_.load(); }

 private:
  const ProxyProcess& proxy_;
  std::atomic<long> peak_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace sluice::itest
