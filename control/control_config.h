#pragma once
// control.yaml: what sluice-control serves and to whom, as plain data.
//
//   ads: {address: 127.0.0.1:15010}      # the ADS gRPC server
//   admin: {address: 127.0.0.1:15000}    # /status, /metrics, /ready
//   debounce: 100ms                      # a change is applied once the file has been quiet this long
//   watch_interval: 200ms                # how often the file is checked for changes
//   groups:                              # proxies that share one config
//     - name: edge
//       match: {cluster: edge}           # or {node_ids: [edge-1, edge-2]}; the first matching group wins
//       clients: grpc                    # optional: refuse what proxyless gRPC clients refuse
//       listeners: [...]                 # a sluice YAML file's resource keys, read by the
//       route_configs: [...]             # same readers (config/loader.h) and validated whole
//       clusters: [...]                  # with references Strict: a group is one consistent config
//   mesh: {...}                          # services, workloads, routes, policies, gateways
//                                        # (control/mesh/model.h): a group per workload and gateway
//   ca: {...}                            # optional: the mesh CA (control/ca/ca_config.h)
//   kubernetes: {...}                    # optional: services and pods discovered from the API
//                                        # server (control/kubernetes/kubernetes_config.h),
//                                        # merged into the mesh beside the file's
//   injection: {...}                     # optional: the sidecar-injection webhook
//                                        # (control/kubernetes/injection_config.h)
//
// Errors are reported as sluice's loader reports them, with the file, line,
// column and field path ("control.yaml:14:9: groups[0].clusters[1]
// .endpoints[0].address: port out of range"), every one of them, and no
// ControlConfig at all when there is any: a file applies whole or not at all.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"
#include "config/model.h"
#include "config/yaml_reader.h"
#include "control/mesh/model.h"
#include "control/mesh/proxy_config.h"
#include "control/ca/ca_config.h"
#include "control/kubernetes/kubernetes_config.h"
#include "control/kubernetes/injection_config.h"

namespace sluice::control {

// Which proxies a group serves, by the node they send in their first
// request. Exactly one of the three is set.
struct GroupMatch {
  std::string cluster;                // node.cluster equals this
  std::vector<std::string> node_ids;  // node.id is one of these
  // A mesh proxy's: node.id is this ("backend-v1.default") or this followed
  // by "~" and an instance ("backend-v1.default~pod-7f9c").
  std::string mesh_node_id;
  bool matches(std::string_view node_id, std::string_view node_cluster) const;
};

struct GroupSpec {
  std::string name;  // unique; the snapshot's and the metrics' group label
  GroupMatch match;
  // `clients: grpc`: the group serves proxyless gRPC clients, and its config
  // is refused where they would refuse it (gRPC takes round_robin and
  // ring_hash clusters only, and fails calls on redirect and direct_response
  // routes). Default `any`: no such check.
  bool grpc_clients = false;
  // The group's resources as one validated config (its bootstrap unused).
  std::shared_ptr<const config::Config> config;
  // The group's YAML as read (after ${VAR} substitution), positions left
  // out: equal inputs give equal resources, so an unchanged group is not
  // rebuilt on reload (control/snapshot_builder.h).
  std::string input;
};

struct ControlConfig {
  std::string file;
  std::string ads_address = "127.0.0.1:15010";    // host:port; port 0 picks a free one
  std::string admin_address = "127.0.0.1:15000";  // host:port; port 0 picks a free one
  config::Duration debounce{std::chrono::milliseconds(100)};
  config::Duration watch_interval{std::chrono::milliseconds(200)};
  // `groups:` first, then the mesh's proxies (first match wins).
  std::vector<GroupSpec> groups;
  // The mesh as read, and each of its proxies' computed config (also in
  // `groups`). Null / empty without a `mesh:` block.
  std::shared_ptr<const mesh::Mesh> mesh;
  std::vector<mesh::ProxyConfig> mesh_proxies;
  std::optional<ca::CaSpec> ca;  // the mesh CA; none when `ca:` is absent
  std::optional<kubernetes::KubernetesSpec> kubernetes;  // none when `kubernetes:` is absent
  // Discovered services and workloads the file's shadow ("service prod/backend").
  std::vector<std::string> shadowed;
  std::optional<kubernetes::InjectionSpec> injection;  // none when `injection:` is absent

  // The first group whose match takes this node; empty when none does.
  std::string groupFor(std::string_view node_id, std::string_view node_cluster) const;
};

struct ControlLoadResult {
  std::shared_ptr<const ControlConfig> config;  // null when errors is non-empty
  std::vector<config::ConfigError> errors;      // in file order
  std::string errorText() const;                // one error per line
};

// Reads, parses and validates FILE (a missing or unreadable file is one error).
ControlLoadResult loadControlFile(const std::string& file);
// Same, from text; `file` names it in messages.
// `cache`: the mesh proxies' configs of the last load, reused where unchanged.
// `discovered`: the services and workloads discovered from Kubernetes, merged
// into the mesh (the file's win; a mesh is made for them when the file has
// no `mesh:` block).
ControlLoadResult loadControlString(const std::string& yaml_text, const std::string& file = "<string>",
                                    mesh::ProxyConfigCache* cache = nullptr,
                                    const mesh::Mesh* discovered = nullptr);

}  // namespace sluice::control
