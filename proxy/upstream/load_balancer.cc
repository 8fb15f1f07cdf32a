#include "proxy/upstream/load_balancer.h"

#include <cstdio>
#include <cstdlib>

#include "proxy/upstream/least_request_lb.h"
#include "proxy/upstream/maglev_lb.h"
#include "proxy/upstream/random_lb.h"
#include "proxy/upstream/ring_hash_lb.h"
#include "proxy/upstream/round_robin_lb.h"

namespace sluice::upstream {

std::unique_ptr<LoadBalancer> makeLoadBalancer(const config::ClusterConfig& cluster, util::RandomSource& random) {
  const std::string& p = cluster.lb_policy;
  if (p == "round_robin") return std::make_unique<RoundRobinLb>();
  if (p == "least_request") return std::make_unique<LeastRequestLb>(random, cluster.least_request_choice_count);
  if (p == "random") return std::make_unique<RandomLb>(random);
  if (p == "ring_hash")
    return std::make_unique<RingHashLb>(random, cluster.ring_hash_minimum_ring_size,
                                        cluster.ring_hash_maximum_ring_size);
  if (p == "maglev") return std::make_unique<MaglevLb>(random, cluster.maglev_table_size);
  // The loader rejects unknown policies, so reaching here is a bug.
  std::fprintf(stderr, "sluice: unknown lb_policy '%s' for cluster '%s'\n", p.c_str(), cluster.name.c_str());
  std::abort();
}

}  // namespace sluice::upstream
