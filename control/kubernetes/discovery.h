#pragma once
// Discovery from the Kubernetes API server: a ResourceWatch thread per
// resource (per namespace when `namespaces:` is set) feeding one
// ClusterState, and a supervising thread that ends connections silent past
// their deadline. The daemon polls generation() and, once the changes have
// been quiet for its debounce, takes mesh() and recomputes the proxies whose
// parts changed, as for an edit of control.yaml.
//
// An API server that cannot be reached at start, or fails later, leaves the
// state as it was (empty at first: the file's mesh serves alone); every
// watch retries with backoff on its own.

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "control/kubernetes/cluster_state.h"
#include "control/kubernetes/discovery_metrics.h"
#include "control/kubernetes/kubernetes_config.h"
#include "control/kubernetes/resource_watch.h"
#include "control/mesh/model.h"

namespace sluice::control::kubernetes {

class Discovery {
 public:
  Discovery(KubernetesSpec spec, prometheus::Registry& registry);
  ~Discovery();  // stop()

  void start();
  // Ends every request in flight and joins the threads.
  void stop();

  // Every watch has completed its first list.
  bool synced() const;
  // Bumped by every change the watches make (any thread).
  uint64_t generation() const { return state_.generation(); }
  // The discovered services and workloads as they are now.
  mesh::Mesh mesh() const;
  const KubernetesSpec& spec() const { return spec_; }

 private:
  const KubernetesSpec spec_;
  ClusterState state_;
  DiscoveryMetrics metrics_;
  std::vector<std::unique_ptr<ResourceWatch>> watches_;
  std::vector<std::thread> threads_;
  std::thread supervisor_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

// The discovered parts as one comparable text (their sources, namespace
// labels and service accounts): equal texts, nothing to recompute.
std::string discoveredText(const mesh::Mesh& m);

}  // namespace sluice::control::kubernetes
