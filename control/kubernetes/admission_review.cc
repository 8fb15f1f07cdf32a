#include "control/kubernetes/admission_review.h"

#include <openssl/evp.h>

namespace sluice::control::kubernetes {

using nlohmann::json;

bool parseAdmissionReview(std::string_view body, AdmissionRequest& out, std::string& error) {
  const json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    error = "the body is not JSON";
    return false;
  }
  if (!doc.is_object() || doc.value("kind", json()) != "AdmissionReview") {
    error = "not an AdmissionReview (kind must be AdmissionReview)";
    return false;
  }
  if (doc.value("apiVersion", json()) != "admission.k8s.io/v1") {
    error = "apiVersion must be admission.k8s.io/v1 (set admissionReviewVersions: [v1] in the webhook configuration)";
    return false;
  }
  const auto req = doc.find("request");
  if (req == doc.end() || !req->is_object()) {
    error = "the AdmissionReview has no request";
    return false;
  }
  const auto uid = req->find("uid");
  if (uid == req->end() || !uid->is_string() || uid->get_ref<const std::string&>().empty()) {
    error = "request.uid is missing";
    return false;
  }
  out.uid = uid->get<std::string>();
  const auto kind = req->find("kind");
  if (kind != req->end() && kind->is_object() && kind->contains("kind") && (*kind)["kind"].is_string())
    out.kind = (*kind)["kind"].get<std::string>();
  out.operation = req->value("operation", json("")).is_string() ? req->value("operation", std::string()) : "";
  const auto ns = req->find("namespace");
  out.namespace_name = ns != req->end() && ns->is_string() ? ns->get<std::string>() : "";
  const auto dry = req->find("dryRun");
  out.dry_run = dry != req->end() && dry->is_boolean() && dry->get<bool>();
  const auto obj = req->find("object");
  out.object = obj != req->end() ? *obj : json();
  return true;
}

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

json admissionResponse(const std::string& uid, const AdmissionVerdict& v) {
  json resp = {{"uid", uid}, {"allowed", v.allowed}};
  if (v.allowed && v.patch.is_array() && !v.patch.empty()) {
    resp["patchType"] = "JSONPatch";
    resp["patch"] = base64Encode(v.patch.dump());
  }
  if (!v.allowed) resp["status"] = {{"code", v.status_code ? v.status_code : 403}, {"message", v.status_message}};
  if (!v.warnings.empty()) resp["warnings"] = v.warnings;
  return {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"response", std::move(resp)}};
}

}  // namespace sluice::control::kubernetes
