#include "control/kubernetes/cluster_state.h"

namespace sluice::control::kubernetes {
namespace {

std::string field(const nlohmann::json& meta, const char* key) {
  const auto it = meta.find(key);
  return it != meta.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string objectKey(const nlohmann::json& object) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "/";
  return field(*meta, "namespace") + "/" + field(*meta, "name");
}

void ClusterState::replace(const std::string& resource, const std::string& ns, std::vector<nlohmann::json> items) {
  std::lock_guard lock(mu_);
  auto& objects = objects_[resource];
  if (ns.empty()) {
    objects.clear();
  } else {
    const std::string prefix = ns + "/";
    std::erase_if(objects, [&](const auto& kv) { return kv.first.rfind(prefix, 0) == 0; });
  }
  for (auto& item : items) {
    std::string key = objectKey(item);
    objects[std::move(key)] = std::move(item);
  }
  ++generation_;
}

void ClusterState::upsert(const std::string& resource, nlohmann::json object) {
  std::lock_guard lock(mu_);
  std::string key = objectKey(object);
  objects_[resource][std::move(key)] = std::move(object);
  ++generation_;
}

void ClusterState::remove(const std::string& resource, const nlohmann::json& object) {
  std::lock_guard lock(mu_);
  objects_[resource].erase(objectKey(object));
  ++generation_;
}

uint64_t ClusterState::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

ClusterObjects ClusterState::snapshot() const {
  std::lock_guard lock(mu_);
  return objects_;
}

}  // namespace sluice::control::kubernetes
