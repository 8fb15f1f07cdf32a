// Secret, both ways: a certificate with its key, or a trust bundle, by
// file name.

#include "xds/cluster_translate.h"

namespace sluice::xds {
namespace {

namespace core = envoy::config::core::v3;

FieldError fileFromEnvoy(const core::DataSource& d, const std::string& path, std::string& out) {
  switch (d.specifier_case()) {
    case core::DataSource::kFilename:
      if (d.filename().empty()) return {fieldPath(path, "filename"), "must not be empty"};
      out = d.filename();
      return {};
    case core::DataSource::kInlineBytes:
    case core::DataSource::kInlineString:
      return {path, "only filename data sources are supported (no inline certificates or keys yet)"};
    case core::DataSource::kEnvironmentVariable:
      return {fieldPath(path, "environment_variable"), "only filename data sources are supported"};
    default: return {path, "missing (give a filename)"};
  }
}

}  // namespace

void secretToEnvoy(const config::SecretSpec& s, envoy_tls::Secret& out) {
  out.Clear();
  out.set_name(s.name);
  switch (s.kind) {
    case config::SecretSpec::Kind::TlsCertificate:
      out.mutable_tls_certificate()->mutable_certificate_chain()->set_filename(s.cert_chain);
      out.mutable_tls_certificate()->mutable_private_key()->set_filename(s.private_key);
      break;
    case config::SecretSpec::Kind::ValidationContext:
      out.mutable_validation_context()->mutable_trusted_ca()->set_filename(s.trusted_ca);
      break;
  }
}

FieldError secretFromEnvoy(const envoy_tls::Secret& in, config::SecretSpec& out) {
  out = config::SecretSpec{};
  if (in.name().empty()) return {"name", "missing"};
  out.name = in.name();
  switch (in.type_case()) {
    case envoy_tls::Secret::kTlsCertificate: {
      const auto& c = in.tls_certificate();
      out.kind = config::SecretSpec::Kind::TlsCertificate;
      if (c.has_pkcs12()) return {"tls_certificate.pkcs12", "PKCS#12 is not supported: give PEM files"};
      if (c.has_private_key_provider())
        return {"tls_certificate.private_key_provider", "private key providers are not supported"};
      if (c.has_password()) return {"tls_certificate.password", "encrypted private keys are not supported"};
      if (c.has_ocsp_staple()) return {"tls_certificate.ocsp_staple", "OCSP stapling is not supported"};
      if (c.signed_certificate_timestamp_size() > 0)
        return {"tls_certificate.signed_certificate_timestamp", "not supported"};
      // watched_directory only says when to re-read: Sluice watches the files themselves.
      if (!c.has_certificate_chain()) return {"tls_certificate.certificate_chain", "missing"};
      if (!c.has_private_key()) return {"tls_certificate.private_key", "missing"};
      if (auto e = fileFromEnvoy(c.certificate_chain(), "tls_certificate.certificate_chain", out.cert_chain);
          !e.empty())
        return e;
      return fileFromEnvoy(c.private_key(), "tls_certificate.private_key", out.private_key);
    }
    case envoy_tls::Secret::kValidationContext: {
      const auto& v = in.validation_context();
      out.kind = config::SecretSpec::Kind::ValidationContext;
      // A trust bundle only: checks inside a secret would apply to every
      // TLS block naming it, which the model keeps on the block.
      envoy_tls::CertificateValidationContext rest = v;
      rest.clear_trusted_ca();
      rest.clear_watched_directory();
      if (rest.ByteSizeLong() != 0)
        return {"validation_context",
                "a validation context secret holds trusted_ca only (put SAN checks in the TLS context)"};
      if (!v.has_trusted_ca()) return {"validation_context.trusted_ca", "missing"};
      return fileFromEnvoy(v.trusted_ca(), "validation_context.trusted_ca", out.trusted_ca);
    }
    case envoy_tls::Secret::kSessionTicketKeys:
      return {"session_ticket_keys", "session ticket key secrets are not supported (Sluice rotates its own keys)"};
    case envoy_tls::Secret::kGenericSecret: return {"generic_secret", "generic secrets are not supported"};
    default: return {"", "the secret holds nothing (expected tls_certificate or validation_context)"};
  }
}

}  // namespace sluice::xds
