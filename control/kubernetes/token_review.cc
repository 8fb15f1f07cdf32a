#include "control/kubernetes/token_review.h"

#include <openssl/sha.h>

#include <condition_variable>
#include <nlohmann/json.hpp>
#include <thread>

#include "control/kubernetes/api_access.h"
#include "control/kubernetes/api_client.h"
#include "control/kubernetes/request_canceller.h"

namespace sluice::control::kubernetes {
namespace {

using nlohmann::json;

constexpr std::string_view kTarget = "/apis/authentication.k8s.io/v1/tokenreviews";
constexpr std::string_view kServiceAccountUser = "system:serviceaccount:";
constexpr auto kGoodFor = std::chrono::minutes(1);
constexpr size_t kMaxCached = 10000;
constexpr auto kReviewTimeout = std::chrono::seconds(5);

ca::TokenCheck refused(std::string reason) { return ca::TokenCheck{std::nullopt, std::move(reason)}; }

std::string digest(std::string_view token) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), md);
  return std::string(reinterpret_cast<const char*>(md), sizeof(md));
}

}  // namespace

std::string tokenReviewRequest(std::string_view token, const std::string& audience) {
  return json{{"apiVersion", "authentication.k8s.io/v1"},
              {"kind", "TokenReview"},
              {"spec", {{"token", std::string(token)}, {"audiences", json::array({audience})}}}}
      .dump();
}

ca::TokenCheck tokenReviewResult(std::string_view body, const std::string& audience) {
  const json doc = json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("status") || !doc["status"].is_object())
    return refused("the API server's TokenReview answer has no status");
  const json& status = doc["status"];
  if (!status.value("authenticated", false)) {
    const std::string why = status.contains("error") && status["error"].is_string() ? status["error"].get<std::string>()
                                                                                    : "not authenticated";
    return refused("the API server did not authenticate it: " + why);
  }
  // An API server that checked the audience lists it; one that lists others
  // took the token for someone else.
  if (status.contains("audiences") && status["audiences"].is_array()) {
    bool ours = false;
    for (const auto& a : status["audiences"]) ours = ours || (a.is_string() && a.get<std::string>() == audience);
    if (!ours) return refused("the token is not for audience '" + audience + "'");
  }
  const json user = status.contains("user") && status["user"].is_object() ? status["user"] : json::object();
  const std::string name =
      user.contains("username") && user["username"].is_string() ? user["username"].get<std::string>() : "";
  if (!name.starts_with(kServiceAccountUser)) return refused("'" + name + "' is not a service account");
  const std::string rest = name.substr(kServiceAccountUser.size());
  const size_t colon = rest.find(':');
  if (colon == std::string::npos) return refused("'" + name + "' is not a service account");
  ca::WorkloadIdentity id{rest.substr(0, colon), rest.substr(colon + 1)};
  if (std::string e = ca::checkNamespace(id.ns); !e.empty()) return refused("namespace: " + e);
  if (std::string e = ca::checkServiceAccount(id.sa); !e.empty()) return refused("service account: " + e);
  return ca::TokenCheck{std::move(id), {}};
}

ca::TokenCheck TokenReviewer::review(std::string_view token) {
  const std::string key = digest(token);
  {
    std::lock_guard lock(mu_);
    const auto it = cache_.find(key);
    if (it != cache_.end() && Clock::now() < it->second.until) return it->second.check;
  }
  std::string error;
  const std::optional<ApiAccess> access = resolveAccess(spec_, error);
  if (!access) return refused("cannot reach the API server to review it: " + error);
  RequestCanceller canceller;
  unsigned status = 0;
  std::string body;
  ApiRequestCallbacks cb;
  cb.connect_timeout = kReviewTimeout;
  cb.on_status = [&](unsigned s) { status = s; };
  cb.on_body = [&](std::string_view chunk) {
    body.append(chunk);
    return body.size() < (1u << 20);
  };
  // A review is a short exchange: an API server silent for longer is
  // treated as down (the sidecar's agent retries), not waited on.
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, kReviewTimeout, [&] { return done; })) canceller.cancel();
  });
  error = apiCall(*access, ApiCall{std::string(kTarget), tokenReviewRequest(token, audience_)}, canceller, cb);
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_one();
  watchdog.join();
  if (!error.empty()) return refused("TokenReview: " + error);
  if (status != 200 && status != 201)
    return refused("TokenReview answered " + std::to_string(status) + ": " + body.substr(0, 200));
  ca::TokenCheck check = tokenReviewResult(body, audience_);
  if (check.identity) {
    std::lock_guard lock(mu_);
    if (cache_.size() >= kMaxCached) cache_.clear();
    cache_[key] = Cached{check, Clock::now() + kGoodFor};
  }
  return check;
}

}  // namespace sluice::control::kubernetes
