#pragma once
// Small owners and helpers over OpenSSL 3's X.509 and key objects, shared by
// the CA's files: PEM in and out, a certificate's times, v3 extensions.
// Functions return null/false on failure and leave OpenSSL's error queue
// empty; `opensslError()` takes the last reason for a message first.

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::control::ca {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ReqFree {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using ReqPtr = std::unique_ptr<X509_REQ, ReqFree>;

using SysTime = std::chrono::system_clock::time_point;

// The most recent OpenSSL error reason ("bad decrypt"), or `fallback`; the
// queue is cleared either way.
std::string opensslError(std::string_view fallback = "unknown error");

// A whole file; false with `error` ("cannot read: No such file or directory").
bool readWholeFile(const std::string& path, std::string& out, std::string& error);

// Every certificate in PEM text, in order (none: empty).
std::vector<X509Ptr> certsFromPem(std::string_view pem);
// An unencrypted private key (an encrypted one fails: nobody types a passphrase here).
PkeyPtr keyFromPem(std::string_view pem);
ReqPtr requestFromPem(std::string_view pem);
std::string certToPem(X509* cert);
std::string keyToPem(EVP_PKEY* key);  // PKCS#8, unencrypted

SysTime notBefore(const X509* cert);
SysTime notAfter(const X509* cert);
void setValidity(X509* cert, SysTime from, SysTime to);

// A random positive 128-bit serial number; its hex ("3FA0...") in `hex`.
bool setRandomSerial(X509* cert, std::string& hex);

// Adds the extension `nid` written in OpenSSL's config syntax
// ("critical,CA:TRUE"), with `issuer` and `subject` for key identifiers.
bool addExtension(X509* cert, X509* issuer, int nid, const std::string& value);

// Signs with SHA-256 (or the key's own digest for EdDSA keys).
bool signCert(X509* cert, EVP_PKEY* key);

// The subject's organization (O=), or empty.
std::string subjectOrganization(const X509* cert);

}  // namespace sluice::control::ca
