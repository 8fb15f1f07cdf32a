#pragma once
// The injection webhook's serving certificate: issued by the mesh CA for
// injection.webhook.dns_names (a fresh P-256 key each time, kept in memory
// only) and renewed at half its life, or the operator's cert_file and
// key_file, read again every kFileRecheck (cert-manager rewrites them in
// place) and at once on SIGHUP (webhook_server.h refreshNow()).

#include <chrono>
#include <string>

#include "control/ca/authority.h"
#include "control/kubernetes/injection_config.h"

namespace sluice::control::kubernetes {

struct ServingCertificate {
  std::string chain_pem;  // leaf first
  std::string key_pem;
  ca::SysTime not_after;
  ca::SysTime refresh_at;  // when to call again: half life, or the next look at the files
};

// From the CA. False with `error` when it cannot issue.
bool issueServingCertificate(const ca::Authority& authority, const WebhookServing& w, ca::SysTime now,
                             ServingCertificate& out, std::string& error);

// How often the files are looked at for a rotation made beside us.
inline constexpr std::chrono::seconds kFileRecheck{30};

// From cert_file and key_file: both readable, PEM, and the key the
// certificate's; refresh_at is `recheck` from now (tests shorten it). False
// with `error` naming the file.
bool loadServingCertificate(const WebhookServing& w, ca::SysTime now, ServingCertificate& out, std::string& error,
                            std::chrono::seconds recheck = kFileRecheck);

}  // namespace sluice::control::kubernetes
