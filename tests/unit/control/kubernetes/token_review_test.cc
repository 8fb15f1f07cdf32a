#include "control/kubernetes/token_review.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sluice::control::kubernetes {
namespace {

TEST(TokenReview, TheRequestAsksForOurAudience) {
  const auto j = nlohmann::json::parse(tokenReviewRequest("t0k\"en", "sluice-ca"));
  EXPECT_EQ(j["apiVersion"], "authentication.k8s.io/v1");
  EXPECT_EQ(j["kind"], "TokenReview");
  EXPECT_EQ(j["spec"]["token"], "t0k\"en");
  EXPECT_EQ(j["spec"]["audiences"], nlohmann::json::array({"sluice-ca"}));
}

TEST(TokenReview, AnAuthenticatedServiceAccountIsItsIdentity) {
  const ca::TokenCheck c = tokenReviewResult(R"({"kind":"TokenReview","status":{"authenticated":true,
      "user":{"username":"system:serviceaccount:prod:web","uid":"1","groups":["system:serviceaccounts"]},
      "audiences":["sluice-ca"]}})",
                                             "sluice-ca");
  ASSERT_TRUE(c.identity) << c.reason;
  EXPECT_EQ(c.identity->ns, "prod");
  EXPECT_EQ(c.identity->sa, "web");
  // An API server that does not echo audiences: the request asked for ours.
  EXPECT_TRUE(tokenReviewResult(R"({"status":{"authenticated":true,"user":{"username":"system:serviceaccount:a:b"}}})",
                                "sluice-ca")
                  .identity);
}

TEST(TokenReview, AnythingElseIsRefusedWithWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"status":{"authenticated":false,"error":"token expired"}})", "token expired"},
      {R"({"status":{"authenticated":true,"user":{"username":"system:serviceaccount:prod:web"},"audiences":["vault"]}})",
       "not for audience 'sluice-ca'"},
      {R"({"status":{"authenticated":true,"user":{"username":"jane@example.com"}}})", "is not a service account"},
      {R"({"status":{"authenticated":true,"user":{"username":"system:serviceaccount:prod"}}})",
       "is not a service account"},
      {R"({"status":{"authenticated":true,"user":{"username":"system:serviceaccount:Prod/x:web"}}})", "namespace"},
      {R"({"status":{"authenticated":true,"user":{"username":"system:serviceaccount:prod:we/b"}}})", "service account"},
      {R"({"kind":"Status","code":403})", "no status"},
      {"not json", "no status"},
  };
  for (const auto& [body, why] : cases) {
    const ca::TokenCheck c = tokenReviewResult(body, "sluice-ca");
    EXPECT_FALSE(c.identity) << body;
    EXPECT_NE(c.reason.find(why), std::string::npos) << body << ": " << c.reason;
  }
}

}  // namespace
}  // namespace sluice::control::kubernetes
