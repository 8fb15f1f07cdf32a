#pragma once
// The CA's trust bundle as the Secret proxies validate mesh peers with:
// `ROOTCA`, a ValidationContext holding the PEM itself (Istio's name for
// the same thing, so Envoy sidecars find it where they look).

#include "config/model.h"
#include "control/ca/authority.h"

namespace sluice::control::ca {

inline constexpr const char* kTrustBundleSecretName = "ROOTCA";

// The current root and extra_roots, concatenated.
config::SecretSpec trustBundleSecret(const Authority& authority);

}  // namespace sluice::control::ca
