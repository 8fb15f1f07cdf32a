#include "proxy/tls/certificate_source.h"

namespace sluice::tls {
namespace {

Pem wrongKind(const CertificateSource& source, const char* missing) {
  Pem pem;
  pem.origin = source.describe();
  pem.label = source.describe();
  pem.unavailable = std::string("holds no ") + missing;
  return pem;
}

CertificatePem certificateFrom(CertificateSource& source) {
  SourceMaterial m = source.read();
  if (m.certificate) return std::move(*m.certificate);
  Pem missing = wrongKind(source, "certificate and key");
  return {missing, missing};
}

Pem trustFrom(CertificateSource& source) {
  SourceMaterial m = source.read();
  if (m.trusted_ca) return std::move(*m.trusted_ca);
  return wrongKind(source, "trust bundle");
}

bool changed(const CertificateSourcePtr& source) { return source && source->changed(); }

}  // namespace

ServerTlsMaterial readMaterial(const ServerCertificateSources& sources) {
  ServerTlsMaterial m;
  for (const auto& source : sources.certificates) m.certificates.push_back(certificateFrom(*source));
  if (sources.trusted_ca) m.trusted_ca = trustFrom(*sources.trusted_ca);
  return m;
}

ClientTlsMaterial readMaterial(const ClientCertificateSources& sources) {
  ClientTlsMaterial m;
  if (sources.certificate) m.certificate = certificateFrom(*sources.certificate);
  if (sources.trusted_ca) m.trusted_ca = trustFrom(*sources.trusted_ca);
  return m;
}

bool anyChanged(const ServerCertificateSources& sources) {
  for (const auto& source : sources.certificates)
    if (changed(source)) return true;
  return changed(sources.trusted_ca);
}

bool anyChanged(const ClientCertificateSources& sources) {
  return changed(sources.certificate) || changed(sources.trusted_ca);
}

}  // namespace sluice::tls
