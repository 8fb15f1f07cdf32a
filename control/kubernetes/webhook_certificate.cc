#include "control/kubernetes/webhook_certificate.h"

#include <openssl/err.h>

namespace sluice::control::kubernetes {

bool issueServingCertificate(const ca::Authority& authority, const WebhookServing& w, ca::SysTime now,
                             ServingCertificate& out, std::string& error) {
  ca::PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    error = "cannot make a key: " + ca::opensslError();
    return false;
  }
  const ca::IssueResult r = authority.issueServer(key.get(), w.dns_names, w.certificate_ttl, now);
  if (!r.cert) {
    error = "the CA cannot issue the webhook's certificate: " + r.reason;
    return false;
  }
  out.chain_pem.clear();
  for (const auto& pem : r.cert->chain) out.chain_pem += pem;
  out.key_pem = ca::keyToPem(key.get());
  out.not_after = r.cert->not_after;
  // Half of the life left from now: the certificate's not_before is set a
  // minute back for clock skew, and half of that span would come due at
  // once for a short TTL (a 1m one: renewed on every turn of the timer).
  out.refresh_at = now + (r.cert->not_after - now) / 2;
  return true;
}

bool loadServingCertificate(const WebhookServing& w, ca::SysTime now, ServingCertificate& out, std::string& error,
                            std::chrono::seconds recheck) {
  std::string cert_pem, key_pem, why;
  if (!ca::readWholeFile(w.cert_file->path, cert_pem, why)) {
    error = w.cert_file->path + ": " + why;
    return false;
  }
  if (!ca::readWholeFile(w.key_file->path, key_pem, why)) {
    error = w.key_file->path + ": " + why;
    return false;
  }
  auto certs = ca::certsFromPem(cert_pem);
  if (certs.empty()) {
    error = w.cert_file->path + ": no PEM certificate in it";
    return false;
  }
  ca::PkeyPtr key = ca::keyFromPem(key_pem);
  if (!key) {
    error = w.key_file->path + ": not an unencrypted PEM private key (" + ca::opensslError() + ")";
    return false;
  }
  if (X509_check_private_key(certs[0].get(), key.get()) != 1) {
    ERR_clear_error();
    error = w.key_file->path + ": not the key of " + w.cert_file->path;
    return false;
  }
  out.chain_pem = std::move(cert_pem);
  out.key_pem = std::move(key_pem);
  out.not_after = ca::notAfter(certs[0].get());
  out.refresh_at = now + recheck;
  return true;
}

}  // namespace sluice::control::kubernetes
