// One AdmissionReview in, the webhook's HTTP answer out: the envelope, the
// failure policies, what is skipped, and the metrics of each.

#include "control/kubernetes/injection_webhook.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "control/kubernetes/admission_review.h"

namespace sluice::control::kubernetes {
namespace {

using nlohmann::json;

InjectionSpec spec(FailurePolicy policy) {
  InjectionSpec s;
  s.ads_address = "sluice-control.sluice-system.svc:15010";
  s.image = s.init_image = "sluice:1";
  s.failure_policy = policy;
  return s;
}

json reviewOf(json pod, const std::string& kind = "Pod", const std::string& op = "CREATE") {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "u-1"}, {"kind", {{"kind", kind}}}, {"operation", op}, {"namespace", "ns"}, {"object", pod}}}};
}

json pod(json annotations = json::object()) {
  return {{"metadata", {{"name", "p"}, {"annotations", annotations}}},
          {"spec", {{"containers", {{{"name", "app"}, {"image", "app:1"}}}}}}};
}

json responseOf(const WebhookReply& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body)["response"];
}

TEST(InjectionWebhook, AnInjectedPodGetsItsPatchInBase64) {
  prometheus::Registry registry;
  InjectionMetrics m(registry);
  const json resp = responseOf(answerAdmissionReview(reviewOf(pod()).dump(), spec(FailurePolicy::Fail), &m));
  EXPECT_EQ(resp["uid"], "u-1");
  EXPECT_EQ(resp["allowed"], true);
  EXPECT_EQ(resp["patchType"], "JSONPatch");
  EXPECT_EQ(base64Encode("ab"), "YWI=");
  EXPECT_EQ(m.injected.Value(), 1);
  EXPECT_EQ(m.reviews.Value(), 1);
}

TEST(InjectionWebhook, FailurePoliciesDecideWhatAnUninjectablePodGets) {
  prometheus::Registry registry;
  InjectionMetrics m(registry);
  const std::string body = reviewOf(pod({{"sluice.io/inject", "maybe"}})).dump();
  json resp = responseOf(answerAdmissionReview(body, spec(FailurePolicy::Ignore), &m));
  EXPECT_EQ(resp["allowed"], true);
  EXPECT_FALSE(resp.contains("patch"));
  EXPECT_EQ(resp["warnings"][0],
            "sluice: the sidecar was not injected: annotation sluice.io/inject must be \"true\" or \"false\", not "
            "\"maybe\"");
  EXPECT_EQ(m.errors_ignored.Value(), 1);
  resp = responseOf(answerAdmissionReview(body, spec(FailurePolicy::Fail), &m));
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_EQ(resp["status"]["code"], 400);
  EXPECT_FALSE(resp.contains("patch"));
  EXPECT_EQ(m.errors_refused.Value(), 1);
  EXPECT_EQ(m.injected.Value(), 0);
}

TEST(InjectionWebhook, OtherKindsAndOperationsAreAdmittedUnchanged) {
  prometheus::Registry registry;
  InjectionMetrics m(registry);
  for (auto [kind, op, reason] : {std::tuple{"Service", "CREATE", "not_a_pod"}, std::tuple{"Pod", "UPDATE", "not_create"}}) {
    const json resp = responseOf(answerAdmissionReview(reviewOf(pod(), kind, op).dump(), spec(FailurePolicy::Fail), &m));
    EXPECT_EQ(resp["allowed"], true);
    EXPECT_FALSE(resp.contains("patch"));
    EXPECT_EQ(m.skips.Add({{"reason", reason}}).Value(), 1) << reason;
  }
}

TEST(InjectionWebhook, MalformedReviewsAre400WithTheReason) {
  prometheus::Registry registry;
  InjectionMetrics m(registry);
  for (auto [body, why] : {std::pair<std::string, std::string>{"[1,", "the body is not JSON"},
                           {R"({"kind": "Pod"})", "not an AdmissionReview (kind must be AdmissionReview)"},
                           {R"({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1"})",
                            "the AdmissionReview has no request"}}) {
    const WebhookReply r = answerAdmissionReview(body, spec(FailurePolicy::Fail), &m);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, "bad AdmissionReview: " + why + "\n");
  }
  EXPECT_EQ(m.bad_requests.Value(), 3);
  EXPECT_EQ(m.reviews.Value(), 0);
}

}  // namespace
}  // namespace sluice::control::kubernetes
