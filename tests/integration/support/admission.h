#pragma once
// Admission as the API server does it, for the webhook tests: the pod a
// workload's controller makes from a manifest in
// tests/integration/data/kubernetes/, the AdmissionReview it is sent in,
// and the patch the webhook's answer carries, decoded.

#include <nlohmann/json.hpp>
#include <string>

namespace sluice::itest {

// tests/integration/data/kubernetes/NAME, read whole.
std::string kubernetesDataFile(const std::string& name);

// The pod the controller of the manifest in `file` (a Deployment,
// StatefulSet or Job; a Pod is itself) makes from its template, as the API
// server hands it to an admission webhook: a Deployment's pod has the
// ReplicaSet's generateName, pod-template-hash label and owner reference.
nlohmann::json podOf(const std::string& file);

// The admission.k8s.io/v1 AdmissionReview of creating `pod` in namespace `ns`.
nlohmann::json review(const std::string& uid, const std::string& ns, const nlohmann::json& pod);

// Standard base64 (a response's `patch`), padding and line breaks ignored.
std::string base64Decode(const std::string& in);

}  // namespace sluice::itest
