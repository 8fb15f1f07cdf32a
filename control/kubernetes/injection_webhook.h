#pragma once
// The injection webhook's answer to one POST, apart from HTTP and TLS
// (webhook_server.h carries it): an AdmissionReview body in, the HTTP
// status and body out, with the metrics counted.
//
//   a Pod CREATE              the sidecar patch (sidecar_patch.h), or an
//                             empty one with the skip reason counted
//   anything else             allowed, no patch (skip reason not_a_pod /
//                             not_create): the webhook configuration should
//                             not send these, and admitting them is harmless
//   a pod that cannot be injected
//                             failure_policy Ignore: allowed, no patch, a
//                             warning saying why; Fail: refused with why
//   a malformed review        HTTP 400 with what is wrong
//
// Metrics, in the daemon's registry (the admin /metrics):
//   sluice_control_injection_reviews_total        reviews answered (HTTP 200)
//   sluice_control_injections_total               pods given the sidecar
//   sluice_control_injection_skips_total{reason}  disabled, host_network, already_injected, not_a_pod, not_create
//   sluice_control_injection_errors_total{failure_policy}  pods that could not be injected (Ignore: admitted
//                                                 unchanged; Fail: refused)
//   sluice_control_injection_bad_requests_total   malformed reviews (HTTP 400)

#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "control/kubernetes/injection_config.h"

namespace sluice::control::kubernetes {

struct InjectionMetrics {
  explicit InjectionMetrics(prometheus::Registry& registry);
  prometheus::Counter& reviews;
  prometheus::Counter& injected;
  prometheus::Family<prometheus::Counter>& skips;
  prometheus::Counter& errors_ignored;
  prometheus::Counter& errors_refused;
  prometheus::Counter& bad_requests;
};

struct WebhookReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Any thread; `metrics` may be null (sluice-control inject, tests).
WebhookReply answerAdmissionReview(std::string_view body, const InjectionSpec& spec, InjectionMetrics* metrics);

}  // namespace sluice::control::kubernetes
