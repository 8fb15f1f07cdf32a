#include "control/ca/trust_bundle_secret.h"

namespace sluice::control::ca {

config::SecretSpec trustBundleSecret(const Authority& authority) {
  config::SecretSpec s;
  s.name = kTrustBundleSecretName;
  s.kind = config::SecretSpec::Kind::ValidationContext;
  s.inline_pem = true;
  for (const std::string& pem : authority.trustBundle()) {
    s.trusted_ca += pem;
    if (!pem.empty() && pem.back() != '\n') s.trusted_ca += '\n';
  }
  return s;
}

}  // namespace sluice::control::ca
