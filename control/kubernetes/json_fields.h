#pragma once
// Fields of Kubernetes objects read as JSON without trusting their shape: a
// missing or mistyped field reads as null or "" (an AdmissionReview's pod is
// whatever its author wrote; the API server's lists are not checked twice).

#include <string>

#include <nlohmann/json.hpp>

namespace sluice::control::kubernetes {

// obj[key], or null when obj is not an object or has no such key.
const nlohmann::json& jsonAt(const nlohmann::json& obj, const char* key);
// obj[key] when it is a string, else "".
std::string jsonString(const nlohmann::json& obj, const char* key);

}  // namespace sluice::control::kubernetes
