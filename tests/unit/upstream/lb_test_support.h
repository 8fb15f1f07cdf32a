#pragma once
// Shared by the load-balancer unit tests: host lists built from weights, a
// seeded RandomSource, "every host" member lists, skip/hash-key contexts, pick
// counting with a weight-share check, and the remap measurement that
// ring_hash and maglev both run.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "proxy/upstream/load_balancer.h"

namespace sluice::upstream::lbtest {

// Fixed seed, so the statistical checks see the same draws on every run.
class SeededRandom : public util::RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : rng_(seed) {}
  uint64_t next() override { return rng_(); }

 private:
  std::mt19937_64 rng_;
};

// One host per weight at 127.0.0.1:1000, :1001, ... (SkipPorts names them by port).
inline std::vector<Host> portHosts(const std::vector<uint32_t>& weights) {
  std::vector<Host> out;
  uint16_t port = 1000;
  for (uint32_t w : weights) {
    const std::string name = "127.0.0.1:" + std::to_string(port++);
    out.push_back(Host{*ip::Address::parse(name), w, nullptr, name});
  }
  return out;
}

// One host per weight at 10.0.0.1:8080, 10.0.0.2:8080, ...: the names the
// hash policies place on their ring or table (pinned picks depend on them).
inline std::vector<Host> ipHosts(const std::vector<uint32_t>& weights) {
  std::vector<Host> out;
  int n = 1;
  for (uint32_t w : weights) {
    const std::string name = "10.0.0." + std::to_string(n++) + ":8080";
    out.push_back(Host{*ip::Address::parse(name), w, nullptr, name});
  }
  return out;
}

// Every index of `hosts`, as refresh() members.
inline std::vector<uint32_t> allMembers(const std::vector<Host>& hosts) {
  std::vector<uint32_t> m;
  for (uint32_t i = 0; i < hosts.size(); ++i) m.push_back(i);
  return m;
}

// Skips the hosts on `ports`.
struct SkipPorts : LbContext {
  std::vector<uint16_t> ports;
  bool shouldSkip(const Host& h) const override {
    return std::find(ports.begin(), ports.end(), h.address.port()) != ports.end();
  }
};

// A request's hash key, and hosts (by name) to skip.
struct HashContext : LbContext {
  std::optional<uint64_t> key;
  std::vector<std::string> skip;
  std::optional<uint64_t> hashKey() const override { return key; }
  bool shouldSkip(const Host& h) const override { return std::find(skip.begin(), skip.end(), h.name) != skip.end(); }
};

// Name of the host picked for `key`.
inline std::string pick(LoadBalancer& lb, const std::vector<Host>& hosts, uint64_t key) {
  HashContext ctx;
  ctx.key = key;
  return hosts[*lb.choose(&ctx)].name;
}

// `n` keys from a fixed seed.
inline std::vector<uint64_t> randomKeys(size_t n) {
  std::mt19937_64 rng(99);
  std::vector<uint64_t> keys(n);
  for (auto& k : keys) k = rng();
  return keys;
}

// Host index -> picks, over `n` calls of choose(ctx).
inline std::map<size_t, int> countPicks(LoadBalancer& lb, int n, const LbContext* ctx = nullptr) {
  std::map<size_t, int> count;
  for (int i = 0; i < n; ++i) ++count[*lb.choose(ctx)];
  return count;
}

// Host index -> picks, one pick per key.
inline std::map<size_t, int> countKeyedPicks(LoadBalancer& lb, const std::vector<uint64_t>& keys) {
  std::map<size_t, int> count;
  HashContext ctx;
  for (uint64_t k : keys) {
    ctx.key = k;
    ++count[*lb.choose(&ctx)];
  }
  return count;
}

// Each host's share of `picks` (as counted above) is within `tolerance` of
// its share of the total weight. For EXPECT_TRUE.
inline ::testing::AssertionResult sharesFollowWeights(const std::map<size_t, int>& count, int picks,
                                                      const std::vector<Host>& hosts, double tolerance = 0.02) {
  double total = 0;
  for (const Host& h : hosts) total += h.weight;
  bool ok = true;
  std::ostringstream shares;
  for (size_t i = 0; i < hosts.size(); ++i) {
    const auto it = count.find(i);
    const double got = (it == count.end() ? 0 : it->second) / static_cast<double>(picks);
    const double want = hosts[i].weight / total;
    ok = ok && std::fabs(got - want) <= tolerance;
    shares << "\n  host " << i << ": " << got << ", want " << want;
  }
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "a share is off by more than " << tolerance << ":" << shares.str();
}

// The remap scenario for consistent hashes: over 11 equal hosts, refreshes
// `base` with hosts 0-9, `added` with all 11 and `removed` with 0-9 but host
// 4, then counts over 100000 keys the keys whose host differs from base's.
// Keep it alive while the balancers are used: they point into its lists.
struct Remap {
  Remap(LoadBalancer& base, LoadBalancer& added, LoadBalancer& removed) {
    for (uint32_t i = 0; i < 11; ++i) {
      eleven.push_back(i);
      if (i < 10) ten.push_back(i);
      if (i < 10 && i != 4) nine.push_back(i);
    }
    base.refresh(hosts, ten);
    added.refresh(hosts, eleven);
    removed.refresh(hosts, nine);
    for (uint64_t k : randomKeys(100000)) {
      const std::string before = pick(base, hosts, k);
      if (pick(added, hosts, k) != before) ++moved_add;
      const std::string after = pick(removed, hosts, k);
      if (after != before) ++moved_remove;
      if (after != before && before != hosts[4].name) ++moved_other;
    }
  }

  std::vector<Host> hosts = ipHosts(std::vector<uint32_t>(11, 1));
  std::vector<uint32_t> ten, eleven, nine;
  size_t moved_add = 0;     // by adding host 10
  size_t moved_remove = 0;  // by removing host 4
  size_t moved_other = 0;   // of those, keys that were not on host 4
};

}  // namespace sluice::upstream::lbtest
