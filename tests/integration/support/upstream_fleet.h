#pragma once
// Pieces for the upstream-cluster integration tests (load balancing, health
// checks, outlier detection, circuit breakers): upstreams whose behaviour the
// test flips while the proxy runs, real backend processes that can be killed
// and restarted on the same port, clients that tally which upstream answered,
// and readers for the admin /clusters page.

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/support/http_message.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

// An HttpUpstream named NAME whose answers the test changes at any time.
// Every response carries `x-upstream: NAME` and the body "NAME\n". Requests
// for `health_path` (the proxy's active health check) are answered with the
// health status and counted apart from the others ("served").
//
// Threads: handlers run on the upstream's connection threads; every setter
// and counter may be used from the test thread at any time.
class ControlledUpstream {
 public:
  explicit ControlledUpstream(std::string name, std::string health_path = "/healthz");
  ~ControlledUpstream();
  ControlledUpstream(const ControlledUpstream&) = delete;
  ControlledUpstream& operator=(const ControlledUpstream&) = delete;

  const std::string& name() const { return name_; }
  uint16_t port() const { return up_.port(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port()); }

  // Status of every non-health response (default 200).
  void setStatus(int status) { status_ = status; }
  // Status of health-check responses (default 200).
  void setHealthStatus(int status) { health_status_ = status; }
  // Every request (health checks too) gets its connection reset, no response.
  void setDown(bool down) { down_ = down; }
  // Each non-health request independently fails with 503 with this
  // probability (percent), on top of setStatus.
  void setFailPercent(int percent) { fail_percent_ = percent; }
  // Each non-health response waits this long first.
  void setDelay(Millis delay) { delay_ms_ = delay.count(); }
  // While held, non-health requests wait (up to 20 s) until release().
  void hold();
  void release();

  // Non-health requests that reached the handler.
  uint64_t served() const { return served_.load(); }
  // Of those, answered with a status >= 500 or reset.
  uint64_t failed() const { return failed_.load(); }
  uint64_t healthChecks() const { return health_checks_.load(); }
  // Non-health requests in the handler now, and the most at once so far.
  int inFlight() const { return in_flight_.load(); }
  int maxInFlight() const { return max_in_flight_.load(); }
  int connections() const { return up_.connections(); }
  // Every request recorded (health checks included), in arrival order.
  std::vector<UpstreamRequest> requests() const { return up_.requests(); }

 private:
  void handle(const UpstreamRequest& req, UpstreamExchange& ex);

  std::string name_;
  std::string health_path_;
  std::atomic<int> status_{200};
  std::atomic<int> health_status_{200};
  std::atomic<bool> down_{false};
  std::atomic<int> fail_percent_{0};
  std::atomic<long long> delay_ms_{0};
  std::atomic<uint64_t> served_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> health_checks_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  HttpUpstream up_;  // last: its threads use the members above
};

// A sluice-demo-backend process (200 "hello from NAME\n", `x-backend: NAME`
// for every request, /healthz included). kill() and start() again bring it
// back on the same port, as a restarted server would.
class BackendProcess {
 public:
  explicit BackendProcess(std::string name);
  ~BackendProcess();  // SIGKILL
  BackendProcess(const BackendProcess&) = delete;
  BackendProcess& operator=(const BackendProcess&) = delete;

  // Starts it on its port (an ephemeral one the first time) and waits until
  // it accepts. Retries for a while if the port is briefly unavailable.
  ::testing::AssertionResult start(Millis timeout = Millis(10000));
  // SIGKILL and reap: the port refuses connections from now on.
  void kill();
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// One request as a client saw it.
struct Outcome {
  int status = 0;        // 0: no (complete) response
  std::string upstream;  // x-upstream or x-backend of the response; "" for local replies
  Clock::time_point started;
};

struct Tally {
  std::vector<Outcome> outcomes;
  size_t count(int status) const;
  size_t errors() const;  // status != 200
  std::map<std::string, size_t> byUpstream() const;  // 200s only
  size_t to(const std::string& upstream) const;      // 200s answered by `upstream`
  std::string describe() const;                       // "n=.., statuses {..}, upstreams {..}"
};

// Sends `n` GETs for `path` to the proxy over `connections` keep-alive
// connections in parallel (reconnecting after a closed or broken response).
// `headers(i)` gives request i's extra header fields.
Tally sendRequests(uint16_t port, size_t n, size_t connections, const std::string& path = "/",
                   const std::function<HeaderList(size_t)>& headers = {});

// Background clients sending GET `path` back to back over `connections`
// keep-alive connections until stop() (or destruction).
class SteadyLoad {
 public:
  SteadyLoad(uint16_t port, size_t connections, std::string path = "/");
  ~SteadyLoad() { stop(); }
  void stop();
  size_t completed() const;
  // Outcomes so far, in completion order.
  std::vector<Outcome> snapshot() const;
  // Waits (bounded) until `n` requests started at or after `since` completed.
  bool waitStartedAfter(Clock::time_point since, size_t n, Millis timeout) const;

 private:
  void run(uint16_t port, std::string path);
  mutable std::mutex mu_;
  std::vector<Outcome> outcomes_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// Requests in `outcomes` started at or after `since`.
std::vector<Outcome> startedAfter(const std::vector<Outcome>& outcomes, Clock::time_point since);

// ---- Config ----

struct Endpoint {
  uint16_t port = 0;
  uint32_t weight = 1;
  uint32_t priority = 0;
};
// A YAML flow sequence for `endpoints:`, on one line.
std::string weightedEndpoints(const std::vector<Endpoint>& endpoints);
// The same for 127.0.0.1:PORT, weight 1, priority 0.
std::string endpointsFlow(const std::vector<uint16_t>& ports);

// A whole config: admin on port 0, `workers`, one HTTP listener "web" on
// port 0 whose `http:` mapping is `http_yaml`, and `clusters_yaml`, a YAML
// sequence of clusters. Both YAML texts may be indented as a whole.
std::string upstreamConfig(const std::string& http_yaml, const std::string& clusters_yaml, int workers = 2);
// An `http:` mapping that routes everything to `cluster`, with a JSON access
// log when `access_log` is not empty.
std::string routeAllTo(const std::string& cluster, const std::string& access_log = "");
// An `http:` mapping whose routes are tried in order: each a path prefix and
// the route as a YAML flow mapping, e.g. {"/high", "{cluster: c1, priority: high}"}.
std::string routeByPrefix(const std::vector<std::pair<std::string, std::string>>& routes);

// ---- Admin /clusters ----

// The value of CLUSTER::HOST::FIELD in GET /clusters; nullopt when absent.
std::optional<std::string> clusterField(const ProxyProcess& proxy, const std::string& cluster,
                                        const std::string& host, const std::string& field);
// Polls /clusters until pred(value of the field) holds (the value is "" while
// the line is absent); the failure names the last value and the page.
::testing::AssertionResult waitClusterField(const ProxyProcess& proxy, const std::string& cluster,
                                            const std::string& host, const std::string& field,
                                            const std::function<bool(const std::string&)>& pred,
                                            const std::string& expectation, Millis timeout = Millis(5000));
::testing::AssertionResult waitClusterFieldEq(const ProxyProcess& proxy, const std::string& cluster,
                                              const std::string& host, const std::string& field,
                                              const std::string& want, Millis timeout = Millis(5000));

// Active health check state of one host, from health_flags and health_checks.
::testing::AssertionResult waitHealthy(const ProxyProcess& proxy, const std::string& cluster, const std::string& host,
                                       Millis timeout = Millis(5000));
::testing::AssertionResult waitFailedActiveHc(const ProxyProcess& proxy, const std::string& cluster,
                                              const std::string& host, Millis timeout = Millis(5000));
// At least one health check of `host` passed (so it is known healthy, not assumed).
::testing::AssertionResult waitChecked(const ProxyProcess& proxy, const std::string& cluster, const std::string& host,
                                       Millis timeout = Millis(5000));

}  // namespace sluice::itest
