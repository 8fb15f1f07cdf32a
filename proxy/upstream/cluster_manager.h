#pragma once
// The per-worker view of every cluster: hosts with this worker's stats
// blocks, and this worker's load-balancer state. Rebuilt on each config
// swap; a cluster whose endpoints did not change keeps its LB state.
// Worker thread only.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "proxy/upstream/host.h"
#include "proxy/upstream/http1_conn_pool.h"
#include "proxy/upstream/load_balancer.h"

namespace sluice::upstream {

class Http1ConnPool;

class Cluster {
 public:
  const config::ClusterConfig& config() const { return *config_; }
  const std::vector<Host>& hosts() const { return hosts_; }
  LoadBalancer& lb() { return *lb_; }
  stats::ClusterStats& stats() { return *stats_; }

 private:
  friend class ClusterManager;
  std::shared_ptr<const config::Config> owner_;  // keeps config_ alive
  const config::ClusterConfig* config_ = nullptr;
  std::vector<Host> hosts_;
  std::unique_ptr<LoadBalancer> lb_;
  stats::ClusterStats* stats_ = nullptr;
  std::vector<Http1ConnPool*> pools_;  // parallel to hosts_; filled on first use
};

// Stats scopes resolved by the main thread for one config.
struct ClusterStatsRefs {
  stats::PerWorker<stats::ClusterStats>* cluster = nullptr;
  std::vector<stats::PerWorker<stats::HostStats>*> hosts;  // parallel to endpoints
};

class ClusterManager {
 public:
  explicit ClusterManager(size_t worker_index) : worker_(worker_index) {}
  ~ClusterManager();
  // The worker's loop, for pools (set once before the first update).
  void setLoop(event::Loop& loop) { loop_ = &loop; }

  void update(const std::shared_ptr<const config::Config>& config,
              const std::map<std::string, ClusterStatsRefs>& stats);
  // Null when no such cluster.
  Cluster* get(const std::string& name);
  // The HTTP/1 pool of this worker for one host of a cluster. Pools outlive
  // config swaps (their connections are worker state, not config).
  Http1ConnPool& httpPool(Cluster& cluster, size_t host_index);

 private:
  size_t worker_;
  event::Loop* loop_ = nullptr;
  uint64_t generation_ = 0;
  std::map<std::string, std::unique_ptr<Cluster>, std::less<>> clusters_;
  std::map<std::string, std::unique_ptr<Http1ConnPool>, std::less<>> pools_;  // "cluster/host:port"
};

std::unique_ptr<LoadBalancer> makeLoadBalancer(const std::string& policy);

}  // namespace sluice::upstream
