#pragma once
// Kubernetes service-account tokens as the CA's credentials: an injected
// sidecar presents the projected token the kubelet minted for it (audience
// `sluice-ca` by default), and the API server says whose it is
// (authentication.k8s.io/v1 TokenReview; the chart grants `create` on
// tokenreviews and nothing more for it). A token is taken when the review
// says authenticated, for our audience, as system:serviceaccount:<ns>:<sa>.
//
// Reviews are cached by the token's SHA-256 (a good one for a minute, so a
// restart of many sidecars costs the API server one review each; a refused
// one is not cached). Blocking, any thread: the CA calls it off gRPC's
// threads (certificate_service.h).

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "control/ca/bootstrap_token.h"
#include "control/kubernetes/kubernetes_config.h"

namespace sluice::control::kubernetes {

// The TokenReview POSTed for `token`.
std::string tokenReviewRequest(std::string_view token, const std::string& audience);
// What a TokenReview's answer (the body of a 201) says of the token.
ca::TokenCheck tokenReviewResult(std::string_view body, const std::string& audience);

class TokenReviewer {
 public:
  using Clock = std::chrono::steady_clock;
  TokenReviewer(KubernetesSpec spec, std::string audience) : spec_(std::move(spec)), audience_(std::move(audience)) {}

  ca::TokenCheck review(std::string_view token);

 private:
  struct Cached {
    ca::TokenCheck check;
    Clock::time_point until;
  };
  const KubernetesSpec spec_;
  const std::string audience_;
  std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // by SHA-256 of the token
};

}  // namespace sluice::control::kubernetes
