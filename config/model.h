#pragma once
// The typed config model: plain immutable data, shared by the YAML loader
// and (later) the xDS translation. Nothing here knows about sockets or threads.
//
// A loaded Config is validated whole before anything uses it; once published
// it is never mutated (workers hold shared_ptr<const Config>).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "config/hash_policy.h"
#include "config/filter_spec.h"
#include "config/http2_settings.h"
#include "config/overload.h"
#include "ip/address.h"
#include "ip/cidr.h"

namespace sluice::config {

struct RouteConfig;  // route_config.h

using Duration = std::chrono::milliseconds;

// Where a value came from, so cross-reference errors can name file:line:col.
struct SourceLoc {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based
};

struct AdminConfig {
  ip::Address address = *ip::Address::parse("127.0.0.1:9901");
};

// Where a proxy or an endpoint runs, as xDS says it: a node's locality,
// and an endpoint's (its ClusterLoadAssignment's LocalityLbEndpoints).
struct LocalityConfig {
  std::string region;
  std::string zone;
  std::string sub_zone;
  bool operator==(const LocalityConfig&) const = default;
};

struct EndpointConfig {
  ip::Address address;
  uint32_t weight = 1;     // 1..128
  uint32_t priority = 0;   // 0 is tried first; higher levels take spill-over
  // Carried to and from EDS for the proxies and xDS clients that use it;
  // Sluice's own load balancers do not read it yet.
  LocalityConfig locality;
};

// The endpoints of one cluster: a resource of its own (xDS's
// ClusterLoadAssignment, which EDS delivers apart from the cluster), named
// like the cluster that uses it. YAML gives endpoints inline in their
// cluster; the reader lifts them into one of these named after it.
struct ClusterLoadAssignmentSpec {
  std::string cluster_name;
  std::vector<EndpointConfig> endpoints;
};

// Active health checking; exactly one of http / tcp / grpc is set.
struct HealthCheckConfig {
  // The protocol of an HTTP check (Envoy's codec_client_type): HTTP/2 is
  // prior knowledge on a plaintext cluster, h2 by ALPN on a TLS one.
  enum class Codec : uint8_t { Http1, Http2 };
  struct Http {
    std::string path = "/healthz";
    std::string host;  // Host header; empty = the cluster name
    // Inclusive ranges of statuses that count as healthy.
    std::vector<std::pair<int, int>> expected_statuses{{200, 299}};
    Codec codec = Codec::Http1;
  };
  // grpc.health.v1.Health/Check over HTTP/2 (as `codec: http2`): healthy on
  // HTTP 200, grpc-status 0 and status SERVING.
  struct Grpc {
    std::string service_name;  // HealthCheckRequest.service; empty = the server as a whole
    std::string authority;     // :authority; empty = the cluster name
  };
  struct Tcp {
    std::string send;    // bytes written after connect; empty = connect only
    std::string expect;  // bytes that must appear in the reply; empty = none awaited
  };
  Duration interval{std::chrono::seconds(5)};
  Duration timeout{std::chrono::seconds(1)};
  Duration jitter{0};  // each interval gets a uniform random extra in [0, jitter]
  // Interval for a healthy host that served no requests since its last
  // check (the loader defaults it to `interval`).
  Duration no_traffic_interval{std::chrono::seconds(5)};
  uint32_t healthy_threshold = 1;    // consecutive passes to turn healthy
  uint32_t unhealthy_threshold = 3;  // consecutive failures to turn unhealthy
  std::optional<Http> http;
  std::optional<Tcp> tcp;
  std::optional<Grpc> grpc;
};

// Passive health: ejects hosts whose responses show they are failing. A
// detector with a 0 threshold (or an absent success_rate / failure_percentage
// block) is off.
struct OutlierDetectionConfig {
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_gateway_failure = 5;  // connect failure, reset, 502/503/504
  Duration interval{std::chrono::seconds(10)};  // success-rate / failure-percentage evaluation
  Duration base_ejection_time{std::chrono::seconds(30)};
  Duration max_ejection_time{std::chrono::seconds(300)};
  uint32_t max_ejection_percent = 10;  // at least one host may always be ejected
  // Requests let through to a host whose ejection ended (the breaker's
  // half-open state); the first result closes or re-opens it.
  uint32_t half_open_max_requests = 1;
  struct SuccessRate {
    uint32_t minimum_hosts = 5;
    uint32_t request_volume = 100;  // per host per interval
    double stdev_factor = 1.9;      // eject below mean - factor * stdev
  };
  struct FailurePercentage {
    uint32_t threshold = 85;  // eject at or above this % of failed requests
    uint32_t minimum_hosts = 5;
    uint32_t request_volume = 50;
  };
  std::optional<SuccessRate> success_rate;
  std::optional<FailurePercentage> failure_percentage;
};

// Exact cluster-wide limits (all workers together). A route with
// `priority: high` counts against `high`, everything else against `normal`.
// Concurrent retries may be at most budget_percent of the cluster's active
// requests (pending included), and never fewer than min_retry_concurrency: a
// failing upstream then sees about (1 + budget) x the client's rate, not
// (1 + num_retries) x, while a healthy one still gets its few retries.
struct RetryBudget {
  uint32_t budget_percent = 20;
  uint32_t min_retry_concurrency = 3;
};
struct CircuitBreakerThresholds {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  // The static limit on concurrent retries, used only when the budget is off
  // (a group that sets max_retries and no retry_budget).
  uint32_t max_retries = 3;
  std::optional<RetryBudget> retry_budget = RetryBudget{};
};
struct CircuitBreakersConfig {
  CircuitBreakerThresholds normal;
  CircuitBreakerThresholds high;
};

// A named piece of TLS material (xDS's Secret, which SDS delivers by name):
// a certificate with its key, or a trust bundle. TLS blocks name the
// secrets they use. Paths only: certificate sources read the files, and
// read them again when they change.
//
// YAML gives the paths inline in a TLS block; the reader lifts them into
// secrets named after their files, so a file (pair) used by several blocks
// is one secret, and a block whose paths change names another secret (its
// listener is replaced, as with any TLS change):
//   "cert:<cert_chain>,<private_key>"  a certificate; a ',' or '\' inside a
//                                     path is escaped with '\', so no two
//                                     pairs of paths share a name
//   "ca:<trusted_ca>"                 a trust bundle
struct SecretSpec {
  enum class Kind { TlsCertificate, ValidationContext };
  std::string name;
  Kind kind = Kind::TlsCertificate;
  std::string cert_chain;   // TlsCertificate: the leaf first, then intermediates
  std::string private_key;  // TlsCertificate
  std::string trusted_ca;   // ValidationContext: the trust bundle
  // The material itself instead of paths (xDS inline_bytes/inline_string, a
  // mesh CA's trust bundle, the proxy's own certificate agent): when
  // `inline_pem` is true the three fields above hold PEM text, not paths.
  bool inline_pem = false;
};

// Upstream TLS origination (`tls:` on a cluster).
struct UpstreamTlsConfig {
  std::string sni;  // server name sent (and verified when no SAN/SPIFFE check is set)
  std::string validation_context;  // a ValidationContext secret's name; empty = the system store
  std::string certificate;         // a TlsCertificate secret's name: the client certificate (mTLS); optional
  // Certificate provider plugin instances (gRFC A29), named as a proxyless
  // gRPC client's bootstrap names them under `certificate_providers`: such
  // clients take no SDS, so sluice-control serves them these instead of the
  // two secrets above (a block uses one kind or the other). Sluice itself has
  // no provider plugins and refuses a cluster naming one.
  std::string ca_certificate_provider_instance;  // its roots verify the server
  std::string certificate_provider_instance;     // the client certificate (mTLS); optional
  std::vector<std::string> verify_subject_alt_names;  // DNS names or exact URIs
  std::vector<std::string> verify_spiffe_ids;         // exact IDs or "spiffe://td/prefix/*"
  std::vector<std::string> alpn;                       // offered, in order
  SourceLoc loc;
  bool usesCertificateProviders() const {
    return !ca_certificate_provider_instance.empty() || !certificate_provider_instance.empty();
  }
};

enum class LbPolicy { RoundRobin, LeastRequest, Random, RingHash, Maglev };
// Auto: on a TLS cluster, h2 and http/1.1 are offered by ALPN and the
// host's answer decides (remembered per worker and host); on a plaintext
// cluster it is HTTP/1.1 (there is nothing to negotiate with).
enum class UpstreamProtocol : uint8_t { Http1, Http2, Auto };
// "http1", "http2", "auto".
std::string_view upstreamProtocolName(UpstreamProtocol p);
// "round_robin", "least_request", "random", "ring_hash", "maglev".
std::string_view lbPolicyName(LbPolicy p);
// The policy a YAML (or xDS) name stands for; false when none does.
bool parseLbPolicy(std::string_view name, LbPolicy& out);

// Where a cluster's hosts come from: its load assignment, or (original_dst)
// each downstream connection's original destination: no endpoints, no
// balancing (Envoy's ORIGINAL_DST). A connection redirected to a
// use_original_dst listener has such a destination; an HTTP route may also
// name one in a request header where the cluster allows it
// (use_http_header).
enum class ClusterType : uint8_t { Endpoints, OriginalDst };
// "endpoints", "original_dst".
std::string_view clusterTypeName(ClusterType t);

struct ClusterConfig {
  std::string name;
  ClusterType type = ClusterType::Endpoints;
  // original_dst only. use_http_header: an HTTP request's
  // x-envoy-original-dst-host ("10.1.2.3:80", "[2001:db8::1]:80") names its
  // host instead of the connection's original destination. Off by default:
  // a header choosing the upstream lets any client reach any address.
  bool use_http_header = false;
  // original_dst only: a worker's host (and its pooled connections) unused
  // for this long is removed.
  Duration cleanup_interval{std::chrono::seconds(5)};
  Duration connect_timeout{std::chrono::seconds(5)};
  LbPolicy lb_policy = LbPolicy::RoundRobin;
  // Its load assignment's name (Envoy's eds_cluster_config.service_name):
  // the cluster's own for a YAML cluster, whose `endpoints` are lifted into it.
  std::string load_assignment;
  std::vector<HashPolicyConfig> hash_policy;
  uint32_t ring_hash_minimum_ring_size = 1024;
  uint32_t ring_hash_maximum_ring_size = 8 * 1024 * 1024;
  uint32_t maglev_table_size = 65537;  // prime
  uint32_t least_request_choice_count = 2;
  // Below this % of healthy hosts (after overprovisioning) the cluster
  // balances over all hosts, healthy or not. 0 disables panic mode.
  uint32_t panic_threshold_percent = 50;
  uint32_t overprovisioning_factor_percent = 140;
  std::optional<HealthCheckConfig> health_check;
  std::optional<OutlierDetectionConfig> outlier_detection;
  CircuitBreakersConfig circuit_breakers;

  uint32_t max_connections_per_host = 1024;
  uint32_t max_pending_requests = 1024;
  Duration idle_timeout{std::chrono::seconds(60)};  // idle pooled connections close after this
  std::optional<UpstreamTlsConfig> tls;  // set: upstream connections speak TLS
  // HTTP/1.1, HTTP/2 (prior knowledge, or h2 by ALPN on TLS) or, with
  // auto, what a TLS host picks by ALPN, to the hosts.
  UpstreamProtocol protocol = UpstreamProtocol::Http1;
  Http2Settings http2;  // with protocol http2 or auto
  SourceLoc loc;
};

struct NetworkFilterEntry {
  std::string name;
  const NetworkFilterReader* reader = nullptr;  // found by name when the config is read
  std::shared_ptr<const FilterSpec> spec;       // null only in a config that failed to read
};

// Downstream TLS termination (`tls:` on a listener or a filter chain).
struct DownstreamTlsConfig {
  // PERMISSIVE (listener shorthand only): TLS and plaintext on one port.
  enum class Mode { Strict, Permissive };
  // TlsCertificate secrets by name; several: chosen by SNI; [0] is the default.
  std::vector<std::string> certificates;
  // A ValidationContext secret's name: client certificates are requested and
  // verified against it. Empty: none are requested.
  std::string validation_context;
  bool require_client_cert = false;       // mTLS; needs validation_context
  std::vector<std::string> verify_spiffe_ids;  // allowed client IDs; empty = any that verifies
  std::vector<std::string> alpn{"http/1.1"};   // server preference order
  // No `alpn` given: the chain's terminal filter chooses (the loader sets it).
  bool alpn_from_filter = true;
  Duration handshake_timeout{std::chrono::seconds(10)};
  bool session_tickets = true;  // stateless resumption under rotating keys
  Mode mode = Mode::Strict;
  SourceLoc loc;
};

// Which connections a filter chain takes. Empty fields match anything.
//
// The destination fields look at where the client was going: the original
// destination on a `use_original_dst` listener (a captured connection),
// the listener's own address otherwise. When any chain of a listener sets
// one, chains are chosen as Envoy does for those fields: the chains naming
// the destination port (else those naming none), then among them the most
// specific prefix containing the destination address (else those naming
// none); the first of those left that takes the connection's transport,
// SNI and ALPN wins. Listeners without destination fields keep plain
// first-match order.
struct FilterChainMatch {
  std::optional<uint16_t> destination_port;  // 1..65535
  std::vector<ip::Cidr> prefix_ranges;       // any contains the destination address
  std::vector<std::string> server_names;  // lower case; exact or "*.suffix"
  enum class Transport { Any, Tls, RawBuffer };
  Transport transport_protocol = Transport::Any;
  std::vector<std::string> application_protocols;  // any of the client's ALPN offers
  bool empty() const {
    return !hasDestination() && server_names.empty() && transport_protocol == Transport::Any &&
           application_protocols.empty();
  }
  bool hasDestination() const { return destination_port.has_value() || !prefix_ranges.empty(); }
};

struct FilterChainConfig {
  FilterChainMatch match;
  std::optional<DownstreamTlsConfig> tls;  // set: this chain terminates TLS
  std::vector<NetworkFilterEntry> filters;  // in order; the last one is terminal
  SourceLoc loc;
};

struct ListenerConfig {
  std::string name;
  ip::Address address;
  uint32_t max_connections = 0;  // 0 = unlimited
  // High watermark of each connection's write buffer; the low watermark is half.
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
  // The single-chain form: network filters as listener keys, in order (the
  // last one is terminal), optionally behind `tls`. Empty when the listener
  // uses filter_chains.
  std::vector<NetworkFilterEntry> filters;
  std::optional<DownstreamTlsConfig> tls;
  // The several-chain form; first match wins. Empty for the single-chain form.
  std::vector<FilterChainConfig> filter_chains;
  // A capture listener (`sluice iptables` redirects to it): each accepted
  // connection's original destination (SO_ORIGINAL_DST) is read once, and
  // filter chains match it and original_dst clusters connect to it.
  bool use_original_dst = false;
  SourceLoc loc;

  // Every filter of every chain with its key path below the listener
  // (".http", ".filter_chains[1].tcp_proxy").
  template <class F>
  void forEachFilter(F&& f) const {
    for (const auto& e : filters) f(e, "." + e.name);
    for (size_t i = 0; i < filter_chains.size(); ++i)
      for (const auto& e : filter_chains[i].filters)
        f(e, ".filter_chains[" + std::to_string(i) + "]." + e.name);
  }
};

// A named route table. HTTP listeners refer to one by name and streams look
// it up when they start, so a reload that changes only routes replaces it
// under live connections: no listener is rebound or drained.
struct RouteConfigEntry {
  std::string name;
  std::shared_ptr<const RouteConfig> spec;  // never null
  std::string path;  // where it was defined ("route_configs[0]", "listeners[1].http.route_config")
  SourceLoc loc;
};

// Who this proxy is (xDS's `node`): the control plane computes its config
// from it. Optional for a proxy configured by a file.
// Where a proxy runs, as an xDS server sees it (Envoy's core.v3.Locality).
struct NodeConfig {
  std::string id;       // unique per proxy, e.g. "sidecar~10.0.0.7~web-6c9f~prod"
  std::string cluster;  // the service it serves; proxies of one cluster share config
  LocalityConfig locality;
};

// An aggregated xDS stream (`dynamic: {ads: ...}` in the bootstrap): one
// gRPC stream to `address` carrying every resource type.
struct AdsSpec {
  std::string address;  // host:port of the xDS server (plaintext gRPC)
  // How long a subscribed type or name may take to arrive before the proxy
  // serves without it (a listener starts, a cluster without endpoints
  // answers 503 NC) rather than waiting further.
  Duration initial_fetch_timeout{std::chrono::seconds(15)};
  bool delta = false;  // incremental xDS instead of state of the world (not implemented: refused)
};

// The proxy's certificate agent (`dynamic: {ca: ...}` in the bootstrap): it
// makes its own key, asks the mesh CA (sluice.ca.v1.CertificateService) for
// a certificate over plaintext gRPC, and provides it to the config as the
// TlsCertificate secret `secret_name` (inline PEM), renewed at about half of
// its lifetime. TLS blocks name that secret like any other; it counts as
// present in a file config, and is never asked for over SDS.
struct CaSpec {
  std::string address;     // host:port of the CA; defaults to dynamic.ads.address
  std::string token_file;  // read at every call: "authorization: Bearer <token>"
  // The lifetime asked for (the CA may give less). Seconds are allowed, so a
  // test can watch a rotation.
  Duration ttl{std::chrono::hours(24)};
  std::string secret_name = "default";
  SourceLoc loc;
};

// Where the resources (listeners, route configs, clusters, ...) come from.
// File: the YAML file given with -c, which holds the bootstrap and the
// resources together and is read again on SIGHUP and POST /reload.
// Ads: an xDS stream (the bootstrap's `dynamic.ads`); the file's own
// listeners and clusters stay as static resources beside those received.
// The server builds its ConfigSource from this.
struct ConfigSourceSpec {
  enum class Kind { File, Ads };
  Kind kind = Kind::File;
  std::string path;  // the YAML file (for Ads: the bootstrap, whose static resources join the received)
  AdsSpec ads;       // Ads only
};

// How the proxy itself runs, read at start; of these only drain_timeout,
// certificate_watch_interval and overload follow a reload (admin and workers need a
// restart). The YAML keeps them at the top level beside the resources.
struct Bootstrap {
  AdminConfig admin;
  uint32_t workers = 0;  // 0 = one per core
  // How long a draining listener (removed on reload, or all on SIGTERM) lets
  // its connections finish before they are closed.
  Duration drain_timeout{std::chrono::seconds(10)};
  // How often the main thread checks certificate files for changes.
  Duration certificate_watch_interval{std::chrono::seconds(2)};
  // Resource limits and the actions taken near them (follows a reload).
  OverloadSpec overload;
  NodeConfig node;
  // Set by the loader (the file it read), not a YAML key.
  ConfigSourceSpec config_source;
  // `dynamic.ca`: the certificate agent; none when absent. Read at start.
  std::optional<CaSpec> ca;
  // Secrets the proxy itself provides (the agent's), by name.
  bool providesSecret(std::string_view name) const { return ca && ca->secret_name == name; }
};

// A bootstrap and the resources: what a file holds whole, and what an xDS
// source (next) assembles from resources that arrive by type and name.
struct Config {
  std::string source_file;  // for messages only
  Bootstrap bootstrap;
  std::vector<ListenerConfig> listeners;
  // Top-level `route_configs`, then those given inline in HTTP listeners.
  std::vector<RouteConfigEntry> route_configs;
  std::vector<ClusterConfig> clusters;
  // The clusters' endpoints, one per cluster (a YAML cluster's `endpoints`).
  std::vector<ClusterLoadAssignmentSpec> load_assignments;
  // TLS material named by the TLS blocks (lifted from their paths in YAML).
  std::vector<SecretSpec> secrets;

  // Resources by name; null when there is none.
  const ClusterConfig* findCluster(std::string_view name) const { return findNamed(clusters, name); }
  const RouteConfigEntry* findRouteConfig(std::string_view name) const { return findNamed(route_configs, name); }
  const ClusterLoadAssignmentSpec* findLoadAssignment(std::string_view name) const {
    return findNamed(load_assignments, name, &ClusterLoadAssignmentSpec::cluster_name);
  }
  const SecretSpec* findSecret(std::string_view name) const { return findNamed(secrets, name); }
  // The endpoints of a cluster's load assignment. None while it is missing,
  // which only resources arriving one by one allow (References::WarnAndServe):
  // the cluster then has no hosts and its requests get 503.
  const std::vector<EndpointConfig>& endpointsOf(const ClusterConfig& c) const {
    static const std::vector<EndpointConfig> kNone;
    const auto* a = findLoadAssignment(c.load_assignment);
    return a ? a->endpoints : kNone;
  }

 private:
  template <class T>
  static const T* findNamed(const std::vector<T>& list, std::string_view name, std::string T::*key = &T::name) {
    for (const auto& item : list)
      if (item.*key == name) return &item;
    return nullptr;
  }
};

}  // namespace sluice::config
