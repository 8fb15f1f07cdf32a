// Listeners and route tables with random damage (fixed seed, bounded): each
// is translated or rejected with a message naming the resource, never a
// crash, a hang or an exception. What a server sends is untrusted input.
#include <gtest/gtest.h>

#include <random>

#include "tests/unit/xds/listener_translate_support.h"

namespace sluice::xds {
namespace {

constexpr const char* kYaml = R"(
listeners:
  - name: web
    address: 127.0.0.1:8080
    max_connections: 10
    http:
      route_config_name: main
      http2: {max_frame_size: 32768}
      http_filters:
        - authz: {stat_prefix: w, default_action: deny, rules: [{name: a, action: allow, methods: [GET], paths: [{prefix: /a}], principals: [{source_ip: 10.0.0.0/8}]}]}
        - fault: {delay: {fixed_delay: 1s, percentage: 5}}
        - header_mutation: {request_headers_to_add: [{name: x, value: y}]}
        - local_ratelimit: {stat_prefix: l, token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 1s}, per_key: {source: path}}
        - ratelimit: {stat_prefix: r, redis: {address: 127.0.0.1:6379}, domain: d, limit: {requests_per_unit: 5, unit: second}, descriptors: [{key: client_ip}]}
  - name: tcp
    address: 127.0.0.1:9000
    local_ratelimit: {stat_prefix: t, token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 1s}, shadow: true}
    tcp_proxy: {cluster: c}
route_configs:
  - name: main
    virtual_hosts:
      - name: v
        domains: [a, "*.b"]
        retry_policy: {retry_on: [5xx], num_retries: 2, max_request_body_bytes: 100}
        routes:
          - match: {prefix: /x, methods: [GET, PUT], headers: [{name: h, regex: "a+"}], query_parameters: [{name: q, present: true}]}
            route: {weighted_clusters: [{name: c, weight: 1}], timeout: 1s}
            per_filter_config: {ratelimit: {disabled: true}, fault: {abort: {http_status: 500, percentage: 1}}}
          - match: {path: /y}
            direct_response: {status: 200, body: hi, content_type: text/html}
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
)";

TEST(XdsListenerMutation, DamagedResourcesAreTranslatedOrRejected) {
  auto cfg = testing::loadYaml(kYaml);
  ASSERT_TRUE(cfg);
  const auto all = toEnvoy(*cfg);
  std::mt19937 rng(20261204);
  int accepted = 0, rejected = 0;
  for (std::string_view type : {kListenerType, kRouteConfigurationType}) {
    for (const auto& r : all.at(std::string(type))) {
      ASSERT_EQ(checkResource(type, r.body), "") << r.name;
      const std::string bytes = r.body.value();
      for (int round = 0; round < 400; ++round) {
        std::string damaged = bytes;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
          const size_t at = rng() % damaged.size();
          switch (rng() % 3) {
            case 0: damaged[at] = static_cast<char>(rng()); break;
            case 1: damaged.erase(at, 1 + rng() % 8); break;
            default: damaged.insert(at, 1, static_cast<char>(rng())); break;
          }
          if (damaged.empty()) damaged = "x";
        }
        google::protobuf::Any any;
        any.set_type_url(std::string(type));
        any.set_value(damaged);
        const std::string error = checkResource(type, any);
        if (error.empty()) {
          ++accepted;
        } else {
          ++rejected;
          EXPECT_EQ(error.rfind(std::string(shortTypeName(type)), 0), 0u) << error;
        }
      }
    }
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace sluice::xds
