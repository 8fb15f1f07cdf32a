#pragma once
// What the injection webhook does to a pod, as a pure function: a core/v1
// Pod (JSON) and the `injection:` config in, the JSON Patch (RFC 6902) that
// adds the sidecar out. No I/O: the webhook, `sluice-control inject` and
// the golden tests share it.
//
// An injected pod gets, in this order of operations:
//   metadata.annotations  sluice.io/status: injected, and sluice.io/bootstrap:
//                         the sidecar's bootstrap YAML (it differs per pod:
//                         its node and its probe routes)
//   probes                the app containers' httpGet probes (HTTP, no host)
//                         moved to the sidecar's health port 15021 (on
//                         [::], both families: the kubelet probes the
//                         pod's IPv4 or IPv6 address) at
//                         /app-health/<container>/<livez|readyz|startupz>,
//                         which the sidecar routes to 127.0.0.1:<port><path>
//                         with the original headers; tcpSocket, grpc and
//                         HTTPS probes keep their port, which is excluded from
//                         inbound capture instead (and a warning says so:
//                         that port's traffic bypasses the sidecar)
//   volumes               sluice-bootstrap (downward API: the annotation as
//                         /etc/sluice/bootstrap.yaml) and sluice-token (a
//                         projected service-account token for the CA)
//   initContainers        sluice-init (`sluice iptables ...`, NET_ADMIN and
//                         NET_RAW only, exits), then sluice-proxy as a native
//                         sidecar (restartPolicy: Always), then the pod's own
//   containers            (native_sidecar: false) sluice-proxy first instead
// Absent arrays and maps are added whole; annotation keys are escaped in
// pointers ('~' as ~0, '/' as ~1).
//
// Left alone (an empty patch and a skip reason): a pod labelled or
// annotated sluice.io/inject: "false" (either wins over the other's
// "true"), a hostNetwork pod, and a pod already injected (sluice.io/status
// set, or a container named sluice-proxy). Which pods are sent here is the
// MutatingWebhookConfiguration's: those of namespaces labelled
// sluice-injection=enabled, and those labelled sluice.io/inject: "true" in
// namespaces without that label (charts/sluice/templates/webhook.yaml).
// Any other pod sent is injected: this function never sees the namespace.
//
// Refused (Outcome::Failed, with why): a pod without containers, a bad
// sluice.io/inject label or sluice.io/* annotation value, a container port
// the sidecar owns (15001, 15006, 15020, 15021), a workload that cannot be
// named.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/kubernetes/injection_config.h"

namespace sluice::control::kubernetes {

inline constexpr const char* kInjectAnnotation = "sluice.io/inject";  // a label too
inline constexpr const char* kStatusAnnotation = "sluice.io/status";
inline constexpr const char* kBootstrapAnnotation = "sluice.io/bootstrap";
inline constexpr const char* kExcludeInboundPortsAnnotation = "sluice.io/exclude-inbound-ports";
inline constexpr const char* kExcludeOutboundPortsAnnotation = "sluice.io/exclude-outbound-ports";
inline constexpr const char* kExcludeOutboundCidrsAnnotation = "sluice.io/exclude-outbound-cidrs";
inline constexpr const char* kProxyContainer = "sluice-proxy";
inline constexpr const char* kInitContainer = "sluice-init";
inline constexpr const char* kRunVolume = "sluice-init-run";  // the init container's scratch /run
inline constexpr const char* kBootstrapPath = "/etc/sluice/bootstrap.yaml";
inline constexpr const char* kTokenPath = "/var/run/secrets/sluice/tokens/token";

struct SidecarPatch {
  enum class Outcome { Injected, Skipped, Failed };
  Outcome outcome = Outcome::Failed;
  // Skipped: "disabled", "host_network" or "already_injected" (a metrics
  // label); Failed: what is wrong with the pod, for a person.
  std::string reason;
  nlohmann::json patch = nlohmann::json::array();  // the operations; empty unless Injected
  std::string bootstrap;                           // the sidecar's bootstrap YAML (Injected)
  std::vector<std::string> warnings;               // for the person creating the pod
};

// `request_namespace`: the AdmissionRequest's namespace, for a pod that has
// none in its metadata yet.
SidecarPatch buildSidecarPatch(const nlohmann::json& pod, const InjectionSpec& spec,
                               const std::string& request_namespace = {});

// "~" -> "~0", "/" -> "~1": a key as one JSON Pointer token.
std::string pointerToken(std::string_view key);

}  // namespace sluice::control::kubernetes
