// libFuzzer target: the injection webhook's answer to a POSTed body
// (control/kubernetes/injection_webhook.h): the AdmissionReview parser, the
// pod's identity and the sidecar patch builder, fed what the API server
// sends (pod specs are written by anyone who may create a pod).
//
// Properties:
// - the answer returns, never throws;
// - HTTP 200 with an AdmissionReview echoing the request's uid, or 400;
// - a patch, when there is one, applies to the pod it was made for (a patch
//   the API server cannot apply would refuse every pod of the namespace),
//   and the patched pod carries the sidecar; injecting it again adds nothing.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "control/kubernetes/admission_review.h"
#include "control/kubernetes/injection_config.h"
#include "control/kubernetes/injection_webhook.h"

namespace {

using namespace sluice::control::kubernetes;
using nlohmann::json;

void check(bool ok) {
  if (!ok) std::abort();
}

InjectionSpec spec() {
  InjectionSpec s;
  s.ads_address = "sluice-control.sluice-system.svc:15010";
  s.image = "sluice:0.1.0";
  s.init_image = s.image;
  s.exclude_outbound_cidrs = {"169.254.169.254/32"};
  return s;
}

// The base64 the response carries, back to bytes ("" when malformed).
std::string base64Decode(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const size_t v = kAlphabet.find(c);
    if (v == std::string::npos) return "";
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

bool hasSidecar(const json& pod) {
  for (const char* list : {"initContainers", "containers"}) {
    const auto spec = pod.find("spec");
    if (spec == pod.end() || !spec->is_object() || !spec->contains(list) || !(*spec)[list].is_array()) continue;
    for (const auto& c : (*spec)[list])
      if (c.is_object() && c.value("name", "") == "sluice-proxy") return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const InjectionSpec kSpec = spec();
  const std::string body(reinterpret_cast<const char*>(data), size);
  WebhookReply reply;
  try {
    reply = answerAdmissionReview(body, kSpec, nullptr);
  } catch (...) {
    std::abort();  // an exception escaped the webhook
  }
  check(reply.status == 200 || reply.status == 400);
  if (reply.status != 200) return 0;

  AdmissionRequest request;
  std::string error;
  check(parseAdmissionReview(body, request, error));
  const json answer = json::parse(reply.body, nullptr, false);
  check(answer.is_object() && answer.value("kind", "") == "AdmissionReview");
  const json& response = answer.at("response");
  check(response.at("uid") == request.uid);
  if (!response.contains("patch")) return 0;
  check(response.value("patchType", "") == "JSONPatch");
  const json patch = json::parse(base64Decode(response.at("patch").get<std::string>()), nullptr, false);
  check(patch.is_array());
  json patched;
  try {
    patched = request.object.patch(patch);
  } catch (...) {
    std::abort();  // the API server could not apply it either
  }
  check(hasSidecar(patched));
  // The patched pod, reviewed again (a reinvocation): nothing more to add.
  json again = json::parse(body, nullptr, false);
  again["request"]["object"] = patched;
  const WebhookReply second = answerAdmissionReview(again.dump(), kSpec, nullptr);
  check(second.status == 200);
  const json second_answer = json::parse(second.body, nullptr, false);
  check(!second_answer.at("response").contains("patch") ||
        json::parse(base64Decode(second_answer["response"]["patch"].get<std::string>()), nullptr, false).empty());
  return 0;
}
