#include "proxy/upstream/cluster_manager.h"

#include "proxy/upstream/auto_conn_pool.h"
#include "proxy/upstream/http1_conn_pool.h"
#include "proxy/upstream/http2_conn_pool.h"

#include "proxy/util/random.h"

namespace sluice::upstream {

namespace {

// Same hosts and same balancer settings: the worker's balancer state carries over.
bool sameBalancing(const Cluster& old, const config::ClusterConfig& b, const std::vector<config::EndpointConfig>& eps) {
  const config::ClusterConfig& a = old.config();
  if (a.lb_policy != b.lb_policy || old.endpoints().size() != eps.size() ||
      a.ring_hash_minimum_ring_size != b.ring_hash_minimum_ring_size ||
      a.ring_hash_maximum_ring_size != b.ring_hash_maximum_ring_size || a.maglev_table_size != b.maglev_table_size ||
      a.least_request_choice_count != b.least_request_choice_count)
    return false;
  for (size_t i = 0; i < eps.size(); ++i) {
    const auto& x = old.endpoints()[i];
    const auto& y = eps[i];
    if (!(x.address == y.address) || x.weight != y.weight || x.priority != y.priority) return false;
  }
  return true;
}

// Adds the half-open rule to the caller's context: a half-open host takes a
// pick only while it has probe slots left, and one whose probe has just
// failed (open again) takes none. The main thread stores a host's new state
// before it bumps the health version, so a worker can see a host open while
// its membership still holds it from the half-open state; without that skip
// the re-ejected host would get a request past half_open_max_requests.
// (In panic every member takes traffic, ejected or not.)
class ProbeAwareContext final : public LbContext {
 public:
  ProbeAwareContext(const LbContext* inner, bool panic) : inner_(inner), panic_(panic) {}
  bool shouldSkip(const Host& h) const override {
    if (inner_ && inner_->shouldSkip(h)) return true;
    const HostBreaker state = h.shared->breakerState();
    if (state == HostBreaker::Open) return !panic_;
    return state == HostBreaker::HalfOpen && h.shared->probes_left.load(std::memory_order_relaxed) <= 0;
  }
  std::optional<uint64_t> hashKey() const override { return inner_ ? inner_->hashKey() : std::nullopt; }

 private:
  const LbContext* inner_;
  const bool panic_;
};

}  // namespace

std::unique_ptr<HttpConnPool> makeHttpConnPool(Protocol protocol, event::Loop& loop, const Host& host,
                                               const PoolSettings& settings, stats::ClusterStats* cluster_stats) {
  switch (protocol) {
    case Protocol::Http1: return std::make_unique<Http1ConnPool>(loop, host, settings, cluster_stats);
    case Protocol::Http2: return std::make_unique<Http2ConnPool>(loop, host, settings, cluster_stats);
    case Protocol::Auto: return std::make_unique<AutoConnPool>(loop, host, settings, cluster_stats);
  }
  return nullptr;
}

void Cluster::refreshHealth() {
  const uint64_t v = shared_->health_version.load(std::memory_order_acquire);
  if (v == seen_health_) return;
  seen_health_ = v;
  std::vector<LevelHealth> health(levels_.size());
  // Each host's state read once: the main thread may be publishing the next
  // one meanwhile, and a host that the membership saw half-open must also
  // make this worker take probe slots (any_half_open_), or it would get
  // requests past half_open_max_requests.
  usable_.assign(hosts_.size(), false);
  any_half_open_ = false;
  for (size_t l = 0; l < levels_.size(); ++l) {
    for (uint32_t i : levels_[l].all) {
      const HostShared& s = *hosts_[i].shared;
      const HostBreaker breaker = s.breakerState();
      usable_[i] = !s.active_hc_failed.load(std::memory_order_acquire) && breaker != HostBreaker::Open;
      ++health[l].total;
      if (usable_[i]) ++health[l].healthy;
      if (breaker == HostBreaker::HalfOpen) any_half_open_ = true;
    }
  }
  load_ = computePriorityLoad(health, config_->overprovisioning_factor_percent, config_->panic_threshold_percent);
  for (auto& level : levels_) {
    level.members.clear();
    for (uint32_t i : level.all)
      if (load_.panic || usable_[i]) level.members.push_back(i);
    level.lb->refresh(hosts_, level.members);
  }
}

std::optional<Cluster::Pick> Cluster::pick(const LbContext* ctx) {
  refreshHealth();
  if (hosts_.empty()) return std::nullopt;
  const size_t level_index = levels_.size() == 1 ? 0 : pickPriorityLevel(load_, util::threadRandom());
  Level& level = levels_[level_index];
  if (level.members.empty()) return std::nullopt;
  if (!any_half_open_) {
    const auto i = level.lb->choose(ctx);
    if (!i) return std::nullopt;
    return Pick{*i, false};
  }
  const ProbeAwareContext probe_ctx(ctx, load_.panic);
  // The chosen level first, then the others in priority order: a level whose
  // only candidates are half-open hosts out of probe slots sends its share on.
  for (size_t n = 0; n < levels_.size(); ++n) {
    const size_t l = n == 0 ? level_index : (n <= level_index ? n - 1 : n);
    if (levels_[l].members.empty()) continue;
    // A probe slot can go to another worker between the skip check and the
    // take, so a few tries per level.
    for (int attempt = 0; attempt < 3; ++attempt) {
      const auto i = levels_[l].lb->choose(&probe_ctx);
      if (!i) break;
      HostShared& s = *hosts_[*i].shared;
      const HostBreaker state = s.breakerState();
      if (state == HostBreaker::Open && !load_.panic) continue;  // re-ejected since the skip check
      if (state != HostBreaker::HalfOpen) return Pick{*i, false};
      if (s.tryTakeProbe()) return Pick{*i, true};
    }
  }
  // Every candidate is half-open and busy probing: no host for this request.
  return std::nullopt;
}

void Cluster::reportOutcome(const Pick& pick, HostOutcome outcome) {
  const Host& host = hosts_[pick.host];
  if (pick.probe && sink_) sink_->probeResult(config_->name, host.name, outcome == HostOutcome::Success);
  if (!config_->outlier_detection) return;
  const auto& od = *config_->outlier_detection;
  HostShared& s = *host.shared;
  auto resetRun = [](std::atomic<uint32_t>& run) {
    if (run.load(std::memory_order_relaxed) != 0) run.store(0, std::memory_order_relaxed);
  };
  if (outcome == HostOutcome::Success) {
    resetRun(s.consecutive_5xx);
    resetRun(s.consecutive_gateway_failure);
    return;
  }
  // Exactly one worker sees a run reach the threshold, so it is reported once.
  if (od.consecutive_5xx > 0 && s.consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1 == od.consecutive_5xx &&
      sink_)
    sink_->consecutiveFailures(config_->name, host.name, EjectCause::Consecutive5xx);
  if (outcome == HostOutcome::GatewayFailure) {
    if (od.consecutive_gateway_failure > 0 &&
        s.consecutive_gateway_failure.fetch_add(1, std::memory_order_relaxed) + 1 == od.consecutive_gateway_failure &&
        sink_)
      sink_->consecutiveFailures(config_->name, host.name, EjectCause::ConsecutiveGatewayFailure);
  } else {
    resetRun(s.consecutive_gateway_failure);
  }
}

void Cluster::abandon(const Pick& pick) {
  if (pick.probe) hosts_[pick.host].shared->probes_left.fetch_add(1, std::memory_order_relaxed);
}

void ClusterManager::update(const std::shared_ptr<const config::Config>& config,
                            const std::map<std::string, ClusterStatsRefs>& stats) {
  std::map<std::string, std::shared_ptr<Cluster>, std::less<>> next;
  for (const auto& cc : config->clusters) {
    auto c = std::make_shared<Cluster>();
    const auto& refs = stats.at(cc.name);
    const auto& endpoints = config->endpointsOf(cc);
    c->owner_ = config;
    c->config_ = &cc;
    c->endpoints_ = &endpoints;
    c->stats_ = &refs.cluster->worker(worker_);
    c->shared_ = refs.shared;
    c->sink_ = sink_;
    uint32_t max_priority = 0;
    for (size_t i = 0; i < endpoints.size(); ++i) {
      const auto& ep = endpoints[i];
      c->hosts_.push_back(Host{ep.address, ep.weight, &refs.hosts[i]->worker(worker_), ep.address.str(), ep.priority,
                               refs.host_shared[i]});
      max_priority = std::max(max_priority, ep.priority);
    }
    c->levels_.resize(endpoints.empty() ? 0 : max_priority + 1);
    for (size_t i = 0; i < endpoints.size(); ++i)
      c->levels_[endpoints[i].priority].all.push_back(static_cast<uint32_t>(i));
    auto old = clusters_.find(cc.name);
    const bool keep = old != clusters_.end() && sameBalancing(*old->second, cc, endpoints) &&
                      old->second->levels_.size() == c->levels_.size();
    for (size_t l = 0; l < c->levels_.size(); ++l) {
      // Carry the worker's cursors over when the hosts are the same.
      c->levels_[l].lb = keep ? std::move(old->second->levels_[l].lb)
                              : makeLoadBalancer(cc, util::threadRandomSource());
    }
    c->pools_.assign(c->hosts_.size(), {});  // resolved on first HTTP request
    if (auto od = original_dst_.find(cc.name); od != original_dst_.end()) c->original_dst_ = od->second.get();
    if (refs.tls) {
      // Same provider: keep the view, so pools see no TLS change.
      auto prev = clusters_.find(cc.name);
      c->tls_provider_ = refs.tls;
      c->tls_ = prev != clusters_.end() && prev->second->tls_provider_ == refs.tls
                    ? prev->second->tls_
                    : std::make_shared<tls::CertificateProvider::View>(refs.tls);
    }
    next.emplace(cc.name, std::move(c));
  }
  clusters_ = std::move(next);
  ++generation_;  // pools pick up new settings on next use
}

ClusterManager::~ClusterManager() {
  // Before the clusters whose stats they point into.
  pools_.clear();
  original_dst_.clear();
}

PoolSettings ClusterManager::poolSettings(const Cluster& cluster) const {
  const auto& cc = cluster.config();
  PoolSettings settings;
  settings.max_connections = cc.max_connections_per_host;
  settings.max_pending_requests = cc.max_pending_requests;
  settings.connect_timeout = cc.connect_timeout;
  settings.idle_timeout = cc.idle_timeout;
  settings.shared = cluster.shared_;
  settings.breakers = cc.circuit_breakers;
  settings.tls = cluster.tls_;
  settings.http2 = cc.http2;
  return settings;
}

std::unique_ptr<HttpConnPool> ClusterManager::makePool(Protocol protocol, const Host& host,
                                                       const PoolSettings& settings, Cluster& cluster) {
  return pool_factory_ ? pool_factory_(protocol, *loop_, host, settings, &cluster.stats())
                       : makeHttpConnPool(protocol, *loop_, host, settings, &cluster.stats());
}

HttpConnPool& ClusterManager::httpPool(Cluster& cluster, size_t host_index, Protocol protocol) {
  // The cluster caches its pools per host, so the map below is consulted
  // once per host per config version, not per request.
  HttpConnPool*& cached = cluster.pools_[host_index][static_cast<size_t>(protocol)];
  if (cached) return *cached;
  const Host& host = cluster.hosts_[host_index];
  const PoolSettings settings = poolSettings(cluster);
  auto [it, made] = pools_.try_emplace(PoolKey{cluster.config().name, host.name, protocol});
  PoolEntry& entry = it->second;
  if (made) {
    entry.pool = makePool(protocol, host, settings, cluster);
  } else if (entry.generation != generation_) {
    entry.pool->update(host, settings, &cluster.stats());
  }
  entry.generation = generation_;
  cached = entry.pool.get();
  return *cached;
}

ClusterManager::OriginalDstPick ClusterManager::originalDstPool(Cluster& cluster, const ip::Address& address,
                                                                Protocol protocol) {
  if (cluster.original_dst_ == nullptr) {  // the cluster's first request on this worker
    auto& store = original_dst_[cluster.config().name];
    if (!store) store = std::make_unique<OriginalDstHosts>(loop_->timers());
    cluster.original_dst_ = store.get();
  }
  OriginalDstHosts::Entry& e = cluster.original_dst_->pick(address, cluster.config().cleanup_interval);
  auto& pool = e.pools[static_cast<size_t>(protocol)];
  if (!pool) {
    pool = makePool(protocol, e.host, poolSettings(cluster), cluster);
  } else if (e.generation != generation_) {
    // A reload: every pool the host has takes its settings.
    const PoolSettings settings = poolSettings(cluster);
    for (auto& p : e.pools)
      if (p) p->update(e.host, settings, &cluster.stats());
  }
  e.generation = generation_;
  return {e.host, *pool};
}

OriginalDstHosts* ClusterManager::originalDstHosts(const std::string& cluster) {
  auto it = original_dst_.find(cluster);
  return it == original_dst_.end() ? nullptr : it->second.get();
}

Cluster* ClusterManager::get(const std::string& name) {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second.get();
}

}  // namespace sluice::upstream
