#pragma once
// The mesh CA's signing half: a root (generated and kept in `ca.dir`, or
// the operator's), optionally an operator intermediate that does the
// signing, and issue(): a CSR in, a workload certificate out.
//
// The CA writes the certificate itself and takes only the public key from
// the CSR (after checking the CSR's own signature, which proves the caller
// holds the private key). Nothing else the CSR asks for (subject, SANs,
// extensions) reaches the certificate:
//   subject      empty
//   SAN          URI spiffe://<trust-domain>/ns/<ns>/sa/<sa> (critical: the subject is empty)
//   keyUsage     digitalSignature, keyEncipherment (critical)
//   extKeyUsage  serverAuth, clientAuth
//   basicConstraints CA:FALSE (critical); subject and authority key identifiers
//   serial       random, 128 bits, positive
//   validity     now - 1 min (clock skew) until now + ttl, where ttl is the
//                request's (0: default_ttl) clamped to [1m, max_ttl], and
//                never past the end of any certificate in its chain
// Accepted keys: EC P-256 or P-384, RSA of 2048 to 8192 bits.
//
// Immutable once built; issue() may run on any thread at once. A reload
// that changes only extra_roots or the TTLs makes a new Authority sharing
// the same keys (withPolicy()).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml_reader.h"
#include "control/ca/ca_config.h"
#include "control/ca/workload_identity.h"
#include "control/ca/x509_util.h"

namespace sluice::control::ca {

struct IssuedCertificate {
  std::vector<std::string> chain;         // PEM: the leaf, then the intermediate if any
  std::vector<std::string> trust_bundle;  // PEM: the root, then extra_roots
  std::string spiffe_id;
  std::string serial;  // hex
  SysTime not_before, not_after;
};

struct IssueResult {
  enum class Failure { None, BadRequest, Internal };
  std::optional<IssuedCertificate> cert;
  Failure failure = Failure::None;
  std::string reason;  // when failed: for the caller (BadRequest) or the log (Internal)
};

// CSRs larger than this are refused before parsing.
inline constexpr size_t kMaxCsrBytes = 64 * 1024;

class Authority {
 public:
  // Loads (or, without `root:`, generates and keeps) the keys and the extra
  // roots. Null when anything is wrong, every error recorded in `errors`
  // at the config position of the file it concerns ("ca.root.key: ...").
  static std::shared_ptr<const Authority> build(const CaSpec& spec, SysTime now, config::ParseContext& errors);

  // The same keys under `spec`'s extra_roots and TTLs (the rest of `spec`
  // must be what this was built with: CaSpec::restartNeededFor). Null on
  // errors (an unreadable extra root), as build().
  std::shared_ptr<const Authority> withPolicy(const CaSpec& spec, config::ParseContext& errors) const;

  // `requested_ttl` 0 takes default_ttl; negative is a bad request.
  IssueResult issue(std::string_view csr_pem, const WorkloadIdentity& id, std::chrono::seconds requested_ttl,
                    SysTime now) const;

  // A TLS server certificate for sluice-control's own endpoints (the
  // injection webhook, the CA's gRPC port): `public_key` for `dns_names`
  // and `ip_addresses` (subjectAltName DNS and IP; the first name also as
  // CN), serverAuth only, `ttl` long (not clamped by max_ttl: this is not a
  // workload's), never past the chain's end. Its chain is the leaf, then the
  // intermediate if any; clients trust the root.
  IssueResult issueServer(EVP_PKEY* public_key, const std::vector<std::string>& dns_names, config::Duration ttl,
                          SysTime now, const std::vector<std::string>& ip_addresses = {}) const;

  const std::string& trustDomain() const { return trust_domain_; }
  const std::vector<std::string>& trustBundle() const { return bundle_; }
  SysTime rootNotAfter() const;
  // True when this start made the root (it was not in `ca.dir` yet).
  bool generatedRoot() const;

  struct Keys;  // the root, the issuer and its key: shared by withPolicy() copies

 private:
  Authority() = default;
  bool loadPolicy(const CaSpec& spec, config::ParseContext& errors);

  std::shared_ptr<const Keys> keys_;
  std::string trust_domain_;
  config::Duration default_ttl_{}, max_ttl_{};
  std::vector<std::string> bundle_;
};

}  // namespace sluice::control::ca
