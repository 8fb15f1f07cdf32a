#pragma once
// How to reach the API server and who to be there, resolved from the
// `kubernetes:` block: the server, the CA that verifies it, and the
// credentials (a bearer token, from a file re-read on every request
// because the kubelet rotates it, or a client certificate).

#include <optional>
#include <string>

#include "control/kubernetes/api_url.h"
#include "control/kubernetes/kubernetes_config.h"

namespace sluice::control::kubernetes {

struct ApiAccess {
  ApiUrl url;
  std::string ca_pem;  // empty: the system's default roots
  std::string token;   // fixed (a kubeconfig's `token`), or
  std::string token_file;  // read on every request
  std::string client_cert_pem, client_key_pem;
  bool insecure_skip_verify = false;  // a kubeconfig's insecure-skip-tls-verify
  std::string describe;  // "https://10.0.0.1:443 (in cluster)", for logs
};

// Where the kubelet mounts the pod's service-account token and the
// cluster's CA.
inline constexpr std::string_view kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// Reads what the spec names (environment, kubeconfig, files). nullopt with
// `error` when something is missing or unreadable; the caller retries.
// in_cluster reads the environment and `service_account_dir` (tests give
// their own folder) through inClusterAccess().
std::optional<ApiAccess> resolveAccess(const KubernetesSpec& spec, std::string& error,
                                       std::string_view service_account_dir = kServiceAccountDir);

// The pod's own access: the API server at `host` and `port` (the pod's
// KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT: an IPv6 host bare,
// as Kubernetes sets it, or in brackets; no port is 443), verified with
// DIR/ca.crt, as the service account whose token is DIR/token (checked
// readable here, re-read per request). nullopt with `error` naming the
// variable or the file ("in_cluster: DIR/token: No such file or directory").
std::optional<ApiAccess> inClusterAccess(std::string_view host, std::string_view port,
                                         std::string_view service_account_dir, std::string& error);

// A kubeconfig's current context: its cluster's server and
// certificate-authority(-data), its user's token / tokenFile /
// client-certificate(-data) / client-key(-data). Paths in it are taken from
// `path`'s folder. Exec and auth-provider plugins are not supported (an
// error says so).
std::optional<ApiAccess> parseKubeconfig(const std::string& text, const std::string& path, std::string& error);

// The file's bytes; nullopt with `error` ("PATH: No such file or directory").
std::optional<std::string> readWholeFile(const std::string& path, std::string& error);

}  // namespace sluice::control::kubernetes
