#include "tests/integration/support/http_harness.h"

#include <algorithm>
#include <chrono>

namespace sluice::itest {

::testing::AssertionResult startHttpProxy(ProxyProcess& proxy, uint16_t* port, const std::string& listener) {
  if (auto started = proxy.start(); !started) return started;
  auto p = proxy.waitListener(listener);
  if (!p) {
    return ::testing::AssertionFailure() << "listener '" << listener << "' not listed; /listeners: "
                                         << proxy.get("/listeners").body;
  }
  *port = *p;
  return ::testing::AssertionSuccess();
}

double metricOr0(const ProxyProcess& proxy, const std::string& name, const Labels& labels) {
  return proxy.metric(name, labels).value_or(0);
}

RssSampler::RssSampler(const ProxyProcess& proxy) : proxy_(proxy) {
  peak_ = proxy_.rssKb().value_or(0);
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      if (auto rss = proxy_.rssKb()) peak_.store(std::max(peak_.load(), *rss));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
}

void RssSampler::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice::itest
