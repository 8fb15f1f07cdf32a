// Whatever a server sends, the cluster side answers with a translation or a
// FieldError, never a crash: our own resources, their bytes mutated at
// random (fixed seed, bounded), go through every *FromEnvoy. Both outcomes
// must occur, or the mutations would not be reaching the translators.
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

#include "config/loader.h"
#include "tests/unit/xds/cluster_translate_support.h"
#include "xds/cluster_translate.h"

namespace sluice::xds {
namespace {

struct Outcomes {
  int parsed = 0;
  int accepted = 0;
  int rejected = 0;
};

template <class M, class Translate>
void mutateAndTranslate(const M& seed, std::mt19937& rng, int rounds, Translate&& translate, Outcomes& o) {
  const std::string bytes = seed.SerializeAsString();
  ASSERT_FALSE(bytes.empty());
  for (int i = 0; i < rounds; ++i) {
    std::string b = bytes;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const size_t at = rng() % b.size();
      switch (rng() % 3) {
        case 0: b[at] = static_cast<char>(rng()); break;
        case 1: b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8))); break;
        default: b.erase(at, 1 + rng() % 3); break;
      }
      if (b.empty()) b = bytes;
    }
    M m;
    if (!m.ParseFromString(b)) continue;
    ++o.parsed;
    const FieldError e = translate(m);
    // A rejection always says where and what.
    if (e.empty()) ++o.accepted;
    else {
      ++o.rejected;
      EXPECT_FALSE(e.message.empty());
    }
  }
}

TEST(ClusterMutation, MutatedResourcesAreTranslatedOrRejected) {
  const auto r = config::loadString(R"(clusters:
  - name: c
    lb_policy: ring_hash
    hash_policy: [{header: x-user}]
    health_check: {interval: 1s, timeout: 1s, http: {path: /h, expected_statuses: ["200-204"]}}
    outlier_detection: {success_rate: {}, failure_percentage: {}}
    circuit_breakers: {max_retries: 2, high: {retry_budget: {budget_percent: 30}}}
    protocol: auto
    http2: {keepalive_interval: 5s}
    tls:
      sni: c.internal
      verify_spiffe_ids: ["spiffe://td/ns/*"]
    endpoints: [{address: 10.0.0.1:80, weight: 2}, {address: "[::1]:81", priority: 1}]
)",
                                    "t.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const auto& c = r.config->clusters[0];
  envoy_cluster::Cluster cluster;
  clusterToEnvoy(c, cluster);
  envoy_endpoint::ClusterLoadAssignment cla;
  loadAssignmentToEnvoy(r.config->load_assignments[0], c.overprovisioning_factor_percent, cla);
  envoy_tls::UpstreamTlsContext up;
  upstreamTlsToEnvoy(*c.tls, up);
  config::DownstreamTlsConfig dt;
  dt.certificates = {"a", "b"};
  dt.validation_context = "ca";
  dt.verify_spiffe_ids = {"spiffe://td/x"};
  envoy_tls::DownstreamTlsContext down;
  downstreamTlsToEnvoy(dt, down);
  config::SecretSpec ss;
  ss.name = "s";
  ss.cert_chain = "/c";
  ss.private_key = "/k";
  envoy_tls::Secret secret;
  secretToEnvoy(ss, secret);

  // Mutated strings are often invalid UTF-8, which protobuf logs on parse.
  google::protobuf::LogSilencer quiet;
  std::mt19937 rng(20261204);
  Outcomes o;
  mutateAndTranslate(cluster, rng, 3000, [](const envoy_cluster::Cluster& m) {
    config::ClusterConfig out;
    std::optional<config::ClusterLoadAssignmentSpec> endpoints;
    return clusterFromEnvoy(m, out, endpoints);
  }, o);
  mutateAndTranslate(cla, rng, 1000, [](const envoy_endpoint::ClusterLoadAssignment& m) {
    config::ClusterLoadAssignmentSpec out;
    std::optional<uint32_t> factor;
    return loadAssignmentFromEnvoy(m, out, factor);
  }, o);
  mutateAndTranslate(up, rng, 1000, [](const envoy_tls::UpstreamTlsContext& m) {
    config::UpstreamTlsConfig out;
    return upstreamTlsFromEnvoy(m, out);
  }, o);
  mutateAndTranslate(down, rng, 1000, [](const envoy_tls::DownstreamTlsContext& m) {
    config::DownstreamTlsConfig out;
    return downstreamTlsFromEnvoy(m, out);
  }, o);
  mutateAndTranslate(secret, rng, 500, [](const envoy_tls::Secret& m) {
    config::SecretSpec out;
    return secretFromEnvoy(m, out);
  }, o);
  std::printf("parsed %d, accepted %d, rejected %d\n", o.parsed, o.accepted, o.rejected);
  EXPECT_GT(o.parsed, 500);
  EXPECT_GT(o.accepted, 100);
  EXPECT_GT(o.rejected, 100);
}

}  // namespace
}  // namespace sluice::xds
