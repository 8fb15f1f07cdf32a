// Secret, both ways: a certificate with its key, or a trust bundle, by file
// name or inline (PEM in the resource itself: a mesh CA's trust bundle, a
// control plane that issues the certificates it serves).

#include "xds/cluster_translate.h"

namespace sluice::xds {
namespace {

namespace core = envoy::config::core::v3;

// How one data source gives its material: a file's name or the PEM itself.
enum class Form { Unset, File, Inline };

FieldError dataFromEnvoy(const core::DataSource& d, const std::string& path, std::string& out, Form& form) {
  Form got = Form::Unset;
  switch (d.specifier_case()) {
    case core::DataSource::kFilename:
      if (d.filename().empty()) return {fieldPath(path, "filename"), "must not be empty"};
      out = d.filename();
      got = Form::File;
      break;
    case core::DataSource::kInlineBytes:
      if (d.inline_bytes().empty()) return {fieldPath(path, "inline_bytes"), "must not be empty"};
      out = d.inline_bytes();
      got = Form::Inline;
      break;
    case core::DataSource::kInlineString:
      if (d.inline_string().empty()) return {fieldPath(path, "inline_string"), "must not be empty"};
      out = d.inline_string();
      got = Form::Inline;
      break;
    case core::DataSource::kEnvironmentVariable:
      return {fieldPath(path, "environment_variable"), "not supported: give a filename or inline PEM"};
    default: return {path, "missing (give a filename, inline_bytes or inline_string)"};
  }
  // The model holds one form per secret: a chain from a file with its key
  // inline would have no one place to watch for changes.
  if (form != Form::Unset && form != got)
    return {path, "mixes a filename with inline data in one secret: give both parts the same way"};
  form = got;
  return {};
}

void setData(core::DataSource& d, const std::string& value, bool inline_pem) {
  if (inline_pem) d.set_inline_bytes(value);
  else d.set_filename(value);
}

}  // namespace

void secretToEnvoy(const config::SecretSpec& s, envoy_tls::Secret& out) {
  out.Clear();
  out.set_name(s.name);
  switch (s.kind) {
    case config::SecretSpec::Kind::TlsCertificate:
      setData(*out.mutable_tls_certificate()->mutable_certificate_chain(), s.cert_chain, s.inline_pem);
      setData(*out.mutable_tls_certificate()->mutable_private_key(), s.private_key, s.inline_pem);
      break;
    case config::SecretSpec::Kind::ValidationContext:
      setData(*out.mutable_validation_context()->mutable_trusted_ca(), s.trusted_ca, s.inline_pem);
      break;
  }
}

FieldError secretFromEnvoy(const envoy_tls::Secret& in, config::SecretSpec& out) {
  out = config::SecretSpec{};
  if (in.name().empty()) return {"name", "missing"};
  out.name = in.name();
  Form form = Form::Unset;
  FieldError error;
  switch (in.type_case()) {
    case envoy_tls::Secret::kTlsCertificate: {
      const auto& c = in.tls_certificate();
      out.kind = config::SecretSpec::Kind::TlsCertificate;
      if (c.has_pkcs12()) return {"tls_certificate.pkcs12", "PKCS#12 is not supported: give PEM"};
      if (c.has_private_key_provider())
        return {"tls_certificate.private_key_provider", "private key providers are not supported"};
      if (c.has_password()) return {"tls_certificate.password", "encrypted private keys are not supported"};
      if (c.has_ocsp_staple()) return {"tls_certificate.ocsp_staple", "OCSP stapling is not supported"};
      if (c.signed_certificate_timestamp_size() > 0)
        return {"tls_certificate.signed_certificate_timestamp", "not supported"};
      // watched_directory only says when to re-read: Sluice watches the files themselves.
      if (!c.has_certificate_chain()) return {"tls_certificate.certificate_chain", "missing"};
      if (!c.has_private_key()) return {"tls_certificate.private_key", "missing"};
      error = dataFromEnvoy(c.certificate_chain(), "tls_certificate.certificate_chain", out.cert_chain, form);
      if (error.empty())
        error = dataFromEnvoy(c.private_key(), "tls_certificate.private_key", out.private_key, form);
      break;
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
      error = dataFromEnvoy(v.trusted_ca(), "validation_context.trusted_ca", out.trusted_ca, form);
      break;
    }
    case envoy_tls::Secret::kSessionTicketKeys:
      return {"session_ticket_keys", "session ticket key secrets are not supported (Sluice rotates its own keys)"};
    case envoy_tls::Secret::kGenericSecret: return {"generic_secret", "generic secrets are not supported"};
    default: return {"", "the secret holds nothing (expected tls_certificate or validation_context)"};
  }
  out.inline_pem = form == Form::Inline;
  return error;
}

}  // namespace sluice::xds
