#pragma once
// Certificates from files: read whole on every read(), changed when any
// file's (mtime, size, inode) moves. Errors name the config field and the
// path ("certificates[0].cert_chain_path '/etc/tls/a.crt': ...").

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/tls/certificate_source.h"
#include "proxy/tls/tls_context.h"

namespace sluice::tls {

class FileCertificateSource final : public CertificateSource {
 public:
  // `field_prefix` goes before the field names in errors: "certificates[0]."
  // for a listener's certificate, "" for a cluster's.
  static std::shared_ptr<FileCertificateSource> certificate(std::string field_prefix, std::string cert_chain_path,
                                                            std::string private_key_path);
  static std::shared_ptr<FileCertificateSource> trustedCa(std::string ca_bundle_path);

  std::string describe() const override;
  bool changed() const override;
  SourceMaterial read() override;

 private:
  struct Stamp {
    bool exists = false;
    int64_t mtime_ns = 0;
    off_t size = 0;
    ino_t inode = 0;
    bool operator==(const Stamp&) const = default;
  };
  struct File {
    std::string field;  // with its prefix
    std::string path;
  };
  explicit FileCertificateSource(std::vector<File> files) : files_(std::move(files)) {}
  std::vector<Stamp> stampFiles() const;

  const std::vector<File> files_;  // chain and key, or the trust bundle
  std::vector<Stamp> stamps_;      // as of the last read(); empty before it
};

// The file sources a path-based config names.
ServerCertificateSources fileSources(const ServerTlsConfig& config);
ClientCertificateSources fileSources(const ClientTlsConfig& config);

}  // namespace sluice::tls
