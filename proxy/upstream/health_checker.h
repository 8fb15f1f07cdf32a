#pragma once
// Active health checking of one cluster's hosts (HTTP/1.1, HTTP/2, gRPC or
// TCP probes).
//
// Thread: one checker per cluster per proxy, on ONE loop (the main thread's),
// never per worker. Construction, start(), the accessors and destruction all
// happen on that loop's thread; both callbacks and the transport factory run
// there too, from the loop's timer or I/O dispatch, never from start() or the
// constructor.
//
// Each check is one Probe over the transport the factory makes (the
// cluster's TLS when it has `tls:`, so a check verifies the upstream exactly
// as a data connection does): a HealthProbe (health_probe.h) with the HTTP/1
// client codec for HTTP checks, or an Http2HealthProbe
// (http2_health_probe.h) for `codec: http2` and gRPC checks.
//
// Health rules:
// - A host starts healthy. Its first completed check decides alone: one
//   failure marks it unhealthy (no evidence yet, so no reason to wait).
// - After that, healthy_threshold consecutive passes turn an unhealthy host
//   healthy and unhealthy_threshold consecutive failures turn a healthy one
//   unhealthy (a threshold of 0 acts as 1).
// - A check fails on refusal, reset, a failed TLS handshake, early EOF, a
//   malformed or unexpected reply, or `timeout` (counted in both `failures`
//   and `timeouts`).
// - At most one check per host is in flight. The next starts when it ends,
//   after `interval` plus a uniform extra in [0, jitter]; a healthy host
//   that had no traffic (HadTraffic false) waits no_traffic_interval instead.
//   An unhealthy host always uses `interval` so it comes back quickly.
//
// Ownership: the checker owns its probes and timers. Destroying it cancels
// everything and is safe at any point, including from inside OnChange;
// per-host state and probes that a callback up the stack may still use are
// freed at the end of the loop turn (Loop::deferredDelete), so the Loop must
// outlive the checker.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "proxy/event/loop.h"
#include "ip/address.h"
#include "proxy/net/transport_socket.h"
#include "proxy/upstream/health_probe.h"
#include "proxy/util/random.h"

namespace sluice::upstream {

class HealthChecker {
 public:
  // A host flipped; `host` indexes the vector given to the constructor.
  // Nothing of the checker is touched after it returns.
  using OnChange = std::function<void(size_t host, bool healthy)>;
  // Did the host serve requests since its last check? Empty = always true.
  using HadTraffic = std::function<bool(size_t host)>;
  // The transport of each check's connection, called as the check starts.
  // Empty = raw TCP.
  using TransportFactory = std::function<std::unique_ptr<net::TransportSocket>()>;

  struct Counters {
    uint64_t attempts = 0;
    uint64_t successes = 0;
    uint64_t failures = 0;  // includes timeouts
    uint64_t timeouts = 0;
  };

  // `cfg` must have http, tcp or grpc set (the loader guarantees it); it is copied.
  // host_header_default is the HTTP Host header when cfg.http->host is empty
  // (the cluster name). `random` must outlive the checker.
  HealthChecker(event::Loop& loop, const config::HealthCheckConfig& cfg, std::string host_header_default,
                std::vector<ip::Address> hosts, TransportFactory transport, util::RandomSource& random,
                OnChange on_change, HadTraffic had_traffic);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Schedules each host's first check at a uniform random time in
  // [0, interval), so a fleet that restarts together does not storm its
  // upstreams. Call once.
  void start();

  size_t hostCount() const { return hosts_.size(); }
  bool healthy(size_t host) const;
  const Counters& counters(size_t host) const;

 private:
  class HostCheck;
  friend class HostCheck;

  std::unique_ptr<net::TransportSocket> newTransport() const;

  event::Loop& loop_;
  const config::HealthCheckConfig cfg_;
  const ProbeSpec spec_;  // what every probe sends and accepts, built once
  TransportFactory transport_;
  util::RandomSource& random_;
  OnChange on_change_;
  HadTraffic had_traffic_;
  std::vector<std::unique_ptr<HostCheck>> hosts_;
};

}  // namespace sluice::upstream
