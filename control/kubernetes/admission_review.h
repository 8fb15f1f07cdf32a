#pragma once
// The admission.k8s.io/v1 AdmissionReview wire format, as far as a
// mutating webhook needs it: the request the API server POSTs, and the
// response it expects back (the request's uid echoed, allowed or not, a
// base64 JSON Patch, warnings, a status for a refusal).

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::control::kubernetes {

struct AdmissionRequest {
  std::string uid;        // echoed in the response
  std::string kind;       // request.kind.kind ("Pod")
  std::string operation;  // CREATE, UPDATE, ...
  std::string namespace_name;
  bool dry_run = false;
  nlohmann::json object;  // request.object; null when absent
};

// Parses a POSTed AdmissionReview. False with `error` (for an HTTP 400)
// when the body is not JSON, not an admission.k8s.io/v1 AdmissionReview,
// or has no request with a uid.
bool parseAdmissionReview(std::string_view body, AdmissionRequest& out, std::string& error);

struct AdmissionVerdict {
  bool allowed = true;
  nlohmann::json patch;  // a JSON Patch array; null or empty: none
  std::vector<std::string> warnings;
  int status_code = 0;         // a refusal's HTTP-like code (403)
  std::string status_message;  // a refusal's reason, shown by kubectl
};

// The AdmissionReview answering `uid`.
nlohmann::json admissionResponse(const std::string& uid, const AdmissionVerdict& verdict);

// Standard base64 (with padding), as the response's `patch` field wants it.
std::string base64Encode(std::string_view bytes);

}  // namespace sluice::control::kubernetes
