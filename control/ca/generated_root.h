#pragma once
// The root the CA makes for itself when the operator gives none, kept in
// `ca.dir` so that every later start signs under the same root:
//
//   <dir>/root.pem   the self-signed certificate, 0644
//   <dir>/root.key   its P-256 key (PKCS#8 PEM), 0600
//
// The folder is created 0700. Each file is written to a temp file in the
// folder and renamed, so a crash leaves the old file or the new one, never
// half of one. Both present: loaded (key must match, and the root must be
// this trust domain's). Neither: generated. Only one: an error, since
// making a new root would silently strand every issued certificate.

#include <string>

#include "control/ca/x509_util.h"

namespace sluice::control::ca {

inline constexpr auto kGeneratedRootLifetime = std::chrono::hours(24 * 3652);  // 10 years

struct RootKeyPair {
  X509Ptr cert;
  PkeyPtr key;
  bool generated = false;  // made now (false: loaded from the folder)
};

// Loads the root kept in `dir`, or makes and keeps one: subject
// O=<trust_domain>, CN=sluice-control root; valid from now - 1 min for 10
// years. False with `error` (what failed, naming the file).
bool loadOrCreateRoot(const std::string& dir, const std::string& trust_domain, SysTime now, RootKeyPair& out,
                      std::string& error);

}  // namespace sluice::control::ca
