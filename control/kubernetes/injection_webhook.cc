#include "control/kubernetes/injection_webhook.h"

#include "control/control_log.h"
#include "control/kubernetes/admission_review.h"
#include "control/kubernetes/pod_identity.h"
#include "control/kubernetes/sidecar_patch.h"

namespace sluice::control::kubernetes {
namespace {

prometheus::Family<prometheus::Counter>& errorFamily(prometheus::Registry& registry) {
  return prometheus::BuildCounter()
      .Name("sluice_control_injection_errors_total")
      .Help("Pods the webhook could not inject, by the failure policy applied")
      .Register(registry);
}

prometheus::Counter& single(prometheus::Registry& registry, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
}

}  // namespace

InjectionMetrics::InjectionMetrics(prometheus::Registry& registry)
    : reviews(single(registry, "sluice_control_injection_reviews_total", "AdmissionReviews answered")),
      injected(single(registry, "sluice_control_injections_total", "Pods given the sluice sidecar")),
      skips(prometheus::BuildCounter()
                .Name("sluice_control_injection_skips_total")
                .Help("Admitted objects left unchanged, by reason")
                .Register(registry)),
      errors_ignored(errorFamily(registry).Add({{"failure_policy", "Ignore"}})),
      errors_refused(errorFamily(registry).Add({{"failure_policy", "Fail"}})),
      bad_requests(single(registry, "sluice_control_injection_bad_requests_total",
                          "Requests to the webhook that were not AdmissionReviews (HTTP 400)")) {}

WebhookReply answerAdmissionReview(std::string_view body, const InjectionSpec& spec, InjectionMetrics* metrics) {
  AdmissionRequest req;
  std::string error;
  if (!parseAdmissionReview(body, req, error)) {
    if (metrics) metrics->bad_requests.Increment();
    return {400, "text/plain; charset=utf-8", "bad AdmissionReview: " + error + "\n"};
  }
  if (metrics) metrics->reviews.Increment();
  AdmissionVerdict verdict;
  auto skip = [&](const std::string& reason) {
    if (metrics) metrics->skips.Add({{"reason", reason}}).Increment();
  };
  if (req.kind != "Pod") {
    skip("not_a_pod");
  } else if (req.operation != "CREATE") {
    skip("not_create");
  } else {
    const SidecarPatch p = buildSidecarPatch(req.object, spec, req.namespace_name);
    const PodIdentity id = podIdentity(req.object, req.namespace_name);
    const std::string who = id.namespace_name + "/" + (id.workload.empty() ? "?" : id.workload);
    switch (p.outcome) {
      case SidecarPatch::Outcome::Injected:
        verdict.patch = p.patch;
        verdict.warnings = p.warnings;
        if (metrics) metrics->injected.Increment();
        log::info("injection: sidecar added to a pod of " + who + (req.dry_run ? " (dry run)" : ""));
        break;
      case SidecarPatch::Outcome::Skipped:
        skip(p.reason);
        log::debug("injection: pod of " + who + " left alone (" + p.reason + ")");
        break;
      case SidecarPatch::Outcome::Failed:
        if (spec.failure_policy == FailurePolicy::Ignore) {
          verdict.warnings.push_back("sluice: the sidecar was not injected: " + p.reason);
          if (metrics) metrics->errors_ignored.Increment();
        } else {
          verdict.allowed = false;
          verdict.status_code = 400;
          verdict.status_message = "sluice: cannot inject the sidecar: " + p.reason;
          if (metrics) metrics->errors_refused.Increment();
        }
        log::warn("injection: pod of " + who + " not injected (failure_policy " +
                  failurePolicyName(spec.failure_policy) + "): " + p.reason);
        break;
    }
  }
  return {200, "application/json", admissionResponse(req.uid, verdict).dump() + "\n"};
}

}  // namespace sluice::control::kubernetes
