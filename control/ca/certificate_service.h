#pragma once
// sluice.ca.v1.CertificateService/CreateCertificate on gRPC's callback API,
// served on the CA's own port (control/ca/ca_server.h).
//
// A call proves its identity with "authorization: Bearer <token>": a
// bootstrap token (control/ca/bootstrap_token.h, "v1/..."), or, when an
// external verifier is set (with `kubernetes:`, a Kubernetes
// service-account token checked by the API server's TokenReview), any other
// token. External checks block on the network, so they run on a thread of
// this service's own, never on gRPC's. Answers:
//   UNAUTHENTICATED   no token, not a Bearer token, or a bad one (the reason in the message)
//   INVALID_ARGUMENT  a CSR that cannot be used, or a negative validity (the reason)
//   INTERNAL          the CA could not sign (logged; the caller learns no more)
//   OK                cert_chain (leaf first) and trust_bundle
// Each outcome is counted (control/ca/ca_metrics.h); each issuance is logged
// with its SPIFFE ID, serial and notAfter.
//
// Threads: gRPC's threads call CreateCertificate; update() may run on any
// thread, and a call uses the CA it found when it started.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "control/ca/ca_metrics.h"
#include "control/ca/ca_runtime.h"
#include "sluice/ca/v1/certificate_service.grpc.pb.h"

namespace sluice::control::ca {

class CertificateService final : public ::sluice::ca::v1::CertificateService::CallbackService {
 public:
  using Now = std::function<SysTime()>;
  CertificateService(std::shared_ptr<const CaRuntime> ca, CaMetrics& metrics,
                     Now now = &std::chrono::system_clock::now);
  // Answers the calls still waiting for an external check UNAVAILABLE.
  ~CertificateService() override;

  // Who a token that is not a bootstrap token belongs to; null: none but
  // bootstrap tokens are taken. Set before the server starts.
  using ExternalTokens = std::function<TokenCheck(std::string_view token)>;
  void setExternalTokens(ExternalTokens verify);

  // The CA that later calls use (a reload).
  void update(std::shared_ptr<const CaRuntime> ca);
  std::shared_ptr<const CaRuntime> current() const;
  // Sets sluice_control_ca_root_expiry_seconds from the clock (before a scrape).
  void refreshRootExpiry();

  // The call without gRPC's transport: `authorization` is the header's value
  // (empty when absent). What CreateCertificate answers.
  grpc::Status create(std::string_view authorization, const ::sluice::ca::v1::CreateCertificateRequest& request,
                      ::sluice::ca::v1::CreateCertificateResponse* response);
  // The Bearer token of an authorization value, or an error status.
  static grpc::Status bearer(std::string_view authorization, std::string_view& token);

  grpc::ServerUnaryReactor* CreateCertificate(grpc::CallbackServerContext* context,
                                              const ::sluice::ca::v1::CreateCertificateRequest* request,
                                              ::sluice::ca::v1::CreateCertificateResponse* response) override;

 private:
  grpc::Status issue(const TokenCheck& check, const std::string& kind,
                     const ::sluice::ca::v1::CreateCertificateRequest& request,
                     ::sluice::ca::v1::CreateCertificateResponse* response);
  void runExternalChecks();

  CaMetrics& metrics_;
  ExternalTokens external_;
  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<std::function<void(bool run)>> jobs_;  // run false: shutting down
  bool stopping_ = false;
  std::thread worker_;
  const Now now_;
  mutable std::mutex mu_;
  std::shared_ptr<const CaRuntime> ca_;
};

}  // namespace sluice::control::ca
