#include "control/ca/authority.h"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include <algorithm>

#include "control/ca/generated_root.h"

namespace sluice::control::ca {

struct Authority::Keys {
  X509Ptr root;
  X509Ptr intermediate;  // null: the root signs
  PkeyPtr issuer_key;
  std::string root_pem, intermediate_pem;
  SysTime chain_end;  // the earliest notAfter of the issuer's chain
  bool generated = false;
  X509* issuer() const { return intermediate ? intermediate.get() : root.get(); }
};

namespace {

using config::ParseContext;

struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};

bool readPem(const FileRef& file, const std::string& path, std::string& pem, ParseContext& errors) {
  std::string error;
  if (readWholeFile(file.path, pem, error)) return true;
  errors.error(file.loc, path, file.path + ": " + error);
  return false;
}

X509Ptr loadOneCert(const FileRef& file, const std::string& path, ParseContext& errors) {
  std::string pem;
  if (!readPem(file, path, pem, errors)) return nullptr;
  auto certs = certsFromPem(pem);
  if (certs.size() != 1) {
    errors.error(file.loc, path, file.path + ": expected one PEM certificate, found " + std::to_string(certs.size()));
    return nullptr;
  }
  if (X509_check_ca(certs[0].get()) < 1) {
    errors.error(file.loc, path, file.path + ": not a CA certificate (basicConstraints CA:TRUE)");
    return nullptr;
  }
  return std::move(certs[0]);
}

PkeyPtr loadKeyFor(X509* cert, const FileRef& file, const std::string& path, ParseContext& errors) {
  std::string pem;
  if (!readPem(file, path, pem, errors)) return nullptr;
  PkeyPtr key = keyFromPem(pem);
  if (!key) {
    errors.error(file.loc, path, file.path + ": not an unencrypted PEM private key (" + opensslError() + ")");
    return nullptr;
  }
  if (X509_check_private_key(cert, key.get()) != 1) {
    ERR_clear_error();
    errors.error(file.loc, path, file.path + ": not the key of the certificate beside it");
    return nullptr;
  }
  return key;
}

bool chainsTo(X509* cert, X509* root, SysTime now, std::string& why) {
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), root) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr) != 1) {
    why = opensslError();
    return false;
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(now));
  if (X509_verify_cert(ctx.get()) == 1) return true;
  why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  ERR_clear_error();
  return false;
}

// The key types a workload may have, and why not otherwise.
std::string checkLeafKey(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1) return "EC key without a named curve";
      const std::string_view g(group, len);
      if (g == "prime256v1" || g == "P-256" || g == "secp384r1" || g == "P-384") return {};
      return "EC curve " + std::string(g) + " is not accepted (P-256 or P-384)";
    }
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(key);
      if (bits >= 2048 && bits <= 8192) return {};
      return "RSA key of " + std::to_string(bits) + " bits is not accepted (2048 to 8192)";
    }
    default:
      return "key type is not accepted (EC P-256, P-384 or RSA)";
  }
}

}  // namespace

std::shared_ptr<const Authority> Authority::build(const CaSpec& spec, SysTime now, ParseContext& errors) {
  auto keys = std::make_shared<Keys>();
  const size_t errors_before = errors.errors().size();
  if (!spec.root) {
    RootKeyPair root;
    std::string error;
    if (!loadOrCreateRoot(spec.dir.path, spec.trust_domain, now, root, error)) {
      errors.error(spec.dir.loc, "ca.dir", error);
      return nullptr;
    }
    keys->root = std::move(root.cert);
    keys->issuer_key = std::move(root.key);
    keys->generated = root.generated;
  } else {
    keys->root = loadOneCert(spec.root->cert, "ca.root.cert", errors);
    if (keys->root && !spec.root->key.path.empty())
      keys->issuer_key = loadKeyFor(keys->root.get(), spec.root->key, "ca.root.key", errors);
  }
  if (spec.intermediate && keys->root) {
    keys->intermediate = loadOneCert(spec.intermediate->cert, "ca.intermediate.cert", errors);
    std::string why;
    if (keys->intermediate && !chainsTo(keys->intermediate.get(), keys->root.get(), now, why)) {
      errors.error(spec.intermediate->cert.loc, "ca.intermediate.cert",
                   spec.intermediate->cert.path + ": does not verify against the root: " + why);
      keys->intermediate.reset();
    }
    if (keys->intermediate)
      keys->issuer_key = loadKeyFor(keys->intermediate.get(), spec.intermediate->key, "ca.intermediate.key", errors);
  }
  if (errors.errors().size() != errors_before || !keys->root || !keys->issuer_key) return nullptr;

  keys->root_pem = certToPem(keys->root.get());
  keys->chain_end = notAfter(keys->root.get());
  if (keys->intermediate) {
    keys->intermediate_pem = certToPem(keys->intermediate.get());
    keys->chain_end = std::min(keys->chain_end, notAfter(keys->intermediate.get()));
  }
  if (keys->chain_end <= now) {
    errors.error(spec.intermediate ? spec.intermediate->cert.loc
                 : spec.root       ? spec.root->cert.loc
                                   : spec.dir.loc,
                 spec.intermediate ? "ca.intermediate.cert"
                 : spec.root       ? "ca.root.cert"
                                   : "ca.dir",
                 "the CA's certificate has expired");
    return nullptr;
  }
  std::shared_ptr<Authority> a(new Authority());
  a->keys_ = std::move(keys);
  a->trust_domain_ = spec.trust_domain;
  if (!a->loadPolicy(spec, errors)) return nullptr;
  return a;
}

std::shared_ptr<const Authority> Authority::withPolicy(const CaSpec& spec, ParseContext& errors) const {
  std::shared_ptr<Authority> a(new Authority());
  a->keys_ = keys_;
  a->trust_domain_ = trust_domain_;
  if (!a->loadPolicy(spec, errors)) return nullptr;
  return a;
}

bool Authority::loadPolicy(const CaSpec& spec, ParseContext& errors) {
  default_ttl_ = spec.default_ttl;
  max_ttl_ = spec.max_ttl;
  bundle_ = {keys_->root_pem};
  bool ok = true;
  for (size_t i = 0; i < spec.extra_roots.size(); ++i) {
    const FileRef& file = spec.extra_roots[i];
    const std::string path = "ca.extra_roots[" + std::to_string(i) + "]";
    std::string pem;
    if (!readPem(file, path, pem, errors)) {
      ok = false;
      continue;
    }
    auto certs = certsFromPem(pem);
    if (certs.empty()) {
      errors.error(file.loc, path, file.path + ": no PEM certificate in it");
      ok = false;
    }
    for (auto& c : certs) {
      if (X509_check_ca(c.get()) < 1) {
        errors.error(file.loc, path, file.path + ": holds a certificate that is not a CA");
        ok = false;
      }
      bundle_.push_back(certToPem(c.get()));
    }
  }
  return ok;
}

SysTime Authority::rootNotAfter() const { return notAfter(keys_->root.get()); }

bool Authority::generatedRoot() const { return keys_->generated; }

IssueResult Authority::issue(std::string_view csr_pem, const WorkloadIdentity& id, std::chrono::seconds requested_ttl,
                             SysTime now) const {
  IssueResult out;
  const auto fail = [&out](IssueResult::Failure f, std::string reason) {
    ERR_clear_error();
    out.failure = f;
    out.reason = std::move(reason);
    return std::move(out);
  };
  using F = IssueResult::Failure;
  if (std::string why = checkNamespace(id.ns); !why.empty()) return fail(F::BadRequest, "namespace " + why);
  if (std::string why = checkServiceAccount(id.sa); !why.empty()) return fail(F::BadRequest, "service account " + why);
  if (requested_ttl.count() < 0) return fail(F::BadRequest, "validity_seconds must not be negative");
  if (csr_pem.size() > kMaxCsrBytes)
    return fail(F::BadRequest, "CSR is larger than " + std::to_string(kMaxCsrBytes) + " bytes");
  ReqPtr req = requestFromPem(csr_pem);
  if (!req) return fail(F::BadRequest, "not a PEM certificate request");
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
  if (pub == nullptr) return fail(F::BadRequest, "CSR has no usable public key");
  if (X509_REQ_verify(req.get(), pub) != 1)
    return fail(F::BadRequest, "CSR signature does not verify (it must be signed by the key it names)");
  if (std::string why = checkLeafKey(pub); !why.empty()) return fail(F::BadRequest, why);

  config::Duration ttl = requested_ttl.count() == 0 ? default_ttl_ : config::Duration(requested_ttl);
  ttl = std::clamp(ttl, kMinTtl, max_ttl_);
  const SysTime not_before = now - std::chrono::minutes(1);
  // Whole seconds: the certificate cannot say more, and the caller sees what it holds.
  const SysTime not_after = std::chrono::floor<std::chrono::seconds>(std::min<SysTime>(now + ttl, keys_->chain_end));
  if (not_after <= now) return fail(F::Internal, "the CA's certificate has expired");

  IssuedCertificate cert;
  cert.spiffe_id = id.spiffeId(trust_domain_);
  X509* issuer = keys_->issuer();
  X509Ptr leaf(X509_new());
  if (!leaf || X509_set_version(leaf.get(), X509_VERSION_3) != 1 || !setRandomSerial(leaf.get(), cert.serial) ||
      X509_set_issuer_name(leaf.get(), X509_get_subject_name(issuer)) != 1 || X509_set_pubkey(leaf.get(), pub) != 1)
    return fail(F::Internal, "cannot make a certificate: " + opensslError());
  setValidity(leaf.get(), not_before, not_after);
  // The identity is checked (namespace and service account are DNS names,
  // the trust domain a SPIFFE one), so it cannot add a name of its own to
  // the extension's text.
  const bool ok = addExtension(leaf.get(), issuer, NID_basic_constraints, "critical,CA:FALSE") &&
                  addExtension(leaf.get(), issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
                  addExtension(leaf.get(), issuer, NID_ext_key_usage, "serverAuth,clientAuth") &&
                  addExtension(leaf.get(), issuer, NID_subject_key_identifier, "hash") &&
                  addExtension(leaf.get(), issuer, NID_authority_key_identifier, "keyid,issuer") &&
                  addExtension(leaf.get(), issuer, NID_subject_alt_name, "critical,URI:" + cert.spiffe_id) &&
                  signCert(leaf.get(), keys_->issuer_key.get());
  if (!ok) return fail(F::Internal, "cannot sign a certificate: " + opensslError());
  cert.chain.push_back(certToPem(leaf.get()));
  if (keys_->intermediate) cert.chain.push_back(keys_->intermediate_pem);
  cert.trust_bundle = bundle_;
  cert.not_before = notBefore(leaf.get());
  cert.not_after = notAfter(leaf.get());
  out.cert = std::move(cert);
  return out;
}

IssueResult Authority::issueServer(EVP_PKEY* public_key, const std::vector<std::string>& dns_names,
                                   config::Duration ttl, SysTime now,
                                   const std::vector<std::string>& ip_addresses) const {
  IssueResult out;
  using F = IssueResult::Failure;
  const auto fail = [&out](IssueResult::Failure f, std::string reason) {
    ERR_clear_error();
    out.failure = f;
    out.reason = std::move(reason);
    return std::move(out);
  };
  if (dns_names.empty() && ip_addresses.empty()) return fail(F::BadRequest, "no DNS name or IP address");
  // The names come from control.yaml, checked there as DNS names and IP
  // addresses: nothing in them can add a name of its own to the extension's text.
  std::string san;
  for (const auto& name : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + name;
  for (const auto& ip : ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  const std::string& common_name = dns_names.empty() ? ip_addresses.front() : dns_names.front();
  const SysTime not_before = now - std::chrono::minutes(1);
  const SysTime not_after = std::chrono::floor<std::chrono::seconds>(std::min<SysTime>(now + ttl, keys_->chain_end));
  if (not_after <= now) return fail(F::Internal, "the CA's certificate has expired");
  IssuedCertificate cert;
  X509* issuer = keys_->issuer();
  X509Ptr leaf(X509_new());
  if (!leaf || X509_set_version(leaf.get(), X509_VERSION_3) != 1 || !setRandomSerial(leaf.get(), cert.serial) ||
      X509_set_issuer_name(leaf.get(), X509_get_subject_name(issuer)) != 1 ||
      X509_set_pubkey(leaf.get(), public_key) != 1 ||
      X509_NAME_add_entry_by_txt(X509_get_subject_name(leaf.get()), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) != 1)
    return fail(F::Internal, "cannot make a certificate: " + opensslError());
  setValidity(leaf.get(), not_before, not_after);
  const bool ok = addExtension(leaf.get(), issuer, NID_basic_constraints, "critical,CA:FALSE") &&
                  addExtension(leaf.get(), issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
                  addExtension(leaf.get(), issuer, NID_ext_key_usage, "serverAuth") &&
                  addExtension(leaf.get(), issuer, NID_subject_key_identifier, "hash") &&
                  addExtension(leaf.get(), issuer, NID_authority_key_identifier, "keyid,issuer") &&
                  addExtension(leaf.get(), issuer, NID_subject_alt_name, san) &&
                  signCert(leaf.get(), keys_->issuer_key.get());
  if (!ok) return fail(F::Internal, "cannot sign a certificate: " + opensslError());
  cert.chain.push_back(certToPem(leaf.get()));
  if (keys_->intermediate) cert.chain.push_back(keys_->intermediate_pem);
  cert.trust_bundle = bundle_;
  cert.not_before = notBefore(leaf.get());
  cert.not_after = notAfter(leaf.get());
  out.cert = std::move(cert);
  return out;
}

}  // namespace sluice::control::ca
