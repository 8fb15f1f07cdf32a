#include "proxy/ca/key_and_csr.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include "proxy/tls/peer_identity.h"

namespace sluice::ca {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

std::string opensslError(const char* what) {
  const unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return std::string(what) + ": " + (e ? buf : "unknown error");
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

Owned<BIO> readBio(const std::string& pem) {
  return Owned<BIO>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string derOf(EVP_PKEY* key) {
  if (key == nullptr) return {};
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::chrono::system_clock::time_point timeOf(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

KeyAndCsr makeKeyAndCsr(const std::string& common_name) {
  KeyAndCsr out;
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return {{}, {}, opensslError("making a P-256 key")};
  Owned<X509_REQ> req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1 || X509_REQ_set_pubkey(req.get(), key.get()) != 1)
    return {{}, {}, opensslError("making a CSR")};
  if (!common_name.empty()) {
    X509_NAME* name = X509_REQ_get_subject_name(req.get());
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.data()),
                                   static_cast<int>(common_name.size()), -1, 0) != 1)
      return {{}, {}, opensslError("setting the CSR's subject")};
  }
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) return {{}, {}, opensslError("signing the CSR")};
  Owned<BIO> key_bio(BIO_new(BIO_s_mem()));
  Owned<BIO> csr_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509_REQ(csr_bio.get(), req.get()) != 1)
    return {{}, {}, opensslError("writing PEM")};
  out.private_key_pem = bioText(key_bio.get());
  out.csr_pem = bioText(csr_bio.get());
  return out;
}

std::string publicKeyOfPrivateKey(const std::string& pem) {
  auto bio = readBio(pem);
  Owned<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return derOf(key.get());
}

std::string publicKeyOfCsr(const std::string& pem) {
  auto bio = readBio(pem);
  Owned<X509_REQ> req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return req ? derOf(X509_REQ_get0_pubkey(req.get())) : std::string();
}

std::string publicKeyOfCertificate(const std::string& pem) {
  auto bio = readBio(pem);
  Owned<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return cert ? derOf(X509_get0_pubkey(cert.get())) : std::string();
}

LeafInfo leafInfo(const std::string& certificate_pem) {
  LeafInfo info;
  auto bio = readBio(certificate_pem);
  Owned<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!cert) return info;
  info.not_before = timeOf(X509_get0_notBefore(cert.get()));
  info.not_after = timeOf(X509_get0_notAfter(cert.get()));
  if (auto id = tls::spiffeIdOf(cert.get())) info.spiffe_id = *id;
  info.public_key_der = derOf(X509_get0_pubkey(cert.get()));
  return info;
}

}  // namespace sluice::ca
