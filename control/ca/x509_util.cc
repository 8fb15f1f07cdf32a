#include "control/ca/x509_util.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <cstdio>

namespace sluice::control::ca {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr memIn(std::string_view text) { return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

std::string drain(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

// Refuses to prompt for a passphrase (the default callback would read the terminal).
int noPassphrase(char*, int, int, void*) { return 0; }

SysTime fromAsn1(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return SysTime{};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

std::string opensslError(std::string_view fallback) {
  unsigned long last = 0;
  for (unsigned long e; (e = ERR_get_error()) != 0;) last = e;
  if (last == 0) return std::string(fallback);
  const char* reason = ERR_reason_error_string(last);
  return reason != nullptr ? reason : std::string(fallback);
}

bool readWholeFile(const std::string& path, std::string& out, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  int err = f == nullptr ? errno : 0;
  out.clear();
  if (f != nullptr) {
    char buf[8192];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
    if (std::ferror(f)) err = errno != 0 ? errno : EIO;  // EISDIR: fopen succeeds on a directory
    std::fclose(f);
  }
  if (err == 0) return true;
  error = std::string("cannot read: ") + std::strerror(err);
  return false;
}

std::vector<X509Ptr> certsFromPem(std::string_view pem) {
  std::vector<X509Ptr> out;
  BioPtr bio = memIn(pem);
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, noPassphrase, nullptr)) out.emplace_back(c);
  ERR_clear_error();  // the end of the input reads as an error
  return out;
}

PkeyPtr keyFromPem(std::string_view pem) {
  BioPtr bio = memIn(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr));
  return key;
}

ReqPtr requestFromPem(std::string_view pem) {
  BioPtr bio = memIn(pem);
  return ReqPtr(PEM_read_bio_X509_REQ(bio.get(), nullptr, noPassphrase, nullptr));
}

std::string certToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  return drain(bio.get());
}

std::string keyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  return drain(bio.get());
}

SysTime notBefore(const X509* cert) { return fromAsn1(X509_get0_notBefore(cert)); }
SysTime notAfter(const X509* cert) { return fromAsn1(X509_get0_notAfter(cert)); }

void setValidity(X509* cert, SysTime from, SysTime to) {
  ASN1_TIME_set(X509_getm_notBefore(cert), std::chrono::system_clock::to_time_t(from));
  ASN1_TIME_set(X509_getm_notAfter(cert), std::chrono::system_clock::to_time_t(to));
}

bool setRandomSerial(X509* cert, std::string& hex) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return false;
  bytes[0] |= 0x01;  // never zero (RFC 5280 wants a positive serial)
  BIGNUM* bn = BN_bin2bn(bytes, sizeof(bytes), nullptr);
  if (bn == nullptr) return false;
  ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
  char* text = BN_bn2hex(bn);
  BN_free(bn);
  const bool ok = serial != nullptr && text != nullptr && X509_set_serialNumber(cert, serial) == 1;
  if (text != nullptr) hex = text;
  OPENSSL_free(text);
  ASN1_INTEGER_free(serial);
  return ok;
}

bool addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool signCert(X509* cert, EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  const EVP_MD* md = id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? nullptr : EVP_sha256();
  return X509_sign(cert, key, md) > 0;
}

std::string subjectOrganization(const X509* cert) {
  const X509_NAME* name = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(name, NID_organizationName, -1);
  if (at < 0) return {};
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<size_t>(ASN1_STRING_length(value)));
}

}  // namespace sluice::control::ca
