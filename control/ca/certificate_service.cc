#include "control/ca/certificate_service.h"

#include <cctype>
#include <ctime>

#include "control/control_log.h"

namespace sluice::control::ca {
namespace {

// "2026-12-05T15:35:00Z"
std::string utc(SysTime t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

}  // namespace

CertificateService::CertificateService(std::shared_ptr<const CaRuntime> ca, CaMetrics& metrics, Now now)
    : metrics_(metrics), now_(std::move(now)), ca_(std::move(ca)) {
  refreshRootExpiry();
}

void CertificateService::update(std::shared_ptr<const CaRuntime> ca) {
  {
    std::lock_guard lock(mu_);
    ca_ = std::move(ca);
  }
  refreshRootExpiry();
}

std::shared_ptr<const CaRuntime> CertificateService::current() const {
  std::lock_guard lock(mu_);
  return ca_;
}

void CertificateService::refreshRootExpiry() {
  const auto ca = current();
  metrics_.root_expiry.Set(std::chrono::duration<double>(ca->authority->rootNotAfter() - now_()).count());
}

CertificateService::~CertificateService() {
  {
    std::lock_guard lock(jobs_mu_);
    stopping_ = true;
  }
  jobs_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void CertificateService::setExternalTokens(ExternalTokens verify) {
  external_ = std::move(verify);
  if (external_ && !worker_.joinable()) worker_ = std::thread([this] { runExternalChecks(); });
}

void CertificateService::runExternalChecks() {
  std::unique_lock lock(jobs_mu_);
  for (;;) {
    jobs_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, nothing left
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    const bool run = !stopping_;
    lock.unlock();
    job(run);
    lock.lock();
  }
}

grpc::Status CertificateService::bearer(std::string_view authorization, std::string_view& token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.empty())
    return {grpc::StatusCode::UNAUTHENTICATED, "no authorization metadata: send 'authorization: Bearer <token>'"};
  if (!startsWithNoCase(authorization, kBearer))
    return {grpc::StatusCode::UNAUTHENTICATED, "authorization is not a Bearer token"};
  token = authorization.substr(kBearer.size());
  return grpc::Status::OK;
}

grpc::Status CertificateService::create(std::string_view authorization,
                                        const ::sluice::ca::v1::CreateCertificateRequest& request,
                                        ::sluice::ca::v1::CreateCertificateResponse* response) {
  std::string_view token;
  if (grpc::Status s = bearer(authorization, token); !s.ok()) {
    metrics_.unauthenticated.Increment();
    return s;
  }
  if (external_ && !token.starts_with("v1/")) return issue(external_(token), "token", request, response);
  return issue(current()->tokens->verify(token), "bootstrap token", request, response);
}

grpc::Status CertificateService::issue(const TokenCheck& check, const std::string& kind,
                                       const ::sluice::ca::v1::CreateCertificateRequest& request,
                                       ::sluice::ca::v1::CreateCertificateResponse* response) {
  const auto ca = current();
  if (!check.identity) {
    metrics_.unauthenticated.Increment();
    return {grpc::StatusCode::UNAUTHENTICATED, "bad " + kind + ": " + check.reason};
  }
  const IssueResult r =
      ca->authority->issue(request.csr(), *check.identity, std::chrono::seconds(request.validity_seconds()), now_());
  if (r.failure == IssueResult::Failure::BadRequest) {
    metrics_.bad_csr.Increment();
    log::info("ca: refused a CSR for " + check.identity->spiffeId(ca->authority->trustDomain()) + ": " + r.reason);
    return {grpc::StatusCode::INVALID_ARGUMENT, r.reason};
  }
  if (!r.cert) {
    metrics_.internal.Increment();
    log::error("ca: cannot issue for " + check.identity->spiffeId(ca->authority->trustDomain()) + ": " + r.reason);
    return {grpc::StatusCode::INTERNAL, "the CA could not issue a certificate"};
  }
  for (const auto& pem : r.cert->chain) response->add_cert_chain(pem);
  for (const auto& pem : r.cert->trust_bundle) response->add_trust_bundle(pem);
  metrics_.issued.Increment();
  log::info("ca: issued " + r.cert->spiffe_id + " serial " + r.cert->serial + " not after " + utc(r.cert->not_after));
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* CertificateService::CreateCertificate(
    grpc::CallbackServerContext* context, const ::sluice::ca::v1::CreateCertificateRequest* request,
    ::sluice::ca::v1::CreateCertificateResponse* response) {
  std::string_view authorization;
  const auto& md = context->client_metadata();
  if (auto it = md.find("authorization"); it != md.end()) authorization = {it->second.data(), it->second.size()};
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string_view token;
  if (external_ && bearer(authorization, token).ok() && !token.starts_with("v1/")) {
    // The check goes to the API server: off gRPC's threads. The request and
    // response live until Finish.
    std::lock_guard lock(jobs_mu_);
    if (!stopping_) {
      jobs_.push_back([this, reactor, request, response, token = std::string(token)](bool run) {
        if (!run) {
          reactor->Finish({grpc::StatusCode::UNAVAILABLE, "the CA is shutting down"});
          return;
        }
        reactor->Finish(issue(external_(token), "token", *request, response));
      });
      jobs_cv_.notify_one();
      return reactor;
    }
  }
  reactor->Finish(create(authorization, *request, response));
  return reactor;
}

}  // namespace sluice::control::ca
