#include "proxy/upstream/cluster_manager.h"

#include "proxy/upstream/round_robin_lb.h"

namespace sluice::upstream {

std::unique_ptr<LoadBalancer> makeLoadBalancer(const std::string& policy) {
  // The loader accepts only known policies; round_robin is the only one yet.
  (void)policy;
  return std::make_unique<RoundRobinLb>();
}

namespace {

bool sameEndpoints(const config::ClusterConfig& a, const config::ClusterConfig& b) {
  if (a.lb_policy != b.lb_policy || a.endpoints.size() != b.endpoints.size()) return false;
  for (size_t i = 0; i < a.endpoints.size(); ++i) {
    if (!(a.endpoints[i].address == b.endpoints[i].address) || a.endpoints[i].weight != b.endpoints[i].weight)
      return false;
  }
  return true;
}

}  // namespace

void ClusterManager::update(const std::shared_ptr<const config::Config>& config,
                            const std::map<std::string, ClusterStatsRefs>& stats) {
  std::map<std::string, std::unique_ptr<Cluster>, std::less<>> next;
  for (const auto& cc : config->clusters) {
    auto c = std::make_unique<Cluster>();
    auto old = clusters_.find(cc.name);
    if (old != clusters_.end() && sameEndpoints(old->second->config(), cc)) {
      c->lb_ = std::move(old->second->lb_);  // carry the worker's cursor over
    } else {
      c->lb_ = makeLoadBalancer(cc.lb_policy);
    }
    c->owner_ = config;
    c->config_ = &cc;
    const auto& refs = stats.at(cc.name);
    c->stats_ = &refs.cluster->worker(worker_);
    for (size_t i = 0; i < cc.endpoints.size(); ++i)
      c->hosts_.push_back(Host{cc.endpoints[i].address, cc.endpoints[i].weight, &refs.hosts[i]->worker(worker_),
                               cc.endpoints[i].address.str()});
    c->pools_.assign(c->hosts_.size(), nullptr);  // resolved on first HTTP request
    next.emplace(cc.name, std::move(c));
  }
  clusters_ = std::move(next);
  ++generation_;  // pools pick up new settings on next use
}

ClusterManager::~ClusterManager() {
  pools_.clear();  // before the clusters whose stats they point into
}

Http1ConnPool& ClusterManager::httpPool(Cluster& cluster, size_t host_index) {
  // The cluster caches its pools per host, so the map below is consulted
  // once per host per config version, not per request.
  if (Http1ConnPool* cached = cluster.pools_[host_index]) return *cached;
  const Host& host = cluster.hosts_[host_index];
  std::string key = cluster.config().name;
  key += '/';
  key += host.name;
  const auto& cc = cluster.config();
  PoolSettings settings;
  settings.max_connections = cc.max_connections_per_host;
  settings.max_pending_requests = cc.max_pending_requests;
  settings.connect_timeout = cc.connect_timeout;
  settings.idle_timeout = cc.idle_timeout;
  auto it = pools_.find(key);
  if (it == pools_.end()) {
    it = pools_.emplace(std::move(key), std::make_unique<Http1ConnPool>(*loop_, host, settings, &cluster.stats()))
             .first;
    it->second->setGeneration(generation_);
  } else if (it->second->generation() != generation_) {
    it->second->update(host, settings, &cluster.stats());
    it->second->setGeneration(generation_);
  }
  cluster.pools_[host_index] = it->second.get();
  return *it->second;
}

Cluster* ClusterManager::get(const std::string& name) {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second.get();
}

}  // namespace sluice::upstream
