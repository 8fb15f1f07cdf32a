#pragma once
// Who a Kubernetes pod is in the mesh. The injection webhook names the
// sidecar's node from it when the pod is admitted, and discovery names the
// pod's workload from it when the pod is listed: both must agree, or a
// sidecar would ask for a config no group serves.

#include <string>

#include <nlohmann/json.hpp>

namespace sluice::control::kubernetes {

struct PodIdentity {
  std::string namespace_name;   // metadata.namespace ("default" when absent)
  std::string service_account;  // spec.serviceAccountName ("default" when absent)
  // The workload the pod is a replica of: its controller's name, with a
  // ReplicaSet's pod-template-hash suffix removed (so the Deployment's name);
  // a pod without a controller is its own workload (its name, or its
  // generateName without the trailing '-').
  std::string workload;
  // The mesh's node id for the pod's sidecar group: "<workload>.<namespace>".
  std::string nodeId() const { return workload + "." + namespace_name; }
};

// `pod` is a core/v1 Pod object as JSON. `admission_namespace` fills in the
// namespace when the object has none (pods in an AdmissionReview often have
// no metadata.namespace: the request carries it). Never throws: missing or
// mistyped fields take their defaults.
PodIdentity podIdentity(const nlohmann::json& pod, const std::string& admission_namespace = {});

}  // namespace sluice::control::kubernetes
