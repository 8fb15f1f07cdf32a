#pragma once
// The per-worker view of every cluster: hosts with this worker's stats
// blocks, the hosts' published health, and this worker's load balancers (one
// per priority level). Rebuilt on each config swap; a cluster whose endpoints
// did not change keeps its balancer state. Worker thread only.

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "proxy/event/loop.h"
#include "proxy/upstream/cluster_shared.h"
#include "proxy/upstream/host.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/load_balancer.h"
#include "proxy/upstream/original_dst_hosts.h"
#include "proxy/upstream/outlier_detector.h"
#include "proxy/upstream/priority_load.h"
#include "proxy/upstream/upstream_transport.h"
#include "proxy/tls/certificate_provider.h"

namespace sluice::upstream {

// How one request to a host ended, as passive health checking sees it.
enum class HostOutcome {
  Success,         // any response below 500
  Error5xx,        // a 5xx other than 502/503/504
  GatewayFailure,  // connect failure or timeout, reset, route timeout, 502/503/504
};

// What workers learn about hosts that the main thread must act on. Called on
// a worker thread; an implementation hands the event to the main thread.
class HealthEventSink {
 public:
  virtual void consecutiveFailures(const std::string& cluster, const std::string& host, EjectCause cause) = 0;
  virtual void probeResult(const std::string& cluster, const std::string& host, bool success) = 0;

 protected:
  ~HealthEventSink() = default;
};

// The pool for `protocol`: Http1ConnPool, Http2ConnPool or AutoConnPool.
std::unique_ptr<HttpConnPool> makeHttpConnPool(Protocol protocol, event::Loop& loop, const Host& host,
                                               const PoolSettings& settings, stats::ClusterStats* cluster_stats);

// A request or connection may keep its Cluster (shared_from_this) past a
// config swap, so that it reports its outcome to the hosts it picked.
class Cluster : public std::enable_shared_from_this<Cluster> {
 public:
  const config::ClusterConfig& config() const { return *config_; }
  // Its load assignment's endpoints, parallel to hosts().
  const std::vector<config::EndpointConfig>& endpoints() const { return *endpoints_; }
  const std::vector<Host>& hosts() const { return hosts_; }
  stats::ClusterStats& stats() { return *stats_; }
  ClusterShared& shared() { return *shared_; }

  struct Pick {
    size_t host;  // index into hosts()
    bool probe;   // admitted as a half-open probe: report its outcome
  };
  // Picks a host: a priority level by the levels' health (or all hosts in
  // panic), then that level's balancer. Hosts whose breaker is half-open
  // take part only while they have probe slots. nullopt when the cluster
  // has no hosts. No allocation unless host health changed since the last pick.
  std::optional<Pick> pick(const LbContext* ctx);
  // Whether the outcome of this pick feeds passive health checking (the
  // cluster has outlier detection, or the pick is a half-open probe). When
  // not, callers need not keep the Cluster alive to report it.
  bool wantsOutcome(const Pick& pick) const { return pick.probe || config_->outlier_detection.has_value(); }
  // Feeds passive health checking (consecutive-failure runs, probe
  // results). Call at most once per pick; the host's rq_error counter is the
  // caller's to bump.
  void reportOutcome(const Pick& pick, HostOutcome outcome);
  // The request ended without an outcome (client gone): gives a probe slot back.
  void abandon(const Pick& pick);
  // True when the current pick ran in panic mode (for tests and /clusters).
  bool panic() { refreshHealth(); return load_.panic; }
  // The transport for a new upstream connection: TLS from this worker's
  // view of the cluster's certificate provider when the cluster has `tls`,
  // else raw TCP. A TLS connection raises Connected only after its
  // handshake, so connect timeouts cover it and a failed handshake is a
  // connect failure.
  std::unique_ptr<net::TransportSocket> newTransport() { return makeUpstreamTransport(tls_.get()); }
  const std::shared_ptr<tls::CertificateProvider::View>& tlsView() const { return tls_; }

 private:
  friend class ClusterManager;
  struct Level {
    std::vector<uint32_t> all;      // host indices of this priority
    std::vector<uint32_t> members;  // what the balancer sees: usable ones, or all in panic
    std::unique_ptr<LoadBalancer> lb;
  };
  void refreshHealth();

  std::shared_ptr<const config::Config> owner_;  // keeps config_ and endpoints_ alive
  const config::ClusterConfig* config_ = nullptr;
  const std::vector<config::EndpointConfig>* endpoints_ = nullptr;
  std::vector<Host> hosts_;
  std::vector<Level> levels_;  // index = endpoint priority
  PriorityLoad load_;
  uint64_t seen_health_ = UINT64_MAX;
  bool any_half_open_ = false;
  std::vector<bool> usable_;  // per host, as refreshHealth() last read it
  stats::ClusterStats* stats_ = nullptr;
  ClusterShared* shared_ = nullptr;
  HealthEventSink* sink_ = nullptr;
  // Parallel to hosts_, one slot per protocol; filled on first use.
  std::vector<std::array<HttpConnPool*, kProtocolCount>> pools_;
  std::shared_ptr<tls::CertificateProvider::View> tls_;  // this worker's; null without `tls`
  std::shared_ptr<const tls::CertificateProvider> tls_provider_;
  OriginalDstHosts* original_dst_ = nullptr;  // original_dst clusters: the worker's hosts (ClusterManager's)
};

// Per-config handles resolved by the main thread for one cluster.
struct ClusterStatsRefs {
  stats::PerWorker<stats::ClusterStats>* cluster = nullptr;
  // Both parallel to the endpoints of the cluster's load assignment.
  std::vector<stats::PerWorker<stats::HostStats>*> hosts;
  ClusterShared* shared = nullptr;
  std::vector<HostShared*> host_shared;
  std::shared_ptr<const tls::CertificateProvider> tls;  // set when the cluster has `tls`
};

class ClusterManager {
 public:
  explicit ClusterManager(size_t worker_index) : worker_(worker_index) {}
  ~ClusterManager();
  // The worker's loop, for pools (set once before the first update).
  void setLoop(event::Loop& loop) { loop_ = &loop; }
  // Where consecutive-failure and probe events go (may stay null: then they are dropped).
  void setHealthEventSink(HealthEventSink* sink) { sink_ = sink; }
  // Makes the pools (default: makeHttpConnPool). Tests put a fake pool at
  // this socket boundary; set before the first request.
  using PoolFactory = std::function<std::unique_ptr<HttpConnPool>(
      Protocol, event::Loop&, const Host&, const PoolSettings&, stats::ClusterStats*)>;
  void setPoolFactory(PoolFactory factory) { pool_factory_ = std::move(factory); }

  void update(const std::shared_ptr<const config::Config>& config,
              const std::map<std::string, ClusterStatsRefs>& stats);
  // Null when no such cluster.
  Cluster* get(const std::string& name);
  // This worker's pool for one host of a cluster and one protocol, made on
  // first use. Pools are keyed by cluster, host and protocol and outlive
  // config swaps (their connections are worker state, not config); a pool
  // takes a reload's settings on its first use after it. No allocation once
  // the pool exists.
  HttpConnPool& httpPool(Cluster& cluster, size_t host_index, Protocol protocol);
  // An original_dst cluster's host for `address` and its pool for
  // `protocol`, both made on first use (OriginalDstHosts: kept across config
  // swaps, removed after the cluster's cleanup_interval unused). A hash
  // lookup per request, no allocation once made.
  struct OriginalDstPick {
    const Host& host;
    HttpConnPool& pool;
  };
  OriginalDstPick originalDstPool(Cluster& cluster, const ip::Address& address, Protocol protocol);
  // Null unless `cluster` has original_dst hosts on this worker (tests).
  OriginalDstHosts* originalDstHosts(const std::string& cluster);

 private:
  PoolSettings poolSettings(const Cluster& cluster) const;
  std::unique_ptr<HttpConnPool> makePool(Protocol protocol, const Host& host, const PoolSettings& settings,
                                         Cluster& cluster);

  size_t worker_;
  event::Loop* loop_ = nullptr;
  HealthEventSink* sink_ = nullptr;
  PoolFactory pool_factory_;
  uint64_t generation_ = 0;
  std::map<std::string, std::shared_ptr<Cluster>, std::less<>> clusters_;
  struct PoolKey {
    std::string cluster;
    std::string host;  // host:port
    Protocol protocol;
    auto operator<=>(const PoolKey&) const = default;
  };
  struct PoolEntry {
    std::unique_ptr<HttpConnPool> pool;
    uint64_t generation = 0;  // the config generation its settings came from
  };
  std::map<PoolKey, PoolEntry> pools_;
  // By cluster name; a store outlives its cluster's removal until its
  // requests end (its pools may be serving them).
  std::map<std::string, std::unique_ptr<OriginalDstHosts>, std::less<>> original_dst_;
};

}  // namespace sluice::upstream
