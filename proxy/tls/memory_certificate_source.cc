#include "proxy/tls/memory_certificate_source.h"

namespace sluice::tls {

MemoryCertificateSource::MemoryCertificateSource(std::string name, const std::string& kind)
    : origin_(kind + " '" + std::move(name) + "'") {}

Pem MemoryCertificateSource::pem(std::string text, const char* part) const {
  Pem p;
  p.text = std::move(text);
  p.origin = origin_;
  p.label = origin_ + " " + part;
  return p;
}

void MemoryCertificateSource::setCertificate(std::string cert_chain_pem, std::string private_key_pem) {
  material_ = {};
  material_.certificate = CertificatePem{pem(std::move(cert_chain_pem), "cert_chain"),
                                         pem(std::move(private_key_pem), "private_key")};
  ++version_;
}

void MemoryCertificateSource::setTrustedCa(std::string ca_pem) {
  material_ = {};
  material_.trusted_ca = pem(std::move(ca_pem), "trusted_ca");
  ++version_;
}

SourceMaterial MemoryCertificateSource::read() {
  read_version_ = version_;
  return material_;
}

}  // namespace sluice::tls
