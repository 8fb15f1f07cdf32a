#pragma once
// Each proxy's own config, computed from the mesh (control/mesh/model.h).
//
// A sidecar (one per workload) gets:
// - an inbound listener per `inbound` binding: mesh traffic, behind mTLS as
//   the workload's peer authentication says (STRICT: TLS with a client
//   certificate from the mesh CA; PERMISSIVE: that or plaintext; DISABLE:
//   plaintext), then the authorization policies that apply to the workload,
//   then the local app (cluster "inbound_<port>_<service>"). The app learns
//   the caller from x-forwarded-client-cert.
// - an outbound listener per `outbound` binding: the app's plaintext way to
//   a service, routed by the service's route set (or all to the service),
//   to clusters "outbound_<port>_<subset>_<service>.<namespace>" whose
//   endpoints are the service's, and which originate mTLS verifying the
//   SPIFFE IDs of the workloads behind those endpoints.
// A gateway gets its listeners with the route sets bound to it, and the
// same outbound clusters.
//
// TLS uses two secrets by name, as Istio's proxies do: "default" (the
// proxy's own certificate, which its certificate agent obtains from the
// mesh CA with a key that never leaves it) and "ROOTCA" (the mesh's trust
// bundle, served by sluice-control). The computed config holds ROOTCA when a
// trust bundle is given, and names "default" without holding it.
//
// A gateway listener with `tls:` (gateway_tls.h) terminates HTTPS with the
// operator's certificates, which sluice-control read: each is an inline
// TlsCertificate secret "<listener>_cert" ("<listener>_cert_1", ... for the
// next ones, chosen by SNI), and MUTUAL's CA an inline ValidationContext
// secret "<listener>_ca", served over ADS beside ROOTCA. A changed file is a
// new version of the same secret: the proxy swaps its contexts and keeps
// the listener.
//
// The computation writes a sluice YAML document per proxy (the readable
// output of `sluice-control check`) and reads it back with sluice's own
// loader, so a proxy gets exactly what the same file would give it.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "config/yaml_reader.h"
#include "control/mesh/model.h"

namespace sluice::control::mesh {

inline constexpr std::string_view kCertificateSecret = "default";
inline constexpr std::string_view kTrustBundleSecret = "ROOTCA";

struct ProxyConfig {
  enum class Kind { Sidecar, Gateway };
  Kind kind = Kind::Sidecar;
  std::string name;  // the workload's or the gateway's
  std::string ns;
  std::string group;     // "sidecar/<ns>/<name>", "gateway/<ns>/<name>"
  std::string node_id;   // "<name>.<ns>": its proxies' node.id, alone or followed by "~<instance>"
  std::string identity;  // its SPIFFE ID
  std::string yaml;      // the generated resources, before TLS is attached
  std::string summary;   // listeners, routes, clusters and identities, a line each
  std::shared_ptr<const config::Config> config;  // null when generation failed
};

// The last computed config of each proxy, with what it was computed from
// (the YAML of every part of the mesh it reads: its workload, the services
// it serves and calls, their endpoints' workloads, the routes and policies
// that apply). A reload recomputes only the proxies whose parts changed; the
// others keep their config, so an edit to one route set costs its callers,
// not the whole mesh. One owner (sluice-control's reload path).
struct ProxyConfigCache {
  struct Entry {
    std::string fingerprint;
    ProxyConfig proxy;
  };
  std::map<std::string, Entry> entries;  // by group
  size_t computed = 0;                   // in all, for tests and the log
  size_t reused = 0;
};

// The secret names above, of listener `listener` ("gateway_https").
std::string gatewayCertificateSecret(const std::string& listener, size_t index);
std::string gatewayCaSecret(const std::string& listener);

// Every proxy's config. Errors (which a valid mesh does not have: they are
// reported against the workload or gateway, with the generated path) go to
// ctx. `trust_bundle_pem` empty: ROOTCA is left out (no CA configured).
// `cache` (optional): reused where a proxy's parts are unchanged, updated.
std::vector<ProxyConfig> computeProxyConfigs(const Mesh& mesh, const std::string& trust_bundle_pem,
                                             config::ParseContext& ctx, ProxyConfigCache* cache = nullptr);

}  // namespace sluice::control::mesh
