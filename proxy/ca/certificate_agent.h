#pragma once
// CertificateAgent: the proxy's own certificate from the mesh CA
// (`dynamic.ca` in the bootstrap). It makes a P-256 key in memory and a
// CSR for it, calls CreateCertificate with the token read from token_file
// (read again at every call, so a rotated token is picked up), and provides
// the result as the TlsCertificate secret `secret_name` (inline PEM: the
// chain, leaf first, and the key). The key never leaves the process.
//
// Schedule (renewal_schedule.h): a new key and certificate at half of the
// lifetime, ±10%; a failed call is tried again after a jittered exponential
// backoff (1 s .. 30 s) while the current certificate serves on.
//
// Main thread only (the loop's), the CaClient's call included. `on_change`
// runs on the main thread after each new certificate: the server applies
// its config again with the new secret, which swaps the TLS contexts that
// name it (no listener is rebound).
//
// Metrics: sluice_identity_certificate_requests_total{result="ok|error"},
// sluice_identity_certificate_expiry_seconds (of the current certificate;
// refreshed by refreshGauge(), which the server calls with its periodic
// certificate check).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/model.h"
#include "proxy/ca/ca_client.h"
#include "proxy/ca/renewal_schedule.h"
#include "proxy/event/loop.h"
#include "proxy/stats/named_counters.h"
#include "proxy/util/random.h"

namespace sluice::ca {

class CertificateAgent {
 public:
  CertificateAgent(event::Loop& loop, config::CaSpec spec, std::string common_name, std::unique_ptr<CaClient> client,
                   std::function<void()> on_change, util::RandomSource& random);
  ~CertificateAgent();

  // Asks for the first certificate.
  void start();
  // Asks for a new certificate now (POST /certs/rotate), unless a call is
  // in flight. The current one serves until the new one arrives.
  void rotateNow();

  // The secret the agent provides; none until the first certificate.
  const std::optional<config::SecretSpec>& secret() const { return secret_; }
  const config::CaSpec& spec() const { return spec_; }
  void refreshGauge(WallTime now = std::chrono::system_clock::now());
  // For /certs: the CA, the current certificate and the last failure.
  nlohmann::json status() const;

 private:
  void request();
  void onIssued(const std::string& key_pem, IssueResult result);
  void fail(const std::string& why);
  std::string readToken(std::string* error) const;

  event::Loop& loop_;
  const config::CaSpec spec_;
  const std::string common_name_;
  std::unique_ptr<CaClient> client_;
  std::function<void()> on_change_;
  util::RandomSource& random_;
  std::unique_ptr<event::Timer> timer_;
  bool in_flight_ = false;
  uint32_t failures_ = 0;
  std::optional<config::SecretSpec> secret_;
  std::string spiffe_id_;
  WallTime not_after_{};
  WallTime next_request_{};
  std::string last_error_;
  std::shared_ptr<stats::NamedCounter> ok_, errors_, expiry_;
};

}  // namespace sluice::ca
