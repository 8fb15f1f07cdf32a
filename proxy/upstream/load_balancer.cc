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
  using config::LbPolicy;
  switch (cluster.lb_policy) {
    case LbPolicy::RoundRobin:
      return std::make_unique<RoundRobinLb>();
    case LbPolicy::LeastRequest:
      return std::make_unique<LeastRequestLb>(random, cluster.least_request_choice_count);
    case LbPolicy::Random:
      return std::make_unique<RandomLb>(random);
    case LbPolicy::RingHash:
      return std::make_unique<RingHashLb>(random, cluster.ring_hash_minimum_ring_size,
                                          cluster.ring_hash_maximum_ring_size);
    case LbPolicy::Maglev:
      return std::make_unique<MaglevLb>(random, cluster.maglev_table_size);
  }
  std::abort();  // every enumerator returns above
}

}  // namespace sluice::upstream
