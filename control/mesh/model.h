#pragma once
// The mesh as the operator describes it, once, in control.yaml's `mesh:`
// block: services and the workloads behind them, the routes of traffic to a
// service or through a gateway, and the security policies. sluice-control
// computes each proxy's own config from it (control/mesh/proxy_config.h).
//
//   mesh:
//     services:
//       - name: backend                 # namespace: default
//         ports: [{port: 8080, name: http, protocol: http}]   # http | http2 | grpc | tcp
//         addresses: [10.96.0.12]       # its virtual IPs (a Kubernetes ClusterIP): where captured apps send it
//         endpoints:                    # where the service's sidecars take mesh traffic
//           - {address: 127.0.0.1:15106, workload: backend-v1, weight: 1, priority: 0,
//              locality: {region: eu-west, zone: eu-west-1a, sub_zone: rack-3}}   # optional, carried to EDS
//     workloads:                        # a sidecar's node.id is "<name>.<namespace>" (or that + "~<instance>")
//       - name: backend-v1
//         service_account: backend      # default: the name; the SPIFFE ID is
//         labels: {version: v1}         #   spiffe://<trust domain>/ns/<ns>/sa/<sa>
//         captured: false               # true: its sidecar gets traffic by transparent capture
//         inbound:                      # mesh traffic in, to the local app
//           - {service: backend, port: 8080, address: 127.0.0.1:15106, app: 127.0.0.1:18106}
//         outbound:                     # the app's way out to a service (without traffic capture)
//           - {service: frontend, port: 8080, address: 127.0.0.1:15101}
//         capture: true                 # its traffic is captured (`sluice iptables`): the sidecar takes
//                                       #   inbound traffic on capture.inbound_port, by original destination
//                                       #   port, and outbound on capture.outbound_port, by service address
//     capture:                          # the ports `sluice iptables` redirects to (its defaults)
//       inbound_port: 15006
//       outbound_port: 15001
//       outbound_traffic_policy: ALLOW_ANY   # or REGISTRY_ONLY: captured traffic to no mesh service is refused
//     routes:
//       - name: backend-split
//         namespace: default            # the service's; destinations default to it too
//         service: backend              # traffic to this service; or gateways: [edge] with hosts
//         rules:
//           - match: {prefix: /api/}    # a sluice route match; or grpc: {service, method}
//             to:                       # a service (namespace: the route set's unless given), a subset, a weight
//               - {service: backend, subset: {version: v1}, weight: 90}
//               - {service: backend, subset: {version: v2}, weight: 10}
//             timeout: 5s
//             retry_policy: {...}       # as in a sluice route
//             request_headers_to_add: [...]
//             fault:                    # the fault filter's settings, for this rule's requests
//               delay: {fixed_delay: 2s, percentage: 10}
//               abort: {http_status: 503, percentage: 5}
//     gateways:
//       - name: edge                    # node.id "edge.<namespace>"; service_account: edge
//         listeners:
//           - {name: http, address: 127.0.0.1:8080}
//           - name: https
//             address: 127.0.0.1:8443
//             tls:                      # HTTPS termination (an Istio Gateway server's tls)
//               mode: SIMPLE            # or MUTUAL: clients must present a certificate
//               cert_file: edge.crt     # PEM, leaf first; read by sluice-control and
//               key_file: edge.key      #   served to the gateway as SDS secrets
//               ca_file: clients.pem    # MUTUAL: verifies client certificates
//               alpn: [h2, http/1.1]    # the default
//               certificates:           # or several, chosen by SNI from each leaf's DNS names
//                 - {cert_file: a.crt, key_file: a.key}
//     policies:
//       peer_authentication:            # mTLS between sidecars: STRICT | PERMISSIVE | DISABLE
//         - {namespace: default, mode: STRICT}     # workload: NAME narrows it
//       authorization:                  # on a workload's inbound traffic
//         - name: backend-callers
//           service: backend            # the workloads serving it; or workload: NAME
//           default_action: deny
//           rules:                      # the authz filter's rules, plus `from:` shorthand
//             - {name: callers, action: allow, from: {service_accounts: [frontend, edge]}}
//           ports: [8080]               # optional: only these service ports
//       rate_limits:                    # on a workload's inbound HTTP traffic
//         - name: backend-limit
//           service: backend            # or workload: NAME
//           local_ratelimit: {token_bucket: {...}}   # the HTTP filters' own settings
//           ratelimit: {...}                         # (Redis-backed, global)
//       destinations:                   # per destination service: cluster settings
//         - service: backend
//           circuit_breakers: {...}     # as on a sluice cluster
//           outlier_detection: {...}
//           connect_timeout: 1s
//
// Services and workloads may also come from the Kubernetes API server
// (control/kubernetes/): they are merged in beside the file's
// (control/mesh/merge.h), and the file's win on a clash of namespace/name.
//
// Plain data, with one exception on purpose: the blocks a mesh shares with a
// sluice config (a route's match, retry policy and header rules, authz
// rules, cluster settings) are kept as the YAML the operator wrote, already
// checked by sluice's own readers at their mesh path, and handed on as they
// are to the per-proxy config. One schema, one reader, and an error in them
// names the mesh file's line.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/model.h"
#include "ip/address.h"

namespace sluice::control::mesh {

enum class Protocol { Http, Http2, Grpc, Tcp };
// "http", "http2", "grpc", "tcp".
std::string_view protocolName(Protocol p);
inline bool isHttp(Protocol p) { return p != Protocol::Tcp; }

using Labels = std::map<std::string, std::string>;

struct ServicePort {
  uint32_t port = 0;
  std::string name;  // default "<protocol>-<port>"
  Protocol protocol = Protocol::Http;
  config::SourceLoc loc;
};

struct Endpoint {
  ip::Address address;
  uint32_t weight = 1;
  uint32_t priority = 0;
  config::LocalityConfig locality;  // where it runs; handed on to the proxies' endpoints (EDS)
  uint32_t port = 0;     // the service port it serves; 0: every port
  std::string workload;  // the workload behind it (same namespace): its identity and labels
  config::SourceLoc loc;
};

struct Service {
  std::string name;
  std::string ns = "default";
  std::vector<ServicePort> ports;
  std::vector<Endpoint> endpoints;
  // Its virtual IPs, bare addresses ("10.96.0.12", "fd00::c"; a Kubernetes
  // Service's clusterIPs): captured outbound traffic to one of them on a
  // service port is this service's. Empty for a file service that sets none.
  std::vector<std::string> addresses;
  config::SourceLoc loc;
  // The YAML as written (node_text.h), or for a discovered service a
  // canonical text of its fields: what a proxy's config depends on (proxy_config.h).
  std::string source;
  std::string path;  // "mesh.services[2]", "kubernetes service prod/backend", for messages

  const ServicePort* findPort(uint32_t port) const;
};

// A service port as a listener of a sidecar: mesh traffic in, or app traffic out.
struct PortBinding {
  std::string service;
  uint32_t port = 0;
  ip::Address address;  // where the sidecar listens
  ip::Address app;      // inbound only: the local app
  config::SourceLoc loc;
  std::string path;
};

struct Workload {
  std::string name;
  std::string ns = "default";
  std::string service_account;  // default: the name
  Labels labels;
  std::vector<PortBinding> inbound;
  std::vector<PortBinding> outbound;
  // Its traffic is captured: the sidecar listens on the mesh's capture ports
  // and dispatches by original destination (beside any bindings above).
  bool captured = false;
  config::SourceLoc loc;
  std::string source;  // as Service::source
  std::string path;
};

struct Destination {
  std::string service;
  std::string ns;     // default: the route set's namespace
  uint32_t port = 0;  // 0: the service's first port
  Labels subset;      // empty: every endpoint
  uint32_t weight = 0;
  config::SourceLoc loc;
  std::string path;
};

struct RouteRule {
  std::string name;
  YAML::Node match;  // a sluice route match (grpc: turned into a path match)
  std::vector<Destination> to;
  // Passed on to the sluice route as they are (checked when read): timeout,
  // retry_policy, hash_policy, the header mutation keys.
  std::map<std::string, YAML::Node> route_keys;  // into `route:`
  std::map<std::string, YAML::Node> entry_keys;  // beside `match:`
  // The fault filter's settings for this rule's requests (checked when read),
  // its route's `per_filter_config.fault`: a mapping when the rule has one.
  YAML::Node fault;
  config::SourceLoc loc;
  std::string path;
};

struct RouteSet {
  std::string name;
  std::string ns = "default";         // of the service, and the default of its destinations'
  std::string service;                // traffic to this service (sidecars' outbound)
  std::vector<std::string> gateways;  // or through these gateways
  std::vector<std::string> hosts;     // gateways: the domains; default ["*"]
  std::vector<RouteRule> rules;
  config::SourceLoc loc;
  std::string source;  // the YAML as written (node_text.h): what a proxy's config depends on (proxy_config.h)
  std::string path;
};

// A certificate of a gateway listener as sluice-control read it: the files
// are the operator's, the proxy gets the PEM (an inline SDS secret), so the
// edge proxy needs no file of its own, as Istio's credentialName.
struct GatewayCertificate {
  std::string cert_file;  // resolved against control.yaml's folder
  std::string key_file;
  std::string cert_pem;  // what the files held when the mesh was read
  std::string key_pem;
  std::string subject;                 // the leaf's, one line ("CN=edge.example")
  std::vector<std::string> dns_names;  // the leaf's DNS SANs: the SNI names it serves
  std::string not_after;               // "2036-01-01T00:00:00Z"
  config::SourceLoc loc;
};

// HTTPS termination on a gateway listener (control/mesh/gateway_tls.h).
struct GatewayTls {
  bool mutual = false;  // MUTUAL: a client without a certificate that ca_file verifies is refused
  std::vector<GatewayCertificate> certificates;  // [0] serves clients whose SNI no other names
  std::string ca_file;                           // MUTUAL only
  std::string ca_pem;
  std::vector<std::string> alpn{"h2", "http/1.1"};
  config::SourceLoc loc;
};

struct GatewayListener {
  std::string name;
  ip::Address address;
  std::optional<GatewayTls> tls;  // none: plaintext HTTP
  config::SourceLoc loc;
};

struct Gateway {
  std::string name;
  std::string ns = "default";
  std::string service_account;  // default: the name
  std::vector<GatewayListener> listeners;
  config::SourceLoc loc;
  std::string source;  // the YAML as written (node_text.h): what a proxy's config depends on (proxy_config.h)
  std::string path;
};

enum class MtlsMode { Strict, Permissive, Disable };
std::string_view mtlsModeName(MtlsMode m);  // "STRICT", "PERMISSIVE", "DISABLE"

struct PeerAuthentication {
  std::string ns;        // empty: every namespace (a mesh-wide default)
  std::string workload;  // empty: every workload of the namespace
  MtlsMode mode = MtlsMode::Strict;
  config::SourceLoc loc;
  std::string source;  // the YAML as written (node_text.h): what a proxy's config depends on (proxy_config.h)
};

struct AuthorizationPolicy {
  std::string name;
  std::string ns = "default";
  std::string service;          // the workloads serving it; or
  std::string workload;         // this one
  std::vector<uint32_t> ports;  // only the inbound bindings of these service ports; empty: all
  YAML::Node policy;            // the authz filter's `default_action` + `rules` (shorthand expanded)
  config::SourceLoc loc;
  std::string source;  // the YAML as written (node_text.h): what a proxy's config depends on (proxy_config.h)
  std::string path;
};

// Rate limits on a workload's inbound HTTP traffic: the HTTP filters
// `local_ratelimit` and `ratelimit` (Redis-backed, global), with their own
// schemas (checked by their readers), put in its inbound chain after
// authorization.
struct RateLimitPolicy {
  std::string name;
  std::string ns = "default";
  std::string service;                        // the workloads serving it; or
  std::string workload;                       // this one
  std::map<std::string, YAML::Node> filters;  // "local_ratelimit" / "ratelimit" -> its settings (stat_prefix set)
  config::SourceLoc loc;
  std::string source;
  std::string path;
};

struct DestinationPolicy {
  std::string service;
  std::string ns = "default";
  // Passed on to every cluster of the service (checked when read):
  // circuit_breakers, outlier_detection, connect_timeout, lb_policy, health_check.
  std::map<std::string, YAML::Node> cluster_keys;
  config::SourceLoc loc;
  std::string source;  // the YAML as written (node_text.h): what a proxy's config depends on (proxy_config.h)
};

// Where `sluice iptables` sends a captured workload's traffic, and what
// happens to captured outbound traffic for no service of the mesh.
struct CaptureSettings {
  uint32_t inbound_port = 15006;
  uint32_t outbound_port = 15001;
  bool allow_unknown_outbound = true;  // ALLOW_ANY: passed through as TCP; REGISTRY_ONLY: refused
  std::string source;                  // the YAML as written: every captured sidecar reads it
};

struct Mesh {
  std::string trust_domain = "cluster.local";
  CaptureSettings capture;
  std::vector<Service> services;
  std::vector<Workload> workloads;
  std::vector<RouteSet> routes;
  std::vector<Gateway> gateways;
  std::vector<PeerAuthentication> peer_authentication;
  std::vector<AuthorizationPolicy> authorization;
  std::vector<RateLimitPolicy> rate_limits;
  std::vector<DestinationPolicy> destinations;
  // Known from the Kubernetes API server, for policies to come: each
  // namespace's labels, and the service accounts ("<ns>/<name>") that exist.
  std::map<std::string, Labels> namespace_labels;
  std::vector<std::string> service_accounts;

  const Service* findService(std::string_view ns, std::string_view name) const;
  const Workload* findWorkload(std::string_view ns, std::string_view name) const;
  // Makes the two lookups above constant time once the services and
  // workloads are all read (every proxy's config looks them up on every
  // reload). Without it, after the lists change, or for a name not there, they scan.
  void index();
  // The most specific peer authentication for a workload (workload, then
  // namespace, then mesh-wide); STRICT when none is set.
  MtlsMode mtlsFor(const Workload& w) const;
  // spiffe://<trust domain>/ns/<ns>/sa/<sa>
  std::string spiffeId(std::string_view ns, std::string_view service_account) const;

 private:
  // "<ns>/<name>" -> position; used only while the list is as long as when indexed.
  std::unordered_map<std::string, size_t> service_index_;
  std::unordered_map<std::string, size_t> workload_index_;
};

}  // namespace sluice::control::mesh
