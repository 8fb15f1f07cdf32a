// Envoy v3 resources as other control planes send them, read by assemble and
// checkResource: what is taken, and one test per kind of rejection with the
// exact message an ADS client NACKs with.
#include <gtest/gtest.h>

#include "config/route_config.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "filters/network/http/config.h"
#include "tests/unit/xds/listener_translate_support.h"

namespace sluice::xds {
namespace {

using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using testing::fromText;
using testing::joined;
using testing::packed;

constexpr const char* kHcm = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

// A listener on 127.0.0.1:8080 whose one chain holds `hcm_body` (the
// HttpConnectionManager's fields in text format).
Listener httpListener(const std::string& hcm_body, const std::string& name = "web") {
  return fromText<Listener>("name: '" + name +
                            "' address { socket_address { address: '127.0.0.1' port_value: 8080 } } "
                            "filter_chains { filters { name: 'hcm' typed_config { [" +
                            std::string(kHcm) + "] { stat_prefix: 'x' " + hcm_body + " } } } }");
}

constexpr const char* kRouter =
    "http_filters { name: 'envoy.filters.http.router' typed_config { "
    "[type.googleapis.com/envoy.extensions.filters.http.router.v3.Router] {} } }";
constexpr const char* kRds = "rds { config_source { ads {} resource_api_version: V3 } route_config_name: 'main' } ";

std::string listenerError(const Listener& l) { return checkResource(kListenerType, packed(l)); }
std::string routeError(const RouteConfiguration& r) { return checkResource(kRouteConfigurationType, packed(r)); }

// ---- taken ----

TEST(XdsFromEnvoy, InlineRouteConfigAndOptionalUnknownFilter) {
  ReceivedResources in;
  in.listeners["web"] = packed(httpListener(
      "route_config { virtual_hosts { name: 'all' domains: '*' domains: 'svc:8080' domains: 'svc' "
      "  routes { match { prefix: '' } route { cluster: 'users' } } } } "
      "http_filters { name: 'envoy.filters.http.cors' is_optional: true typed_config { "
      "  [type.googleapis.com/google.protobuf.Empty] {} } } " +
      std::string(kRouter)));
  const AssembleResult r = assemble(config::Config{}, in);
  ASSERT_TRUE(r.config) << joined(r.errors);
  // The inline table takes the listener's name; the missing cluster is a warning (503 until it comes).
  ASSERT_EQ(r.config->route_configs.size(), 1u);
  const auto& rc = r.config->route_configs[0];
  EXPECT_EQ(rc.name, "web");
  ASSERT_EQ(rc.spec->virtual_hosts.size(), 1u);
  EXPECT_EQ(rc.spec->virtual_hosts[0].domains, (std::vector<std::string>{"*", "svc"}));
  EXPECT_EQ(rc.spec->virtual_hosts[0].routes[0].match.path, "/");
  EXPECT_EQ(rc.spec->virtual_hosts[0].routes[0].name, "all/0");
  ASSERT_EQ(r.config->listeners.size(), 1u);
  const auto& http = static_cast<const filters::http_cm::Spec&>(*r.config->listeners[0].filters.at(0).spec);
  EXPECT_EQ(http.route_config_name, "web");
  EXPECT_TRUE(http.http_filters.empty());  // the optional unknown one is skipped
  EXPECT_EQ(joined(r.warnings),
            "Listener 'web': filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route."
            "cluster: unknown cluster 'users'\n");
}

TEST(XdsFromEnvoy, EnvoyStyleFiltersWithoutSluiceMetadata) {
  ReceivedResources in;
  in.listeners["web"] = packed(httpListener(
      std::string(kRds) +
      "http_filters { name: 'rl' typed_config { "
      "  [type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit] { "
      "    stat_prefix: 'edge' token_bucket { max_tokens: 20 tokens_per_fill { value: 10 } fill_interval { seconds: 1 } } "
      "    filter_enabled { default_value { numerator: 100 } runtime_key: 'a' } "
      "    filter_enforced { default_value { numerator: 100 } runtime_key: 'b' } } } } "
      "http_filters { name: 'rbac' typed_config { "
      "  [type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC] { rules { action: ALLOW "
      "    policies { key: 'reader' value { permissions { header { name: ':method' string_match { exact: 'GET' } } } "
      "      principals { authenticated { principal_name { exact: 'spiffe://td/ns/a/sa/b' } } } } } } } } } "
      "http_filters { name: 'fault' typed_config { "
      "  [type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault] { "
      "    abort { http_status: 503 percentage { numerator: 250000 denominator: MILLION } } } } } " +
      std::string(kRouter)));
  in.route_configs["main"] = packed(fromText<RouteConfiguration>(
      "name: 'main' virtual_hosts { name: 'all' domains: '*' routes { match { prefix: '/' } "
      "direct_response { status: 200 } } }"));
  const AssembleResult r = assemble(config::Config{}, in);
  ASSERT_TRUE(r.config) << joined(r.errors);
  const auto& http = static_cast<const filters::http_cm::Spec&>(*r.config->listeners.at(0).filters.at(0).spec);
  ASSERT_EQ(http.http_filters.size(), 3u);
  EXPECT_EQ(http.http_filters[0].spec->toJson().dump(),
            R"({"response_headers":false,"shadow":false,"stat_prefix":"edge",)"
            R"("token_bucket":{"fill_interval":"1s","max_tokens":20,"tokens_per_fill":10}})");
  EXPECT_EQ(http.http_filters[1].name, "authz");
  const auto authz = http.http_filters[1].spec->toJson();
  EXPECT_EQ(authz["default_action"], "deny");
  EXPECT_EQ(authz["rules"][0]["name"], "reader");
  EXPECT_EQ(authz["rules"][0]["action"], "allow");
  EXPECT_EQ(authz["rules"][0]["methods"], nlohmann::json::array({"GET"}));
  EXPECT_EQ(http.http_filters[2].spec->toJson().dump(), R"({"abort":{"http_status":503,"percentage":25}})");
}

TEST(XdsFromEnvoy, HttpConnectionManagerFieldsAsEnvoyWritesThem) {
  ReceivedResources in;
  in.listeners["web"] = packed(httpListener(
      std::string(kRds) +
      "codec_type: HTTP2 stream_idle_timeout { seconds: 30 } request_headers_timeout { nanos: 500000000 } "
      "common_http_protocol_options { idle_timeout { seconds: 120 } max_headers_count { value: 64 } "
      "  max_stream_duration { seconds: 600 } } "
      "http2_protocol_options { max_concurrent_streams { value: 2147483647 } initial_stream_window_size { value: 65536 } "
      "  connection_keepalive { interval { seconds: 10 } timeout { seconds: 2 } } } "
      "max_request_headers_kb { value: 16 } normalize_path { value: false } merge_slashes: true "
      "path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT xff_num_trusted_hops: 1 "
      "generate_request_id { value: false } forward_client_cert_details: FORWARD_ONLY "
      "use_remote_address { value: true } server_name: 'istio-envoy' tracing {} " +  // ignored
      kRouter));
  const AssembleResult r = assemble(config::Config{}, in);
  ASSERT_TRUE(r.config) << joined(r.errors);
  const auto& s = static_cast<const filters::http_cm::Spec&>(*r.config->listeners.at(0).filters.at(0).spec);
  EXPECT_EQ(s.codec, config::HttpCodec::Http2);
  EXPECT_EQ(s.stream_idle_timeout, config::Duration(30000));
  EXPECT_EQ(s.request_headers_timeout, config::Duration(500));
  EXPECT_EQ(s.idle_timeout, config::Duration(120000));
  EXPECT_EQ(s.max_headers_count, 64u);
  EXPECT_EQ(s.max_stream_duration, config::Duration(600000));
  EXPECT_EQ(s.http2.max_concurrent_streams, 1u << 20);  // Envoy's "no limit": the model's maximum
  EXPECT_EQ(s.http2.initial_stream_window_size, 65536u);
  EXPECT_EQ(s.http2.keepalive_interval, config::Duration(10000));
  EXPECT_EQ(s.http2.keepalive_timeout, config::Duration(2000));
  EXPECT_EQ(s.max_request_headers_bytes, 16u * 1024);
  EXPECT_FALSE(s.normalize_path);
  EXPECT_TRUE(s.merge_slashes);
  EXPECT_EQ(s.path_with_escaped_slashes, config::EscapedSlashes::UnescapeAndRedirect);
  EXPECT_EQ(s.xff_num_trusted_hops, 1u);
  EXPECT_FALSE(s.generate_request_id);
  EXPECT_EQ(s.forward_client_cert_details, config::ForwardClientCert::ForwardOnly);
  EXPECT_EQ(s.route_config_name, "main");
  // Not received yet: served as 404 until it comes.
  EXPECT_EQ(joined(r.warnings), "Listener 'web': http.route_config_name: unknown route config 'main'\n");
}

// ---- rejected ----

struct Rejection {
  const char* what;
  std::string error;
  std::string expected;
};

TEST(XdsFromEnvoy, ListenerRejections) {
  const Rejection cases[] = {
      {"api_listener without address",
       listenerError(fromText<Listener>(
           "name: 'echo' api_listener { api_listener { [" + std::string(kHcm) + "] { stat_prefix: 'x' } } }")),
       "Listener 'echo': address: required (api_listener is for proxyless clients)"},
      {"listener field Sluice lacks",
       listenerError(fromText<Listener>(
           "name: 'web' address { socket_address { address: '127.0.0.1' port_value: 1 } } "
           "transparent { value: true }")),
       "Listener 'web': transparent: not supported by Sluice"},
      {"listener filter",
       listenerError(fromText<Listener>(
           "name: 'web' address { socket_address { address: '127.0.0.1' port_value: 1 } } "
           "listener_filters { name: 'envoy.filters.listener.proxy_protocol' }")),
       "Listener 'web': listener_filters[0]: 'envoy.filters.listener.proxy_protocol' is not supported by Sluice "
       "(only the TLS inspector, which it always runs, and original_dst)"},
      {"bad prefix range",
       listenerError(fromText<Listener>(
           "name: 'web' address { socket_address { address: '0.0.0.0' port_value: 1 } } "
           "filter_chains { filter_chain_match { prefix_ranges { address_prefix: '10.1.0.0' prefix_len { value: 8 } } } "
           "filters { name: 'envoy.filters.network.tcp_proxy' } }")),
       "Listener 'web': filter_chains[0].filter_chain_match.prefix_ranges[0]: '10.1.0.0/8': address has bits set "
       "past the prefix length"},
      {"not an IP address",
       listenerError(fromText<Listener>(
           "name: 'web' address { socket_address { address: 'localhost' port_value: 1 } } ")),
       "Listener 'web': address.socket_address.address: 'localhost' is not an IP address (Sluice resolves no "
       "names)"},
      {"unknown network filter",
       [] {
         auto l = fromText<Listener>("name: 'web' address { socket_address { address: '127.0.0.1' port_value: 1 } } "
                                     "filter_chains { filters { name: 'redis' } }");
         l.mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config()->set_type_url(
             "type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy");
         return listenerError(l);
       }(),
       "Listener 'web': filter_chains[0].filters[0].typed_config: unsupported network filter type "
       "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy"},
      {"unknown HTTP filter, not optional",
       listenerError(httpListener(std::string(kRds) +
                                  "http_filters { name: 'cors' typed_config { [type.googleapis.com/google.protobuf.Empty] {} } } " +
                                  kRouter)),
       "Listener 'web': filter_chains[0].filters[0].typed_config.http_filters[0].typed_config: unsupported HTTP "
       "filter type google.protobuf.Empty"},
      {"no router", listenerError(httpListener(kRds)),
       "Listener 'web': filter_chains[0].filters[0].typed_config.http_filters: the router "
       "(envoy.extensions.filters.http.router.v3.Router) must be the last HTTP filter"},
      {"router not last",
       listenerError(httpListener(std::string(kRds) + kRouter +
                                  " http_filters { name: 'f' typed_config { "
                                  "[type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault] {} } }")),
       "Listener 'web': filter_chains[0].filters[0].typed_config.http_filters[1]: the router must be the last HTTP "
       "filter"},
      {"HTTP connection manager field Sluice lacks",
       listenerError(httpListener(std::string(kRds) + "via: 'proxy' " + kRouter)),
       "Listener 'web': filter_chains[0].filters[0].typed_config.via: not supported by Sluice"},
      {"routes from elsewhere than ADS",
       listenerError(httpListener(
           "rds { config_source { path_config_source { path: '/etc/routes.yaml' } } route_config_name: 'r' } " +
           std::string(kRouter))),
       "Listener 'web': filter_chains[0].filters[0].typed_config.rds.config_source: Sluice takes routes over ADS "
       "only (ads or self)"},
      {"HTTP filter field our spec cannot hold",
       listenerError(httpListener(
           std::string(kRds) +
           "http_filters { name: 'f' typed_config { [type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault] "
           "{ abort { http_status: 503 } max_active_faults { value: 3 } } } } " +
           kRouter)),
       "Listener 'web': filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.max_active_faults: not "
       "supported by Sluice"},
      {"HTTP filter value out of range (the filter's own reader)",
       listenerError(httpListener(
           std::string(kRds) +
           "http_filters { name: 'f' typed_config { [type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault] "
           "{ abort { http_status: 700 percentage { numerator: 5 } } } } } " +
           kRouter)),
       "Listener 'web': filter_chains[0].filters[0].typed_config.http_filters[0].typed_config: abort.http_status: "
       "expected an integer between 200 and 599"},
      {"partial percentages",
       listenerError(httpListener(
           std::string(kRds) +
           "http_filters { name: 'f' typed_config { [type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault] "
           "{ abort { http_status: 503 percentage { numerator: 5 denominator: TEN_THOUSAND } } } } } " +
           kRouter)),
       "Listener 'web': filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.abort.percentage: Sluice "
       "takes whole percents"},
      {"Redis rate limit without its Sluice settings",
       listenerError(httpListener(
           std::string(kRds) +
           "http_filters { name: 'rl' typed_config { [type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit] "
           "{ domain: 'd' } } } " +
           kRouter)),
       "Listener 'web': filter_chains[0].filters[0].typed_config.http_filters[0].typed_config: Sluice's ratelimit "
       "counts in Redis, not in a rate limit service: it needs its io.sluice metadata (from sluice-control)"},
      {"tcp_proxy weighted_clusters",
       listenerError(fromText<Listener>(
           "name: 'db' address { socket_address { address: '127.0.0.1' port_value: 1 } } filter_chains { filters { "
           "name: 'tcp' typed_config { [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] "
           "{ stat_prefix: 'db' weighted_clusters { clusters { name: 'a' weight: 1 } } } } } }")),
       "Listener 'db': filter_chains[0].filters[0].typed_config.weighted_clusters: not supported by Sluice"},
      {"terminal filter not last",
       listenerError(fromText<Listener>(
           "name: 'db' address { socket_address { address: '127.0.0.1' port_value: 1 } } filter_chains { "
           "filters { name: 'tcp' typed_config { [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] "
           "{ stat_prefix: 'db' cluster: 'a' } } } "
           "filters { name: 'rbac' typed_config { [type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC] "
           "{ stat_prefix: 'db' } } } }")),
       "Listener 'db': filter_chains[0].filters[0]: a terminal network filter must come last"},
      {"io.sluice value out of range",
       [] {
         auto l = httpListener(std::string(kRds) + kRouter);
         auto& md = (*l.mutable_filter_chains(0)->mutable_metadata()->mutable_filter_metadata())["io.sluice"];
         (*md.mutable_fields())["http"].mutable_struct_value();
         (*(*md.mutable_fields())["http"].mutable_struct_value()->mutable_fields())["max_uri_bytes"].set_number_value(
             100.5);
         return listenerError(l);
       }(),
       "Listener 'web': filter_chains[0].metadata.io.sluice.http.max_uri_bytes: must be a whole number in "
       "64..1048576"},
      {"a value the http filter's own reader refuses",
       [] {
         auto l = httpListener(std::string(kRds) + kRouter);
         auto& md = (*l.mutable_filter_chains(0)->mutable_metadata()->mutable_filter_metadata())["io.sluice"];
         (*(*md.mutable_fields())["http"].mutable_struct_value()->mutable_fields())["original_path_header"]
             .set_string_value("Host");
         return listenerError(l);
       }(),
       "Listener 'web': filter_chains[0].filters[0].typed_config: original_path_header: 'Host' is not a field this "
       "proxy may set"},
      {"io.sluice spec for a filter the chain lacks",
       [] {
         auto l = httpListener(std::string(kRds) + kRouter);
         auto& md = (*l.mutable_filter_chains(0)->mutable_metadata()->mutable_filter_metadata())["io.sluice"];
         (*md.mutable_fields())["http_filters"].mutable_struct_value()->mutable_fields()->insert(
             {"envoy.filters.http.ratelimit", google::protobuf::Value()});
         return listenerError(l);
       }(),
       "Listener 'web': filter_chains[0].metadata.io.sluice.http_filters.envoy.filters.http.ratelimit: no HTTP filter "
       "of that name"},
      {"unknown io.sluice key",
       [] {
         auto l = httpListener(std::string(kRds) + kRouter);
         auto& md = (*l.mutable_metadata()->mutable_filter_metadata())["io.sluice"];
         (*md.mutable_fields())["max_conections"].set_number_value(1);
         return listenerError(l);
       }(),
       "Listener 'web': metadata.io.sluice.max_conections: unknown Sluice field (from a newer sluice-control?)"},
  };
  for (const auto& c : cases) EXPECT_EQ(c.error, c.expected) << c.what;
}

TEST(XdsFromEnvoy, RouteConfigurationRejections) {
  const auto route = [](const std::string& body) {
    return routeError(fromText<RouteConfiguration>(
        "name: 'r' virtual_hosts { name: 'v' domains: '*' routes { match { prefix: '/' } " + body + " } }"));
  };
  const Rejection cases[] = {
      {"cluster_header", route("route { cluster_header: 'x-cluster' }"),
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].route.cluster_header: not supported by Sluice"},
      {"regex_rewrite",
       route("route { cluster: 'c' regex_rewrite { pattern { regex: 'a' } substitution: 'b' } }"),
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].route.regex_rewrite: not supported by Sluice"},
      {"max_stream_duration", route("route { cluster: 'c' max_stream_duration { max_stream_duration { seconds: 5 } } }"),
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].route.max_stream_duration.max_stream_duration: not "
       "supported by Sluice"},
      {"unknown retry_on", route("route { cluster: 'c' retry_policy { retry_on: '5xx,envoy-ratelimited' } }"),
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].route.retry_policy.retry_on: 'envoy-ratelimited' is not "
       "supported by Sluice"},
      {"weights summing to 0",
       route("route { weighted_clusters { clusters { name: 'a' weight { value: 0 } } } }"),
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].route.weighted_clusters.clusters: the total weight must "
       "be 1..4294967295"},
      {"non-forwarding action", route("non_forwarding_action {}"),
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].non_forwarding_action: not supported by Sluice"},
      {"append_action Sluice lacks", route("route { cluster: 'c' } request_headers_to_add { header { key: 'a' value: 'b' } append_action: ADD_IF_ABSENT }"),
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].request_headers_to_add[0].append_action: ADD_IF_ABSENT is "
       "not supported by Sluice"},
      {"domain with a port alone",
       routeError(fromText<RouteConfiguration>("name: 'r' virtual_hosts { name: 'v' domains: 'svc:8080' }")),
       "RouteConfiguration 'r': virtual_hosts[0].domains[0]: 'svc:8080': Sluice matches domains without the port; "
       "list 'svc'"},
      {"wildcard inside a domain",
       routeError(fromText<RouteConfiguration>("name: 'r' virtual_hosts { name: 'v' domains: 'a.*.com' }")),
       "RouteConfiguration 'r': virtual_hosts[0].domains[0]: 'a.*.com': '*' may only start (\"*.example.com\") or "
       "end (\"api.*\") a domain"},
      {"unknown per-route filter, not optional",
       routeError(fromText<RouteConfiguration>(
           "name: 'r' virtual_hosts { name: 'v' domains: '*' typed_per_filter_config { key: 'cors' value { "
           "[type.googleapis.com/google.protobuf.Empty] {} } } }")),
       "RouteConfiguration 'r': virtual_hosts[0].typed_per_filter_config[cors]: unsupported HTTP filter type "
       "google.protobuf.Empty"},
      {"a Cluster sent as a RouteConfiguration",
       checkResource(kRouteConfigurationType,
                     testing::packed(fromText<Listener>("name: 'x'"))),
       "RouteConfiguration '': resource is a type.googleapis.com/envoy.config.listener.v3.Listener, not a "
       "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"},
  };
  for (const auto& c : cases) EXPECT_EQ(c.error, c.expected) << c.what;
  auto rc = fromText<RouteConfiguration>(
      "name: 'r' virtual_hosts { name: 'v' domains: '*' routes { match { prefix: '/' "
      "headers { name: 'x' range_match { start: 1 end: 2 } } } route { cluster: 'c' } } }");
  EXPECT_EQ(routeError(rc), "RouteConfiguration 'r': virtual_hosts[0].routes[0].match.headers[0].range_match: not "
                            "supported by Sluice");
}

TEST(XdsFromEnvoy, CheckResourceTakesAGoodResource) {
  EXPECT_EQ(listenerError(httpListener(std::string(kRds) + kRouter)), "");
  EXPECT_EQ(routeError(fromText<RouteConfiguration>(
                "name: 'r' virtual_hosts { name: 'v' domains: '*' routes { match { path: '/x' } "
                "redirect { https_redirect: true } } }")),
            "");
}

TEST(XdsFromEnvoy, AssembleRejectsClashesAndCollectsEveryError) {
  auto base = testing::loadYaml(R"(
listeners:
  - name: admin-tcp
    address: 127.0.0.1:9000
    tcp_proxy: {cluster: local}
clusters:
  - name: local
    endpoints: [{address: 127.0.0.1:9001}]
)");
  ASSERT_TRUE(base);
  ReceivedResources in;
  auto clash = httpListener(std::string(kRds) + kRouter, "admin-tcp");
  in.listeners["admin-tcp"] = packed(clash);
  in.route_configs["bad"] = packed(fromText<RouteConfiguration>("name: 'bad' virtual_hosts { name: 'v' }"));
  AssembleResult r = assemble(*base, in);
  EXPECT_FALSE(r.config);
  // Translation errors first (one per rejected resource); clashes are only checked once all translate.
  EXPECT_EQ(joined(r.errors), "RouteConfiguration 'bad': virtual_hosts[0].domains: needs at least one domain\n");
  in.route_configs.erase("bad");
  r = assemble(*base, in);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(joined(r.errors),
            "Listener 'admin-tcp': name already used by a static resource of the bootstrap or another received one\n");
  // Renamed, it joins the static resources; its route table is not there yet: a warning.
  in.listeners.clear();
  in.listeners["web"] = packed(httpListener(std::string(kRds) + kRouter));
  r = assemble(*base, in);
  ASSERT_TRUE(r.config) << joined(r.errors);
  EXPECT_EQ(r.config->listeners.size(), 2u);
  EXPECT_EQ(r.config->bootstrap.admin.address.str(), base->bootstrap.admin.address.str());
  EXPECT_EQ(r.warnings.size(), 1u) << joined(r.warnings);
}

}  // namespace
}  // namespace sluice::xds
