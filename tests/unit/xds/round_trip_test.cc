// Sluice YAML -> model -> Envoy v3 (toEnvoy) -> the wire -> model (assemble):
// listeners, HTTP settings, every HTTP and network filter, route tables come
// back the same, compared whole through config::toJson (the dump that lists
// every field the proxy uses). Non-default values everywhere, so a field
// that does not come back shows.
#include <gtest/gtest.h>

#include "tests/unit/xds/listener_translate_support.h"

namespace sluice::xds {
namespace {

using testing::canonical;
using testing::joined;
using testing::loadYaml;
using testing::roundTrip;

void expectRoundTrip(const std::string& yaml) {
  auto cfg = loadYaml(yaml);
  ASSERT_TRUE(cfg);
  const AssembleResult r = roundTrip(*cfg);
  ASSERT_TRUE(r.config) << joined(r.errors);
  EXPECT_TRUE(r.warnings.empty()) << joined(r.warnings);
  EXPECT_EQ(canonical(*r.config).dump(2), canonical(*cfg).dump(2));
}

constexpr const char* kClusters = R"(
clusters:
  - name: users
    endpoints: [{address: 127.0.0.1:18081}]
  - name: users-v2
    endpoints: [{address: 127.0.0.1:18082, weight: 3}]
  - name: db
    endpoints: [{address: 127.0.0.1:5432}]
)";

TEST(XdsRoundTrip, HttpListenerWithRdsRoutesAndWeightedClusters) {
  expectRoundTrip(std::string(R"(
listeners:
  - name: web
    address: 127.0.0.1:8080
    http:
      route_config_name: main
route_configs:
  - name: main
    virtual_hosts:
      - name: api
        domains: [api.example.com, "*.example.org"]
        routes:
          - match: {prefix: /v2}
            route:
              weighted_clusters: [{name: users, weight: 90}, {name: users-v2, weight: 10}]
          - match: {prefix: /}
            route: {cluster: users}
)") + kClusters);
}

TEST(XdsRoundTrip, HttpConnectionSettings) {
  expectRoundTrip(std::string(R"(
listeners:
  - name: web
    address: 127.0.0.1:8080
    max_connections: 500
    per_connection_buffer_limit_bytes: 65536
    http:
      route_config_name: main
      codec: http2
      http2:
        max_concurrent_streams: 50
        initial_stream_window_size: 131072
        initial_connection_window_size: 262144
        max_frame_size: 32768
        keepalive_interval: 30s
        keepalive_timeout: 5s
        max_stream_resets_per_second: 20
        max_stream_resets_burst: 200
      max_request_headers_bytes: 32768
      max_uri_bytes: 4096
      max_headers_count: 50
      max_request_body_mib: 8
      request_headers_timeout: 3s
      stream_idle_timeout: 1m
      max_stream_duration: 10m
      idle_timeout: 90s
      buffer_limit_bytes: 65536
      xff_num_trusted_hops: 2
      generate_request_id: false
      forward_client_cert_details: append_forward
      normalize_path: false
      merge_slashes: false
      path_with_escaped_slashes: unescape_and_forward
      reject_backslash: false
      reject_path_parameters_dot_segments: false
      reject_overlong_utf8: false
      original_path_header: x-envoy-original-path
      access_log: [{path: /dev/stdout, format: json}]
  - name: odd-header-limit
    address: 127.0.0.1:8081
    http: {route_config_name: main, codec: http1, max_request_headers_bytes: 5000, http2: {keepalive_timeout: 7s}}
route_configs:
  - name: main
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes: [{match: {prefix: /}, route: {cluster: users}}]
)") + kClusters);
}

TEST(XdsRoundTrip, EveryHttpFilterAtListenerAndRouteLevel) {
  expectRoundTrip(std::string(R"(
listeners:
  - name: web
    address: 127.0.0.1:8080
    http:
      route_config_name: main
      http_filters:
        - authz:
            stat_prefix: web
            default_action: deny
            rules:
              - name: clients
                action: allow
                principals:
                  - {spiffe_id: {exact: "spiffe://td/ns/default/sa/client"}}
                  - {spiffe_id: {prefix: "spiffe://td/ns/prod/"}}
                  - {source_ip: 10.0.0.0/8}
                methods: [GET, HEAD]
                paths: [{prefix: /api}, {exact: /healthz}]
                headers: [{name: x-env, exact: prod}]
              - {name: ops, action: allow, principals: [{authenticated: true}]}
        - fault:
            delay: {fixed_delay: 200ms, percentage: 10}
            abort: {http_status: 503, percentage: 5}
        - header_mutation:
            request_headers_to_add: [{name: x-env, value: prod, append: false}, {name: x-via, value: s, append: true}]
            request_headers_to_remove: [x-internal]
            response_headers_to_add: [{name: x-served-by, value: sluice}]
            response_headers_to_remove: [server]
        - local_ratelimit:
            stat_prefix: edge
            token_bucket: {max_tokens: 10, tokens_per_fill: 5, fill_interval: 2s}
            shadow: true
            response_headers: true
        - local_ratelimit:
            stat_prefix: per-user
            token_bucket: {max_tokens: 3, tokens_per_fill: 3, fill_interval: 1s}
            per_key: {source: header, header: x-user, max_keys: 500}
        - ratelimit:
            stat_prefix: api
            redis: {address: 127.0.0.1:6379, timeout: 40ms}
            domain: edge
            limit: {requests_per_unit: 100, unit: minute, burst: 5}
            descriptors: [{key: client_ip}, {key: header, header: x-user}, {key: generic, value: all}]
            failure_mode: deny
  - name: mixed-authz
    address: 127.0.0.1:8081
    http:
      route_config_name: plain
      http_filters:
        - authz:
            stat_prefix: mixed
            default_action: allow
            rules:
              - {name: admins-ok, action: allow, paths: [{prefix: /admin}], principals: [{authenticated: true}]}
              - {name: no-admin, action: deny, paths: [{prefix: /admin}]}
route_configs:
  - name: main
    virtual_hosts:
      - name: all
        domains: ["*"]
        per_filter_config:
          fault: {abort: {http_status: 429, percentage: 100}}
          header_mutation: {response_headers_to_add: [{name: x-vh, value: "1"}]}
        routes:
          - match: {prefix: /limited}
            route: {cluster: users}
            per_filter_config:
              local_ratelimit: {stat_prefix: r, token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}}
              ratelimit: {disabled: true}
              authz: {stat_prefix: r, default_action: allow, rules: [{name: x, action: deny, methods: [DELETE]}]}
          - match: {prefix: /}
            route: {cluster: users}
            per_filter_config:
              ratelimit:
                stat_prefix: r2
                redis: {address: 127.0.0.1:6380}
                domain: d
                limit: {requests_per_unit: 1, unit: second}
                descriptors: [{key: path}]
  - name: plain
    virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: users}}]}]
)") + kClusters);
}

TEST(XdsRoundTrip, RouteTables) {
  expectRoundTrip(std::string(R"(
listeners:
  - name: web
    address: 127.0.0.1:8080
    http:
      route_config_name: main
route_configs:
  - name: main
    request_headers_to_add: [{name: x-top, value: "1"}]
    request_headers_to_remove: [x-drop]
    response_headers_to_add: [{name: x-r, value: v, append: true}]
    response_headers_to_remove: [x-secret]
    virtual_hosts:
      - name: api
        domains: [api.example.com, "api.*"]
        retry_policy:
          retry_on: [5xx, reset, cancelled, unavailable]
          num_retries: 3
          per_try_timeout: 250ms
          retry_back_off: {base_interval: 10ms, max_interval: 80ms}
          retriable_status_codes: [409, 429]
          retriable_headers: [{name: x-retry, exact: "1"}]
          max_request_body_bytes: 1024
          retry_non_idempotent: true
        request_headers_to_add: [{name: x-vh, value: a}]
        routes:
          - name: users-get
            match:
              path: /users
              case_sensitive: false
              methods: [GET]
              headers:
                - {name: x-canary, exact: "1"}
                - {name: x-debug, present: true}
                - {name: x-tag, prefix: a, invert: true}
                - {name: x-s, suffix: z}
                - {name: x-c, contains: mid}
                - {name: x-re, regex: "v[0-9]+"}
              query_parameters:
                - {name: q, exact: x}
                - {name: p, present: true}
            route:
              cluster: users
              host_rewrite: users.internal
              timeout: 3s
              max_grpc_timeout: 2s
              priority: high
              retry_policy: {retry_on: "gateway-error,connect-failure", num_retries: 1}
            request_headers_to_add: [{name: x-route, value: users}]
            response_headers_to_remove: [x-upstream]
          - match: {prefix: /old, methods: [GET, POST, PUT]}
            route: {cluster: users, prefix_rewrite: /new, timeout: 0}
          - match: {regex: "/re/[a-z]+"}
            route: {cluster: db}
          - match: {prefix: /moved}
            redirect: {scheme_redirect: https, host_redirect: new.example.com, prefix_rewrite: /here, strip_query: true, response_code: 308}
          - match: {path: /gone}
            redirect: {path_redirect: /elsewhere, response_code: 302}
          - match: {path: /teapot}
            direct_response: {status: 418, body: "short and stout", content_type: application/json}
          - match: {path: /empty}
            direct_response: {status: 204}
      - name: other
        domains: ["*"]
        routes: [{match: {prefix: /}, route: {cluster: users}}]
)") + kClusters);
}

TEST(XdsRoundTrip, ListenerForms) {
  expectRoundTrip(std::string(R"(
listeners:
  - name: tcp
    address: 127.0.0.1:5433
    authz:
      stat_prefix: db
      default_action: deny
      rules: [{name: app, action: allow, principals: [{source_ip: 10.1.0.0/16}]}]
    local_ratelimit:
      stat_prefix: db
      token_bucket: {max_tokens: 100, tokens_per_fill: 100, fill_interval: 1s}
    tcp_proxy: {cluster: db, idle_timeout: 10m, max_connect_attempts: 2}
  - name: tcp-shadow
    address: 127.0.0.1:5434
    local_ratelimit:
      stat_prefix: db2
      token_bucket: {max_tokens: 5, tokens_per_fill: 5, fill_interval: 1s}
      per_key: {source: client_ip, max_keys: 100}
      shadow: true
    tcp_proxy: {cluster: db}
  - name: chains
    address: "[::1]:8443"
    filter_chains:
      - match: {server_names: [a.example.com, "*.b.example.com"], transport_protocol: raw_buffer}
        tcp_proxy: {cluster: db}
      - match: {application_protocols: [h2]}
        http: {route_config_name: main}
      - tcp_proxy: {cluster: users}
route_configs:
  - name: main
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes: [{match: {prefix: /}, route: {cluster: users}}]
)") + kClusters);
}

}  // namespace
}  // namespace sluice::xds
