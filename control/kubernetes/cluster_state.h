#pragma once
// The objects the watches have seen, by resource and "<namespace>/<name>",
// shared between the watch threads (writers) and the daemon (reader). Every
// change bumps the generation, which the daemon polls to recompute the mesh.
// A relist replaces a resource's objects in one step, so a reader never sees
// a half-listed resource; a failed watch changes nothing (the last good
// state stays).

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::control::kubernetes {

// resource ("services", "endpointslices", "pods", "namespaces",
// "serviceaccounts") -> key -> object.
using ClusterObjects = std::map<std::string, std::map<std::string, nlohmann::json>>;

// "<namespace>/<name>" ("/<name>" for a cluster-scoped object).
std::string objectKey(const nlohmann::json& object);

class ClusterState {
 public:
  // The objects of `resource` in namespace `ns` (every namespace when
  // empty) become `items`.
  void replace(const std::string& resource, const std::string& ns, std::vector<nlohmann::json> items);
  void upsert(const std::string& resource, nlohmann::json object);
  void remove(const std::string& resource, const nlohmann::json& object);

  uint64_t generation() const;
  ClusterObjects snapshot() const;

 private:
  mutable std::mutex mu_;
  ClusterObjects objects_;
  uint64_t generation_ = 0;
};

}  // namespace sluice::control::kubernetes
