#pragma once
// CertificateSource: where a CertificateProvider gets one piece of its
// material (a certificate with its key, or a trust bundle) as PEM text, and
// how it learns that the material changed. Files are one source
// (file_certificate_source.h); an SDS secret will be another.
//
// Main thread only. A source has one reader: changed() is relative to that
// reader's last read(), so two providers using the same material each have
// their own source.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/tls/tls_material.h"

namespace sluice::tls {

// What a source holds, like an SDS Secret: one of the two.
struct SourceMaterial {
  std::optional<CertificatePem> certificate;  // chain + key
  std::optional<Pem> trusted_ca;              // trust bundle
};

class CertificateSource {
 public:
  virtual ~CertificateSource() = default;
  // Names the source in errors about the source itself (it holds the wrong
  // kind of material).
  virtual std::string describe() const = 0;
  // Whether the material may differ from what read() last returned (a
  // file's stamp moved, a new secret version arrived). Cheap: called on
  // every periodic check. True before the first read().
  virtual bool changed() const = 0;
  // The current material. Afterwards changed() stays false until the
  // material changes again, whether or not it turns out usable: a bad file
  // or secret is not retried until it is replaced. What cannot be had
  // comes back as Pem::unavailable, not as a separate failure.
  virtual SourceMaterial read() = 0;
};

using CertificateSourcePtr = std::shared_ptr<CertificateSource>;

// The sources of one listener chain's TLS context.
struct ServerCertificateSources {
  std::vector<CertificateSourcePtr> certificates;  // in SNI order; at least one
  CertificateSourcePtr trusted_ca;                 // null: no client certificates
};

// The sources of one cluster's TLS context.
struct ClientCertificateSources {
  CertificateSourcePtr certificate;  // null: no client certificate
  CertificateSourcePtr trusted_ca;   // null: the system store
};

// Reads every source, so all of them count as seen even when one turns
// out bad. A source holding the wrong kind of material yields a Pem whose
// `unavailable` says so.
ServerTlsMaterial readMaterial(const ServerCertificateSources& sources);
ClientTlsMaterial readMaterial(const ClientCertificateSources& sources);

bool anyChanged(const ServerCertificateSources& sources);
bool anyChanged(const ClientCertificateSources& sources);

}  // namespace sluice::tls
