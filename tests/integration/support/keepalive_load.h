#pragma once
// Keep-alive clients sending GETs back to back on threads of their own, like
// wrk, but every request is accounted for: answered whole, or cut (sent,
// and no complete response). For reloads and drains under load.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/net.h"

namespace sluice::itest {

class KeepAliveLoad {
 public:
  struct Totals {
    uint64_t ok = 0;
    uint64_t cut = 0;
    uint64_t told_to_close = 0;       // responses carrying Connection: close
    uint64_t connects = 0;            // connections opened
    uint64_t by_body_prefix_new = 0;  // responses whose body starts with new_prefix
    std::string first_cut;
  };

  // Starts `clients` threads against 127.0.0.1:port, each running until
  // stop() or `limit`. reconnect: after a `Connection: close`, open a new
  // connection (a refused connect is retried until the end); otherwise that
  // client stops.
  KeepAliveLoad(uint16_t port, int clients, bool reconnect, std::string new_prefix, Millis limit);
  ~KeepAliveLoad() { stop(); }

  void stop();
  // Complete once stop() returned.
  Totals totals();
  uint64_t okSoFar() const { return ok_.load(); }
  uint64_t newSoFar() const { return new_.load(); }

 private:
  bool over() const;
  void run(int t);

  const uint16_t port_;
  const bool reconnect_;
  const std::string new_prefix_;
  const Clock::time_point until_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ok_{0};
  std::atomic<uint64_t> new_{0};
  std::mutex mu_;
  Totals totals_;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::itest
