#pragma once
// The mesh's discovered part, from the objects the watches hold
// (cluster_state.h). Pure: the same objects give the same mesh.
//
// - A Service (not ExternalName) becomes a mesh service in its namespace.
//   Each TCP port's protocol comes from its appProtocol (http, http2, grpc,
//   kubernetes.io/h2c -> http2, tcp), else from its name as Istio names
//   ports ("http", "http-web", "grpc-api", "http2-x", "tcp-db"), else tcp.
//   Its clusterIPs are its `addresses`.
// - The ready endpoints of its EndpointSlices (label
//   kubernetes.io/service-name) become its endpoints: pod IP : the slice
//   port of the same name, for that service port, with the pod's workload
//   (pod_identity.h). An endpoint whose pod is not known yet is left out
//   until it is (its identity decides the mTLS its callers expect); one
//   without a pod (a hand-made slice), or whose pod has no sidecar
//   (hostNetwork), is outside the mesh: no workload, plaintext.
// - Pods (running or pending, not hostNetwork) become workloads named by
//   podIdentity, one per workload however many replicas, `captured`, with
//   the service account and the labels of the pod first by name (without
//   pod-template-hash, which differs between a Deployment's ReplicaSets).
// - Namespaces give namespace_labels, ServiceAccounts service_accounts.
//
// Each part's `source` is a canonical text of exactly the fields above, so
// it changes when what a proxy reads changes, and not on a status update or
// a new resourceVersion alone.

#include "control/kubernetes/cluster_state.h"
#include "control/mesh/model.h"

namespace sluice::control::kubernetes {

mesh::Mesh meshFromCluster(const ClusterObjects& objects);

// The protocol of a Service port (its appProtocol and name).
mesh::Protocol portProtocol(const std::string& app_protocol, const std::string& name);

}  // namespace sluice::control::kubernetes
