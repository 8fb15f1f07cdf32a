// What sluice-control serves a proxyless gRPC client must pass that
// client's own checks: the proxyless Listener and the route tables, decoded
// by the xDS client of @grpc/grpc-js-xds (tests/unit/xds/listener_grpc_check.js),
// the same code a Node gRPC client runs on an LDS or RDS response.
#include <unistd.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tests/unit/xds/listener_translate_support.h"

namespace sluice::xds {
namespace {

const std::string kModules = std::string(SLUICE_SOURCE_DIR) + "/.npm-deps/node_modules";

bool haveGrpcJsXds() { return std::ifstream(kModules + "/@grpc/grpc-js-xds/package.json").good(); }

// Each body to a file; node's lines ("ok name" / "error name: why").
std::vector<std::string> grpcCheck(std::string_view type_url, const std::vector<Resource>& resources) {
  std::string cmd = "env NODE_PATH='" + kModules + "' timeout 60 node '" + SLUICE_SOURCE_DIR +
                    "/tests/unit/xds/listener_grpc_check.js' '" + std::string(type_url) + "'";
  for (size_t i = 0; i < resources.size(); ++i) {
    const std::string path = ::testing::TempDir() + "/listener_grpc_check_" + std::to_string(::getpid()) + "_" + std::to_string(i) + ".bin";
    std::ofstream(path, std::ios::binary) << resources[i].body.value();
    cmd += " '" + path + "'";
  }
  cmd += " 2>&1";
  std::vector<std::string> lines;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return lines;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    lines.push_back(line);
  }
  ::pclose(p);
  return lines;
}

// Routes as a gRPC service mesh uses them: weights, header and method
// matches, retries of gRPC statuses, timeouts, and per-route overrides of
// filters the client has (fault) and has not (the others).
constexpr const char* kYaml = R"(
listeners:
  - name: web
    address: 127.0.0.1:8080
    http:
      route_config_name: echo-routes
      http_filters:
        - fault: {abort: {http_status: 503, percentage: 0}}
        - local_ratelimit: {stat_prefix: e, token_bucket: {max_tokens: 5, tokens_per_fill: 5, fill_interval: 1s}}
        - header_mutation: {request_headers_to_remove: [x-a]}
        - authz: {stat_prefix: e, default_action: allow}
route_configs:
  - name: echo-routes
    virtual_hosts:
      - name: echo
        domains: [echo, echo.example.com]
        retry_policy: {retry_on: [unavailable, cancelled], num_retries: 2, retry_back_off: {base_interval: 10ms, max_interval: 100ms}}
        per_filter_config:
          local_ratelimit: {stat_prefix: v, token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}}
        routes:
          - match: {prefix: /echo.Echo/Slow, headers: [{name: x-canary, exact: "1"}], methods: [POST]}
            route: {cluster: echo-b, timeout: 30s, max_grpc_timeout: 5s}
            per_filter_config:
              fault: {delay: {fixed_delay: 10ms, percentage: 50}}
              header_mutation: {request_headers_to_add: [{name: x-r, value: "1"}]}
              authz: {stat_prefix: r, default_action: deny, rules: [{name: a, action: allow, principals: [{authenticated: true}]}]}
          - match: {regex: "/echo.Echo/.*"}
            route: {weighted_clusters: [{name: echo-a, weight: 9}, {name: echo-b, weight: 1}]}
clusters:
  - name: echo-a
    endpoints: [{address: 127.0.0.1:50051}]
  - name: echo-b
    endpoints: [{address: 127.0.0.1:50052}]
)";

TEST(XdsGrpcClient, TakesTheProxylessListenerAndItsRouteTable) {
  if (!haveGrpcJsXds()) GTEST_SKIP() << "@grpc/grpc-js-xds not installed (scripts/install-deps)";
  auto cfg = testing::loadYaml(kYaml);
  ASSERT_TRUE(cfg);
  std::vector<Resource> listeners;
  for (const std::string name : {"echo", "echo:50051", "echo.example.com:443"}) {
    auto l = proxylessListener(*cfg, name);
    ASSERT_TRUE(l) << name;
    listeners.push_back(*l);
  }
  EXPECT_EQ(grpcCheck(kListenerType, listeners),
            (std::vector<std::string>{"ok echo", "ok echo:50051", "ok echo.example.com:443"}));
  const auto all = toEnvoy(*cfg);
  EXPECT_EQ(grpcCheck(kRouteConfigurationType, all.at(std::string(kRouteConfigurationType))),
            (std::vector<std::string>{"ok echo-routes"}));
}

// Known limits of gRPC's client, which refuses the whole table: routes that
// answer themselves (redirect, direct_response) and a retry policy of 0
// retries. Sluice and Envoy take them; a table meant for proxyless clients
// must not use them.
TEST(XdsGrpcClient, RefusesWhatOnlyProxiesDo) {
  if (!haveGrpcJsXds()) GTEST_SKIP() << "@grpc/grpc-js-xds not installed (scripts/install-deps)";
  auto cfg = testing::loadYaml(R"(
route_configs:
  - name: redirecting
    virtual_hosts: [{name: v, domains: [a], routes: [{match: {prefix: /}, redirect: {host_redirect: b}}]}]
  - name: no-retries
    virtual_hosts:
      - {name: v, domains: [a], retry_policy: {retry_on: [unavailable], num_retries: 0}, routes: [{match: {prefix: /}, route: {cluster: c}}]}
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
)");
  ASSERT_TRUE(cfg);
  const auto lines = grpcCheck(kRouteConfigurationType, toEnvoy(*cfg).at(std::string(kRouteConfigurationType)));
  ASSERT_EQ(lines.size(), 2u) << testing::joined(lines);
  EXPECT_EQ(lines[0].rfind("error redirecting: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("unsupported action: redirect"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].rfind("error no-retries: ", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("num_retries"), std::string::npos) << lines[1];
}

}  // namespace
}  // namespace sluice::xds
