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

grpc::Status CertificateService::create(std::string_view authorization,
                                        const ::sluice::ca::v1::CreateCertificateRequest& request,
                                        ::sluice::ca::v1::CreateCertificateResponse* response) {
  const auto ca = current();
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.empty()) {
    metrics_.unauthenticated.Increment();
    return {grpc::StatusCode::UNAUTHENTICATED, "no authorization metadata: send 'authorization: Bearer <token>'"};
  }
  if (!startsWithNoCase(authorization, kBearer)) {
    metrics_.unauthenticated.Increment();
    return {grpc::StatusCode::UNAUTHENTICATED, "authorization is not a Bearer token"};
  }
  const TokenCheck check = ca->tokens->verify(authorization.substr(kBearer.size()));
  if (!check.identity) {
    metrics_.unauthenticated.Increment();
    return {grpc::StatusCode::UNAUTHENTICATED, "bad bootstrap token: " + check.reason};
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
  reactor->Finish(create(authorization, *request, response));
  return reactor;
}

}  // namespace sluice::control::ca
