#pragma once
// Certificates held in memory and replaced by whoever owns the source. Tests
// use it to drive providers without files; it is also the shape of an SDS
// secret source: bytes pushed on the main thread, a version per push.

#include <cstdint>
#include <optional>
#include <string>

#include "proxy/tls/certificate_source.h"

namespace sluice::tls {

class MemoryCertificateSource final : public CertificateSource {
 public:
  // `name` labels the material in errors and listings, after `kind`:
  // "memory 'web-cert'", "inline secret 'default'".
  explicit MemoryCertificateSource(std::string name, const std::string& kind = "memory");

  // Main thread. Each call is a new version, even with the same bytes, and
  // replaces whatever the source held (a certificate or a trust bundle).
  void setCertificate(std::string cert_chain_pem, std::string private_key_pem);
  void setTrustedCa(std::string ca_pem);
  uint64_t version() const { return version_; }

  std::string describe() const override { return origin_; }
  bool changed() const override { return read_version_ != version_; }
  SourceMaterial read() override;

 private:
  Pem pem(std::string text, const char* part) const;

  const std::string origin_;
  SourceMaterial material_;
  uint64_t version_ = 0;
  std::optional<uint64_t> read_version_;  // none before the first read()
};

}  // namespace sluice::tls
