#include "control/kubernetes/pod_identity.h"

namespace sluice::control::kubernetes {
namespace {

std::string stringAt(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return {};
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

const nlohmann::json& objectAt(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json empty = nlohmann::json::object();
  if (!obj.is_object()) return empty;
  const auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? *it : empty;
}

// The owner reference marked controller: true, if any.
const nlohmann::json* controllerOf(const nlohmann::json& meta) {
  const auto it = meta.find("ownerReferences");
  if (it == meta.end() || !it->is_array()) return nullptr;
  for (const auto& ref : *it) {
    const auto c = ref.is_object() ? ref.find("controller") : ref.end();
    if (ref.is_object() && c != ref.end() && c->is_boolean() && c->get<bool>()) return &ref;
  }
  return nullptr;
}

std::string workloadOf(const nlohmann::json& meta) {
  if (const auto* owner = controllerOf(meta)) {
    std::string name = stringAt(*owner, "name");
    // A Deployment's ReplicaSet is "<deployment>-<pod-template-hash>".
    const std::string hash = stringAt(objectAt(meta, "labels"), "pod-template-hash");
    if (stringAt(*owner, "kind") == "ReplicaSet" && !hash.empty() && name.size() > hash.size() + 1 &&
        name.compare(name.size() - hash.size() - 1, std::string::npos, "-" + hash) == 0)
      name.resize(name.size() - hash.size() - 1);
    if (!name.empty()) return name;
  }
  std::string name = stringAt(meta, "name");
  if (!name.empty()) return name;
  name = stringAt(meta, "generateName");
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name;
}

}  // namespace

PodIdentity podIdentity(const nlohmann::json& pod, const std::string& admission_namespace) {
  const auto& meta = objectAt(pod, "metadata");
  PodIdentity id;
  id.namespace_name = stringAt(meta, "namespace");
  if (id.namespace_name.empty()) id.namespace_name = admission_namespace;
  if (id.namespace_name.empty()) id.namespace_name = "default";
  id.service_account = stringAt(objectAt(pod, "spec"), "serviceAccountName");
  if (id.service_account.empty()) id.service_account = "default";
  id.workload = workloadOf(meta);
  return id;
}

}  // namespace sluice::control::kubernetes
