#include "control/kubernetes/json_fields.h"

namespace sluice::control::kubernetes {

const nlohmann::json& jsonAt(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json null;
  if (!obj.is_object()) return null;
  const auto it = obj.find(key);
  return it == obj.end() ? null : *it;
}

std::string jsonString(const nlohmann::json& obj, const char* key) {
  const nlohmann::json& v = jsonAt(obj, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace sluice::control::kubernetes
