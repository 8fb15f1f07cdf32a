// Downstream and upstream TLS contexts, both ways: secrets by SDS name, SAN
// and SPIFFE checks as typed SAN matchers, ALPN, session tickets. Upstream,
// certificate provider instances (what proxyless gRPC clients take) go out
// and are refused coming in: Sluice has no provider plugins.

#include <arpa/inet.h>

#include "identity/spiffe_id.h"
#include "xds/cluster_translate.h"

namespace sluice::xds {
namespace {

namespace core = envoy::config::core::v3;
namespace matcher = envoy::type::matcher::v3;
using google::protobuf::RepeatedPtrField;

constexpr std::string_view kSpiffeScheme = "spiffe://";
constexpr const char* kNoProviders =
    "Sluice has no certificate provider plugins (instances are for proxyless gRPC clients): name a secret by SDS";

void sdsToEnvoy(const std::string& name, envoy_tls::SdsSecretConfig& out) {
  out.set_name(name);
  out.mutable_sds_config()->mutable_ads();
  out.mutable_sds_config()->set_resource_api_version(core::V3);
}

// No sds_config is Envoy's "a secret of the bootstrap": Sluice looks it up by
// name among the static and received secrets alike.
FieldError sdsFromEnvoy(const envoy_tls::SdsSecretConfig& in, const std::string& path, std::string& name) {
  if (in.name().empty()) return {fieldPath(path, "name"), "missing"};
  if (in.has_sds_config()) {
    const auto& s = in.sds_config();
    if (s.config_source_specifier_case() != core::ConfigSource::kAds &&
        s.config_source_specifier_case() != core::ConfigSource::kSelf)
      return {fieldPath(path, "sds_config"), "secrets are fetched over the ADS stream only: expected ads {} or self {}"};
    if (s.resource_api_version() != core::AUTO && s.resource_api_version() != core::V3)
      return {fieldPath(path, "sds_config.resource_api_version"), "only the v3 API is supported"};
  }
  name = in.name();
  return {};
}

bool isIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

void sanToEnvoy(envoy_tls::SubjectAltNameMatcher::SanType type, const std::string& value, bool prefix,
                RepeatedPtrField<envoy_tls::SubjectAltNameMatcher>& out) {
  auto& m = *out.Add();
  m.set_san_type(type);
  if (prefix) m.mutable_matcher()->set_prefix(value);
  else m.mutable_matcher()->set_exact(value);
}

void sansToEnvoy(const std::vector<std::string>& names, const std::vector<std::string>& spiffe_ids,
                 RepeatedPtrField<envoy_tls::SubjectAltNameMatcher>& out) {
  using San = envoy_tls::SubjectAltNameMatcher;
  for (const auto& n : names) {
    if (n.find("://") != std::string::npos) sanToEnvoy(San::URI, n, false, out);
    else if (isIpLiteral(n)) sanToEnvoy(San::IP_ADDRESS, n, false, out);
    else sanToEnvoy(San::DNS, n, false, out);
  }
  for (const auto& id : spiffe_ids) {
    if (id.ends_with("/*")) sanToEnvoy(San::URI, id.substr(0, id.size() - 1), true, out);
    else sanToEnvoy(San::URI, id, false, out);
  }
}

// What a CommonTlsContext's validation context says, in the model's terms.
struct Validation {
  std::string secret;  // a ValidationContext secret's name
  bool system_roots = false;
  std::vector<std::string> names;       // verify_subject_alt_names
  std::vector<std::string> spiffe_ids;  // verify_spiffe_ids
  bool any() const { return !secret.empty() || system_roots; }
};

FieldError spiffeFromEnvoy(const std::string& pattern, const std::string& path, Validation& out) {
  std::string why;
  if (!identity::SpiffeIdMatcher::parse(pattern, &why))
    return {path, "invalid SPIFFE ID pattern '" + pattern + "': " + why};
  out.spiffe_ids.push_back(pattern);
  return {};
}

// One SAN check. `type` 0 is the untyped (deprecated) match_subject_alt_names.
FieldError sanFromEnvoy(int type, const matcher::StringMatcher& m, const std::string& path, Validation& out) {
  using San = envoy_tls::SubjectAltNameMatcher;
  const std::string mp = type == 0 ? path : fieldPath(path, "matcher");
  const bool uri_ok = type == 0 || type == San::URI;
  if (m.match_pattern_case() == matcher::StringMatcher::kPrefix && uri_ok &&
      std::string_view(m.prefix()).starts_with(kSpiffeScheme) && m.prefix().ends_with("/") && !m.ignore_case())
    return spiffeFromEnvoy(m.prefix() + "*", fieldPath(mp, "prefix"), out);
  if (m.match_pattern_case() != matcher::StringMatcher::kExact)
    return {mp, "Sluice matches SANs exactly, or SPIFFE IDs by a \"spiffe://td/path/\" URI prefix"};
  const std::string& v = m.exact();
  const std::string vp = fieldPath(mp, "exact");
  if (uri_ok && std::string_view(v).starts_with(kSpiffeScheme)) return spiffeFromEnvoy(v, vp, out);
  switch (type) {
    case 0: break;
    case San::DNS:
      if (v.find("://") != std::string::npos || isIpLiteral(v)) return {vp, "'" + v + "' is not a DNS name"};
      break;
    case San::URI:
      if (v.find("://") == std::string::npos) return {vp, "Sluice matches URIs of the form scheme://..."};
      break;
    case San::IP_ADDRESS:
      if (!isIpLiteral(v)) return {vp, "'" + v + "' is not an IP address"};
      break;
    default: return {fieldPath(path, "san_type"), "only DNS, URI and IP_ADDRESS SANs are supported"};
  }
  if (v.empty()) return {vp, "must not be empty"};
  out.names.push_back(v);
  return {};
}

// The checks of an inline CertificateValidationContext; its trust comes from
// a secret or the system store, never inline data.
FieldError contextFromEnvoy(const envoy_tls::CertificateValidationContext& v, const std::string& path,
                            Validation& out) {
  auto p = [&](std::string_view f) { return fieldPath(path, f); };
  if (v.has_trusted_ca()) return {p("trusted_ca"), "only SDS secrets by name are supported (no inline trust bundles)"};
  if (v.has_ca_certificate_provider_instance()) return {p("ca_certificate_provider_instance"), kNoProviders};
  if (v.verify_certificate_spki_size() > 0) return {p("verify_certificate_spki"), "certificate pinning is not supported"};
  if (v.verify_certificate_hash_size() > 0) return {p("verify_certificate_hash"), "certificate pinning is not supported"};
  if (v.has_crl()) return {p("crl"), "CRLs are not supported"};
  if (v.has_require_signed_certificate_timestamp() && v.require_signed_certificate_timestamp().value())
    return {p("require_signed_certificate_timestamp"), "not supported"};
  if (v.allow_expired_certificate()) return {p("allow_expired_certificate"), "Sluice never accepts expired certificates"};
  if (v.trust_chain_verification() != envoy_tls::CertificateValidationContext::VERIFY_TRUST_CHAIN)
    return {p("trust_chain_verification"), "Sluice always verifies the trust chain"};
  if (v.has_custom_validator_config()) return {p("custom_validator_config"), "custom validators are not supported"};
  if (v.has_max_verify_depth()) return {p("max_verify_depth"), "a chain depth limit is not supported"};
  if (v.has_system_root_certs()) out.system_roots = true;
  for (int i = 0; i < v.match_typed_subject_alt_names_size(); ++i) {
    const auto& m = v.match_typed_subject_alt_names(i);
    if (auto e = sanFromEnvoy(m.san_type(), m.matcher(), indexPath(p("match_typed_subject_alt_names"), i), out);
        !e.empty())
      return e;
  }
// Reading the deprecated fields is the point here: older servers still send them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  // Envoy ignores the untyped list when the typed one is given.
  if (v.match_typed_subject_alt_names_size() == 0)
    for (int i = 0; i < v.match_subject_alt_names_size(); ++i)
      if (auto e = sanFromEnvoy(0, v.match_subject_alt_names(i), indexPath(p("match_subject_alt_names"), i), out);
          !e.empty())
        return e;

#pragma GCC diagnostic pop
  return {};
}

FieldError validationFromEnvoy(const envoy_tls::CommonTlsContext& c, const std::string& path, Validation& out) {
  using C = envoy_tls::CommonTlsContext;
  switch (c.validation_context_type_case()) {
    case C::kValidationContext: return contextFromEnvoy(c.validation_context(), fieldPath(path, "validation_context"), out);
    case C::kValidationContextSdsSecretConfig:
      return sdsFromEnvoy(c.validation_context_sds_secret_config(),
                          fieldPath(path, "validation_context_sds_secret_config"), out.secret);
    case C::kCombinedValidationContext: {
      const auto& cv = c.combined_validation_context();
      const std::string cp = fieldPath(path, "combined_validation_context");
      if (auto e = contextFromEnvoy(cv.default_validation_context(), fieldPath(cp, "default_validation_context"), out);
          !e.empty())
        return e;
      if (!cv.has_validation_context_sds_secret_config()) {
        if (out.system_roots) return {};  // the system store, with the default context's checks
        return {fieldPath(cp, "validation_context_sds_secret_config"),
                "missing: name a trust bundle secret by SDS (certificate providers are not supported)"};
      }
      // The secret's bundle is the trust; system_root_certs beside it would be a second one.
      out.system_roots = false;
      return sdsFromEnvoy(cv.validation_context_sds_secret_config(),
                          fieldPath(cp, "validation_context_sds_secret_config"), out.secret);
    }
    case C::VALIDATION_CONTEXT_TYPE_NOT_SET: return {};
    default: return {path, "validation by certificate providers is not supported: name a secret by SDS"};
  }
}

// The trust, SAN and SPIFFE checks as Envoy writes them: a plain SDS name
// when there are no checks, else a combined context.
void validationToEnvoy(const std::string& secret, bool system_roots_otherwise, const std::vector<std::string>& names,
                       const std::vector<std::string>& spiffe_ids, envoy_tls::CommonTlsContext& out) {
  const bool checks = !names.empty() || !spiffe_ids.empty();
  if (!secret.empty() && !checks) {
    sdsToEnvoy(secret, *out.mutable_validation_context_sds_secret_config());
  } else if (!secret.empty()) {
    auto& cv = *out.mutable_combined_validation_context();
    sansToEnvoy(names, spiffe_ids, *cv.mutable_default_validation_context()->mutable_match_typed_subject_alt_names());
    sdsToEnvoy(secret, *cv.mutable_validation_context_sds_secret_config());
  } else if (system_roots_otherwise) {
    auto& v = *out.mutable_validation_context();
    v.mutable_system_root_certs();
    sansToEnvoy(names, spiffe_ids, *v.mutable_match_typed_subject_alt_names());
  }
}

// Trust from a certificate provider instance, with the SAN and SPIFFE checks
// in the untyped match_subject_alt_names: gRPC clients read that list and
// not the typed one (gRFC A29), and a URI SAN's exact value or a SPIFFE
// prefix means the same there.
void providerValidationToEnvoy(const std::string& instance, const std::vector<std::string>& names,
                               const std::vector<std::string>& spiffe_ids, envoy_tls::CommonTlsContext& out) {
  auto& v = *out.mutable_validation_context();
  v.mutable_ca_certificate_provider_instance()->set_instance_name(instance);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  for (const auto& n : names) v.add_match_subject_alt_names()->set_exact(n);
  for (const auto& id : spiffe_ids) {
    if (id.ends_with("/*")) v.add_match_subject_alt_names()->set_prefix(id.substr(0, id.size() - 1));
    else v.add_match_subject_alt_names()->set_exact(id);
  }
#pragma GCC diagnostic pop
}

// Inline material and providers, which Sluice does not take.
FieldError certificatesFromEnvoy(const envoy_tls::CommonTlsContext& c, const std::string& path,
                                 std::vector<std::string>& names) {
  auto p = [&](std::string_view f) { return fieldPath(path, f); };
  if (c.tls_certificates_size() > 0)
    return {p("tls_certificates"), "only SDS secrets by name are supported (no inline certificates)"};
// Reading the deprecated fields is the point here: older servers still send them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (c.has_tls_certificate_provider_instance() || c.has_tls_certificate_certificate_provider() ||
      c.has_tls_certificate_certificate_provider_instance())
    return {path, kNoProviders};
#pragma GCC diagnostic pop

  if (c.has_custom_handshaker()) return {p("custom_handshaker"), "not supported"};
  for (int i = 0; i < c.tls_certificate_sds_secret_configs_size(); ++i) {
    std::string name;
    if (auto e = sdsFromEnvoy(c.tls_certificate_sds_secret_configs(i),
                              indexPath(p("tls_certificate_sds_secret_configs"), i), name);
        !e.empty())
      return e;
    names.push_back(std::move(name));
  }
  return {};
}

FieldError alpnFromEnvoy(const envoy_tls::CommonTlsContext& c, const std::string& path,
                         std::vector<std::string>& out) {
  out.clear();
  for (int i = 0; i < c.alpn_protocols_size(); ++i) {
    const std::string& a = c.alpn_protocols(i);
    if (a.empty() || a.size() > 255)
      return {indexPath(fieldPath(path, "alpn_protocols"), i), "ALPN protocol names are 1 to 255 bytes"};
    out.push_back(a);
  }
  return {};
}

}  // namespace

void downstreamTlsToEnvoy(const config::DownstreamTlsConfig& t, envoy_tls::DownstreamTlsContext& out) {
  out.Clear();
  auto& c = *out.mutable_common_tls_context();
  for (const auto& name : t.certificates) sdsToEnvoy(name, *c.add_tls_certificate_sds_secret_configs());
  validationToEnvoy(t.validation_context, /*system_roots_otherwise=*/false, {}, t.verify_spiffe_ids, c);
  for (const auto& a : t.alpn) c.add_alpn_protocols(a);
  out.mutable_require_client_certificate()->set_value(t.require_client_cert);
  out.set_disable_stateless_session_resumption(!t.session_tickets);
}

FieldError downstreamTlsFromEnvoy(const envoy_tls::DownstreamTlsContext& in, config::DownstreamTlsConfig& out) {
  out = config::DownstreamTlsConfig{};
  const auto& c = in.common_tls_context();
  const std::string cp = "common_tls_context";
  if (auto e = certificatesFromEnvoy(c, cp, out.certificates); !e.empty()) return e;
  if (out.certificates.empty())
    return {fieldPath(cp, "tls_certificate_sds_secret_configs"), "at least one certificate is required"};
  Validation v;
  if (auto e = validationFromEnvoy(c, cp, v); !e.empty()) return e;
  if (v.system_roots && v.secret.empty())
    return {fieldPath(cp, "validation_context.system_root_certs"),
            "client certificates are verified against a trust bundle secret, not the system store"};
  if (!v.names.empty())
    return {cp, "a TLS listener checks client SPIFFE IDs only: '" + v.names[0] +
                    "' is not a spiffe:// ID or \"spiffe://td/path/\" prefix"};
  out.validation_context = v.secret;
  out.verify_spiffe_ids = std::move(v.spiffe_ids);
  if (!out.verify_spiffe_ids.empty() && out.validation_context.empty())
    return {cp, "SPIFFE ID checks need a validation context secret (client certificates are requested with one)"};
  out.require_client_cert = in.has_require_client_certificate() && in.require_client_certificate().value();
  if (out.require_client_cert && out.validation_context.empty())
    return {"require_client_certificate", "needs a validation context secret to verify client certificates against"};
  if (in.has_require_sni() && in.require_sni().value()) return {"require_sni", "not supported"};
  if (in.has_session_ticket_keys() || in.has_session_ticket_keys_sds_secret_config())
    return {in.has_session_ticket_keys() ? "session_ticket_keys" : "session_ticket_keys_sds_secret_config",
            "Sluice rotates its own session ticket keys"};
  if (in.ocsp_staple_policy() == envoy_tls::DownstreamTlsContext::MUST_STAPLE)
    return {"ocsp_staple_policy", "OCSP stapling is not supported"};
  out.session_tickets = !in.disable_stateless_session_resumption();
  if (auto e = alpnFromEnvoy(c, cp, out.alpn); !e.empty()) return e;
  out.alpn_from_filter = false;  // the context says exactly what it offers
  return {};
}

void upstreamTlsToEnvoy(const config::UpstreamTlsConfig& t, envoy_tls::UpstreamTlsContext& out) {
  out.Clear();
  out.set_sni(t.sni);
  auto& c = *out.mutable_common_tls_context();
  if (!t.certificate.empty()) sdsToEnvoy(t.certificate, *c.add_tls_certificate_sds_secret_configs());
  if (!t.certificate_provider_instance.empty())
    c.mutable_tls_certificate_provider_instance()->set_instance_name(t.certificate_provider_instance);
  // Sluice checks the certificate against the SNI when no SAN or SPIFFE
  // check is given; Envoy checks only what it is told, so it is told.
  std::vector<std::string> names = t.verify_subject_alt_names;
  if (names.empty() && t.verify_spiffe_ids.empty() && !t.sni.empty()) names.push_back(t.sni);
  if (!t.ca_certificate_provider_instance.empty())
    providerValidationToEnvoy(t.ca_certificate_provider_instance, names, t.verify_spiffe_ids, c);
  else  // no secret is the system store, which Envoy must be told about
    validationToEnvoy(t.validation_context, /*system_roots_otherwise=*/true, names, t.verify_spiffe_ids, c);
  for (const auto& a : t.alpn) c.add_alpn_protocols(a);
}

FieldError upstreamTlsFromEnvoy(const envoy_tls::UpstreamTlsContext& in, config::UpstreamTlsConfig& out) {
  out = config::UpstreamTlsConfig{};
  if (in.sni().size() > 255) return {"sni", "longer than 255 bytes"};
  out.sni = in.sni();
  const auto& c = in.common_tls_context();
  const std::string cp = "common_tls_context";
  std::vector<std::string> certs;
  if (auto e = certificatesFromEnvoy(c, cp, certs); !e.empty()) return e;
  if (certs.size() > 1)
    return {indexPath(fieldPath(cp, "tls_certificate_sds_secret_configs"), 1),
            "an upstream connection presents one client certificate"};
  if (!certs.empty()) out.certificate = certs[0];
  Validation v;
  if (auto e = validationFromEnvoy(c, cp, v); !e.empty()) return e;
  if (!v.any())
    return {cp, "no validation context: Sluice always verifies the server (name a trust bundle secret by SDS, or "
                "give validation_context.system_root_certs)"};
  out.validation_context = v.secret;
  // A single check of the SNI is what Sluice does with none.
  if (!(v.spiffe_ids.empty() && v.names.size() == 1 && v.names[0] == out.sni)) {
    out.verify_subject_alt_names = std::move(v.names);
    out.verify_spiffe_ids = std::move(v.spiffe_ids);
  }
  return alpnFromEnvoy(c, cp, out.alpn);
}

}  // namespace sluice::xds
