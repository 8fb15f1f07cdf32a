#pragma once
// control.yaml's optional `injection:` block: the sidecar-injection webhook
// and the sidecar it adds to pods, as plain data (read with the rest of the
// file, same file:line:col errors, all or nothing).
//
//   injection:
//     webhook:
//       address: 0.0.0.0:15017              # HTTPS; port 0 picks a free one
//       path: /inject                       # where the API server POSTs AdmissionReviews
//       dns_names: [sluice-control.sluice-system.svc]   # the serving certificate's names,
//                                           # issued by the mesh CA (`ca:`) and renewed at half life
//       certificate_ttl: 24h
//       cert_file: tls.crt                  # or the operator's certificate (both or neither);
//       key_file: tls.key                   # re-read when they change
//     failure_policy: Fail                  # or Ignore: what a pod that cannot be injected gets
//                                           # (refused, or admitted unchanged with a warning)
//     native_sidecar: true                  # false: a classic sidecar container (Kubernetes < 1.29)
//     ads_address: sluice-control.sluice-system.svc:15010   # what the sidecar dials (required)
//     ca_address: ...                       # its certificate agent's CA (TLS); default the host
//                                           # of ads_address, the port of ca.address
//     image: sluice:0.1.0                   # the sidecar's image (required)
//     init_image: sluice:0.1.0              # the capture step's; default image
//     image_pull_policy: IfNotPresent
//     resources:
//       requests: {cpu: 100m, memory: 128Mi}
//       limits: {cpu: "2", memory: 1Gi}
//     token_audience: sluice-ca             # of the projected service-account token
//     rewrite_probes: true                  # httpGet probes through the sidecar (see sidecar_patch.h)
//     exclude_inbound_ports: [22]           # mesh-wide, added to each pod's annotations
//     exclude_outbound_ports: []
//     exclude_outbound_cidrs: [169.254.169.254/32]
//
// Relative file paths are taken from control.yaml's folder. A reload
// applies everything but `webhook` (its address and certificate source take
// a restart, as ads.address does).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "config/yaml_reader.h"
#include "control/ca/ca_config.h"

namespace sluice::control::kubernetes {

// The ports the injected sidecar owns in the pod (istio's numbers where
// they have the same job, so cluster policies written for them carry over).
inline constexpr uint16_t kOutboundPort = 15001;  // outbound capture (iptables REDIRECT)
inline constexpr uint16_t kInboundPort = 15006;   // inbound capture
inline constexpr uint16_t kAdminPort = 15020;     // the sidecar's admin, on 127.0.0.1 only
inline constexpr uint16_t kHealthPort = 15021;    // kubelet-facing: /ready and rewritten app probes
inline constexpr uint32_t kProxyUid = 1337;       // the sidecar's uid and gid; never captured

struct WebhookServing {
  std::string address = "127.0.0.1:15017";
  std::string path = "/inject";
  std::vector<std::string> dns_names{"sluice-control.sluice-system.svc"};
  config::Duration certificate_ttl{std::chrono::hours(24)};
  std::optional<ca::FileRef> cert_file, key_file;  // both or neither
  bool operator==(const WebhookServing&) const = default;
};

enum class FailurePolicy { Fail, Ignore };
const char* failurePolicyName(FailurePolicy p);

struct ResourceQuantities {
  std::string cpu, memory;  // Kubernetes quantities ("100m", "128Mi"); empty: not set
};

struct InjectionSpec {
  WebhookServing webhook;
  FailurePolicy failure_policy = FailurePolicy::Fail;
  bool native_sidecar = true;
  std::string ads_address;
  std::string ca_address;  // defaulted from ads_address and ca.address by the control.yaml reader
  // Not YAML: the mesh roots the daemon's CA holds, inlined into each
  // bootstrap (dynamic.ca.root_pem) so that the sidecar verifies the CA's
  // port; empty: the CA is plaintext (ca.plaintext) and so is the sidecar.
  std::string ca_root_pem;
  std::string image;
  std::string init_image;  // defaulted to image by the reader
  std::string image_pull_policy = "IfNotPresent";
  ResourceQuantities requests{"100m", "128Mi"};
  ResourceQuantities limits{"2", "1Gi"};
  std::string token_audience = "sluice-ca";
  uint32_t token_expiration_seconds = 3600;
  bool rewrite_probes = true;
  std::vector<uint16_t> exclude_inbound_ports;
  std::vector<uint16_t> exclude_outbound_ports;
  std::vector<std::string> exclude_outbound_cidrs;
  config::SourceLoc loc;  // the `injection:` block
};

// Reads `injection:` from the top-level map when present (errors into the
// reader's context); `out` stays empty when it is absent. `has_ca`: whether
// control.yaml has a `ca:` block, which a certificate without files needs.
void readInjectionSpec(config::MapReader& top, bool has_ca, std::optional<InjectionSpec>& out);

// A Kubernetes resource quantity ("100m", "1.5Gi", "2"): what the API
// server would accept in requests and limits.
bool isQuantity(std::string_view text);

}  // namespace sluice::control::kubernetes
