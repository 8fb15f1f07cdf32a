#pragma once
// control.yaml's optional `kubernetes:` block: discovery of services,
// endpoints and pods from a Kubernetes API server, as plain data.
//
//   kubernetes:
//     in_cluster: true                  # the pod's own: KUBERNETES_SERVICE_HOST/PORT and
//                                       #   /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}
//     # or: kubeconfig: ~/.kube/config  # its current context's cluster and user
//     # or: api_server: https://10.0.0.1:6443
//     #     token_file: token           # sent as a bearer token, re-read when it changes
//     #     ca_file: ca.crt             # verifies the server (https)
//     namespaces: [prod, staging]       # default: every namespace
//     page_size: 500                    # items per list request (`limit`)
//     watch_timeout: 5m                 # a watch's timeoutSeconds; it is then renewed
//     backoff: {initial: 500ms, max: 30s}   # after an error, doubling with jitter up to max
//     sync_timeout: 5s                  # at start, how long to wait for the first lists
//
// Exactly one of in_cluster, kubeconfig or api_server. api_server may be
// http:// only to a loopback address (tests and `kubectl proxy`): a bearer
// token is never sent in clear over a network. Relative paths are taken
// from control.yaml's folder.
//
// At start, sluice-control waits up to sync_timeout for the first list of
// every resource, so that the file may name discovered services (a
// workload's outbound binding, a route). An API server that does not answer
// by then does not stop it: the file's mesh serves with whatever was
// listed, and discovery goes on retrying.

#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "config/yaml_reader.h"

namespace sluice::control::kubernetes {

struct KubernetesSpec {
  bool in_cluster = false;
  std::string kubeconfig;  // resolved path
  std::string api_server;  // URL
  std::string token_file;  // resolved path; may be empty
  std::string ca_file;     // resolved path; may be empty (the system's roots)
  std::vector<std::string> namespaces;
  uint32_t page_size = 500;
  config::Duration watch_timeout{std::chrono::minutes(5)};
  config::Duration backoff_initial{std::chrono::milliseconds(500)};
  config::Duration backoff_max{std::chrono::seconds(30)};
  config::Duration sync_timeout{std::chrono::seconds(5)};
  config::SourceLoc loc;

  bool operator==(const KubernetesSpec& o) const {
    return in_cluster == o.in_cluster && kubeconfig == o.kubeconfig && api_server == o.api_server &&
           token_file == o.token_file && ca_file == o.ca_file && namespaces == o.namespaces &&
           page_size == o.page_size && watch_timeout == o.watch_timeout && backoff_initial == o.backoff_initial &&
           backoff_max == o.backoff_max && sync_timeout == o.sync_timeout;
  }
};

// Reads top's `kubernetes:` into `out` (left empty when absent).
void readKubernetesSpec(config::MapReader& top, std::optional<KubernetesSpec>& out);
// The block alone from a control.yaml's text, before the whole file is
// loaded (discovery starts first); nullopt when absent or wrong (the whole
// load then reports why).
std::optional<KubernetesSpec> kubernetesSpecOf(const std::string& yaml_text, const std::string& file);

}  // namespace sluice::control::kubernetes
