#pragma once
// The certificate agent's key and its certificate signing request. The key
// is a fresh P-256 key made in memory for each request; its PEM goes only
// into the secret the agent provides (the proxy's TLS contexts), never to a
// file or over the wire. The CSR (PKCS#10, signed with the key, SHA-256)
// carries the public key; its subject is a hint only: the CA writes the
// identity (the SPIFFE URI SAN) from the caller's token.

#include <chrono>
#include <string>

namespace sluice::ca {

struct KeyAndCsr {
  std::string private_key_pem;  // PKCS#8
  std::string csr_pem;
  std::string error;  // set on failure, the rest empty
  bool ok() const { return error.empty(); }
};

// `common_name`: the subject's CN (may be empty). Main thread or any.
KeyAndCsr makeKeyAndCsr(const std::string& common_name);

// The public key (DER SubjectPublicKeyInfo) in a PEM private key, a CSR or
// a certificate; empty when none parses. For checks that a certificate is
// for the key the agent holds.
std::string publicKeyOfPrivateKey(const std::string& pem);
std::string publicKeyOfCsr(const std::string& pem);
std::string publicKeyOfCertificate(const std::string& pem);

// What the agent needs of an issued leaf certificate.
struct LeafInfo {
  std::chrono::system_clock::time_point not_before, not_after;
  std::string spiffe_id;       // empty when none
  std::string public_key_der;  // empty when the PEM did not parse
};
LeafInfo leafInfo(const std::string& certificate_pem);

}  // namespace sluice::ca
