// TLS contexts and secrets: listener and cluster TLS blocks from YAML come
// back whole; contexts as other servers write them translate; every
// rejection (above all a certificate check Sluice would otherwise drop)
// names its field.
#include <gtest/gtest.h>

#include <string>

#include "config/config_json.h"
#include "config/loader.h"
#include "tests/unit/xds/cluster_translate_support.h"
#include "xds/cluster_translate.h"

namespace sluice::xds {
namespace {

using testing::fromText;
using testing::overTheWire;
using testing::touchFile;
namespace core = envoy::config::core::v3;

std::string substitute(std::string text, const std::string& key, const std::string& value) {
  for (size_t at; (at = text.find(key)) != std::string::npos;) text.replace(at, key.size(), value);
  return text;
}

std::shared_ptr<const config::Config> load(const std::string& yaml) {
  const auto r = config::loadString(yaml, "t.yaml");
  EXPECT_TRUE(r.errors.empty()) << r.errorText();
  return r.config;
}

std::string listenersYaml() {
  std::string yaml = R"(listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - match: {server_names: [a.test]}
        tls:
          certificates:
            - {cert_chain: @CERT@, private_key: @KEY@}
            - {cert_chain: @CERT@, private_key: @KEY2@}
          ca_bundle: @CA@
          require_client_cert: true
          verify_spiffe_ids: ["spiffe://mesh.test/ns/a/sa/client", "spiffe://mesh.test/ns/b/*"]
          alpn: [h2, http/1.1]
          session_tickets: false
        tcp_proxy: {cluster: c}
      - tls:
          certificates: [{cert_chain: @CERT@, private_key: @KEY@}]
          ca_bundle: @CA@
        tcp_proxy: {cluster: c}
      - tls:
          certificates: [{cert_chain: @CERT@, private_key: @KEY@}]
          alpn: []
        tcp_proxy: {cluster: c}
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
)";
  yaml = substitute(yaml, "@CERT@", touchFile("tls_cert.pem"));
  yaml = substitute(yaml, "@KEY2@", touchFile("tls_key2.pem"));
  return substitute(yaml, "@KEY@", touchFile("tls_key.pem"));
}

std::string withCa(std::string yaml) { return substitute(std::move(yaml), "@CA@", touchFile("tls_ca.pem")); }

TEST(TlsRoundTrip, DownstreamContextsComeBack) {
  const auto cfg = load(withCa(listenersYaml()));
  ASSERT_NE(cfg, nullptr);
  ASSERT_EQ(cfg->listeners[0].filter_chains.size(), 3u);
  for (const auto& chain : cfg->listeners[0].filter_chains) {
    ASSERT_TRUE(chain.tls);
    envoy_tls::DownstreamTlsContext envoy;
    downstreamTlsToEnvoy(*chain.tls, envoy);
    config::DownstreamTlsConfig back;
    const FieldError e = downstreamTlsFromEnvoy(overTheWire(envoy), back);
    ASSERT_TRUE(e.empty()) << e.str();
    EXPECT_EQ(config::toJson(back).dump(2), config::toJson(*chain.tls).dump(2));
  }
}

TEST(TlsToEnvoy, DownstreamUsesSdsAndTypedMatchers) {
  const auto cfg = load(withCa(listenersYaml()));
  ASSERT_NE(cfg, nullptr);
  const auto& t = *cfg->listeners[0].filter_chains[0].tls;
  envoy_tls::DownstreamTlsContext e;
  downstreamTlsToEnvoy(t, e);
  const auto& c = e.common_tls_context();
  ASSERT_EQ(c.tls_certificate_sds_secret_configs_size(), 2);
  EXPECT_EQ(c.tls_certificate_sds_secret_configs(0).name(), t.certificates[0]);
  EXPECT_EQ(c.tls_certificate_sds_secret_configs(1).name(), t.certificates[1]);
  EXPECT_TRUE(c.tls_certificate_sds_secret_configs(0).sds_config().has_ads());
  EXPECT_EQ(c.tls_certificate_sds_secret_configs(0).sds_config().resource_api_version(), core::V3);
  const auto& cv = c.combined_validation_context();
  EXPECT_EQ(cv.validation_context_sds_secret_config().name(), t.validation_context);
  const auto& m = cv.default_validation_context().match_typed_subject_alt_names();
  ASSERT_EQ(m.size(), 2);
  EXPECT_EQ(m[0].san_type(), envoy_tls::SubjectAltNameMatcher::URI);
  EXPECT_EQ(m[0].matcher().exact(), "spiffe://mesh.test/ns/a/sa/client");
  EXPECT_EQ(m[1].matcher().prefix(), "spiffe://mesh.test/ns/b/");
  EXPECT_TRUE(e.require_client_certificate().value());
  EXPECT_TRUE(e.disable_stateless_session_resumption());
  EXPECT_EQ(c.alpn_protocols_size(), 2);

  // Without ID checks, the trust bundle is a plain SDS name.
  envoy_tls::DownstreamTlsContext plain;
  downstreamTlsToEnvoy(*cfg->listeners[0].filter_chains[1].tls, plain);
  EXPECT_EQ(plain.common_tls_context().validation_context_sds_secret_config().name(),
            cfg->listeners[0].filter_chains[1].tls->validation_context);
  EXPECT_FALSE(plain.require_client_certificate().value());
}

TEST(TlsToEnvoy, UpstreamSansAndSystemStore) {
  config::UpstreamTlsConfig t;
  t.sni = "api.test";
  t.verify_subject_alt_names = {"api.test", "192.0.2.1", "urn://x/y"};
  t.verify_spiffe_ids = {"spiffe://td/*"};
  t.alpn = {"h2"};
  envoy_tls::UpstreamTlsContext e;
  upstreamTlsToEnvoy(t, e);
  EXPECT_EQ(e.sni(), "api.test");
  const auto& v = e.common_tls_context().validation_context();
  EXPECT_TRUE(v.has_system_root_certs()) << "no trust bundle secret: the system store, said to Envoy";
  ASSERT_EQ(v.match_typed_subject_alt_names_size(), 4);
  EXPECT_EQ(v.match_typed_subject_alt_names(0).san_type(), envoy_tls::SubjectAltNameMatcher::DNS);
  EXPECT_EQ(v.match_typed_subject_alt_names(1).san_type(), envoy_tls::SubjectAltNameMatcher::IP_ADDRESS);
  EXPECT_EQ(v.match_typed_subject_alt_names(2).san_type(), envoy_tls::SubjectAltNameMatcher::URI);
  EXPECT_EQ(v.match_typed_subject_alt_names(3).matcher().prefix(), "spiffe://td/");
  EXPECT_FALSE(e.common_tls_context().tls_certificate_sds_secret_configs_size());

  config::UpstreamTlsConfig back;
  const FieldError err = upstreamTlsFromEnvoy(overTheWire(e), back);
  ASSERT_TRUE(err.empty()) << err.str();
  EXPECT_EQ(config::toJson(back).dump(), config::toJson(t).dump());

  // A bare system store, no checks.
  config::UpstreamTlsConfig bare;
  envoy_tls::UpstreamTlsContext be;
  upstreamTlsToEnvoy(bare, be);
  EXPECT_TRUE(be.common_tls_context().validation_context().has_system_root_certs());
  ASSERT_TRUE(upstreamTlsFromEnvoy(be, back).empty());
  EXPECT_EQ(back.validation_context, "");
}

TEST(TlsToEnvoy, UpstreamSniIsCheckedAsEnvoySeesIt) {
  config::UpstreamTlsConfig t;
  t.sni = "db.internal";
  t.validation_context = "ca";
  envoy_tls::UpstreamTlsContext e;
  upstreamTlsToEnvoy(t, e);
  const auto& m = e.common_tls_context().combined_validation_context().default_validation_context()
                      .match_typed_subject_alt_names();
  ASSERT_EQ(m.size(), 1);
  EXPECT_EQ(m[0].san_type(), envoy_tls::SubjectAltNameMatcher::DNS);
  EXPECT_EQ(m[0].matcher().exact(), "db.internal");
  config::UpstreamTlsConfig back;
  ASSERT_TRUE(upstreamTlsFromEnvoy(e, back).empty());
  EXPECT_TRUE(back.verify_subject_alt_names.empty()) << "the SNI check is the default one";
  EXPECT_EQ(back.validation_context, "ca");

  // With another check given, the SNI adds nothing.
  t.verify_spiffe_ids = {"spiffe://td/db"};
  upstreamTlsToEnvoy(t, e);
  ASSERT_EQ(e.common_tls_context().combined_validation_context().default_validation_context()
                .match_typed_subject_alt_names_size(),
            1);
  EXPECT_EQ(e.common_tls_context().combined_validation_context().default_validation_context()
                .match_typed_subject_alt_names(0).matcher().exact(),
            "spiffe://td/db");
}

// What a proxyless gRPC client takes (gRFC A29): both instances by name, the
// checks in the untyped SAN list it reads; Sluice refuses them coming back.
TEST(TlsToEnvoy, UpstreamCertificateProviderInstances) {
  config::UpstreamTlsConfig t;
  t.ca_certificate_provider_instance = "mesh-roots";
  t.certificate_provider_instance = "mesh-identity";
  t.verify_spiffe_ids = {"spiffe://td/ns/a/sa/echo", "spiffe://td/ns/b/*"};
  t.alpn = {"h2"};
  envoy_tls::UpstreamTlsContext e;
  upstreamTlsToEnvoy(t, e);
  const auto& c = e.common_tls_context();
  EXPECT_EQ(c.tls_certificate_provider_instance().instance_name(), "mesh-identity");
  EXPECT_EQ(c.tls_certificate_sds_secret_configs_size(), 0);
  ASSERT_TRUE(c.has_validation_context());
  const auto& v = c.validation_context();
  EXPECT_EQ(v.ca_certificate_provider_instance().instance_name(), "mesh-roots");
  EXPECT_FALSE(v.has_system_root_certs());
  EXPECT_EQ(v.match_typed_subject_alt_names_size(), 0);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  ASSERT_EQ(v.match_subject_alt_names_size(), 2);
  EXPECT_EQ(v.match_subject_alt_names(0).exact(), "spiffe://td/ns/a/sa/echo");
  EXPECT_EQ(v.match_subject_alt_names(1).prefix(), "spiffe://td/ns/b/");
#pragma GCC diagnostic pop

  // Without the client certificate: roots alone; the SNI is the default check.
  t.certificate_provider_instance.clear();
  t.verify_spiffe_ids.clear();
  t.sni = "echo.test";
  upstreamTlsToEnvoy(t, e);
  EXPECT_FALSE(e.common_tls_context().has_tls_certificate_provider_instance());
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  ASSERT_EQ(e.common_tls_context().validation_context().match_subject_alt_names_size(), 1);
  EXPECT_EQ(e.common_tls_context().validation_context().match_subject_alt_names(0).exact(), "echo.test");
#pragma GCC diagnostic pop

  config::UpstreamTlsConfig back;
  EXPECT_EQ(upstreamTlsFromEnvoy(overTheWire(e), back).str(),
            "common_tls_context.validation_context.ca_certificate_provider_instance: Sluice has no certificate "
            "provider plugins (instances are for proxyless gRPC clients): name a secret by SDS");
}

TEST(TlsFromEnvoy, CombinedContextOverTheSystemStore) {
  const auto up = fromText<envoy_tls::UpstreamTlsContext>(R"pb(
    sni: "api.example.com"
    common_tls_context {
      combined_validation_context {
        default_validation_context {
          system_root_certs {}
          match_typed_subject_alt_names { san_type: DNS matcher { exact: "edge.example.com" } }
        }
      }
    }
  )pb");
  config::UpstreamTlsConfig u;
  const FieldError e = upstreamTlsFromEnvoy(up, u);
  ASSERT_TRUE(e.empty()) << e.str();
  EXPECT_EQ(u.validation_context, "") << "the system store";
  EXPECT_EQ(u.verify_subject_alt_names, std::vector<std::string>{"edge.example.com"});
}

TEST(TlsFromEnvoy, ExactSpiffeUriIsTheSameCheckAsASpiffeId) {
  config::UpstreamTlsConfig t;
  t.validation_context = "ca";
  t.verify_subject_alt_names = {"spiffe://td/a"};
  envoy_tls::UpstreamTlsContext e;
  upstreamTlsToEnvoy(t, e);
  config::UpstreamTlsConfig back;
  ASSERT_TRUE(upstreamTlsFromEnvoy(e, back).empty());
  EXPECT_TRUE(back.verify_subject_alt_names.empty());
  EXPECT_EQ(back.verify_spiffe_ids, std::vector<std::string>{"spiffe://td/a"});
}

// gRPC-era and Istio-era contexts: untyped SAN matchers, SDS without a
// source (a secret of the bootstrap), ALPN given by the server.
TEST(TlsFromEnvoy, ContextsAsOtherServersWriteThem) {
  const auto up = fromText<envoy_tls::UpstreamTlsContext>(R"pb(
    common_tls_context {
      tls_certificate_sds_secret_configs { name: "client" }
      combined_validation_context {
        default_validation_context {
          match_subject_alt_names { exact: "db.internal" }
          match_subject_alt_names { prefix: "spiffe://prod.test/ns/db/" }
        }
        validation_context_sds_secret_config { name: "roots" sds_config { self {} } }
      }
      alpn_protocols: "http/1.1"
      tls_params { tls_minimum_protocol_version: TLSv1_2 }
    }
  )pb");
  config::UpstreamTlsConfig u;
  const FieldError e = upstreamTlsFromEnvoy(up, u);
  ASSERT_TRUE(e.empty()) << e.str();
  EXPECT_EQ(u.certificate, "client");
  EXPECT_EQ(u.validation_context, "roots");
  EXPECT_EQ(u.verify_subject_alt_names, std::vector<std::string>{"db.internal"});
  EXPECT_EQ(u.verify_spiffe_ids, std::vector<std::string>{"spiffe://prod.test/ns/db/*"});
  EXPECT_EQ(u.alpn, std::vector<std::string>{"http/1.1"});

  const auto down = fromText<envoy_tls::DownstreamTlsContext>(R"pb(
    common_tls_context {
      tls_certificate_sds_secret_configs { name: "server" sds_config { ads {} } }
      validation_context_sds_secret_config { name: "clients" }
    }
  )pb");
  config::DownstreamTlsConfig d;
  ASSERT_TRUE(downstreamTlsFromEnvoy(down, d).empty());
  EXPECT_EQ(d.certificates, std::vector<std::string>{"server"});
  EXPECT_EQ(d.validation_context, "clients");
  EXPECT_FALSE(d.require_client_cert);
  EXPECT_TRUE(d.session_tickets);
  EXPECT_TRUE(d.alpn.empty()) << "no ALPN offered, as in Envoy";
  EXPECT_FALSE(d.alpn_from_filter);
  EXPECT_EQ(d.handshake_timeout, std::chrono::seconds(10)) << "the filter chain's, not the context's";
}

struct Rejection {
  const char* what;
  const char* text;
  const char* expected;
};

const Rejection kUpstreamRejections[] = {
    {"inline certificate",
     R"pb(common_tls_context { tls_certificates { certificate_chain { inline_string: "PEM" } } })pb",
     "common_tls_context.tls_certificates: only SDS secrets by name are supported (no inline certificates)"},
    {"inline trust bundle",
     R"pb(common_tls_context { validation_context { trusted_ca { filename: "/etc/ca.pem" } } })pb",
     "common_tls_context.validation_context.trusted_ca: only SDS secrets by name are supported (no inline trust "
     "bundles)"},
    {"no validation", R"pb(sni: "x")pb",
     "common_tls_context: no validation context: Sluice always verifies the server (name a trust bundle secret by "
     "SDS, or give validation_context.system_root_certs)"},
    {"pinning",
     R"pb(common_tls_context { combined_validation_context { default_validation_context { verify_certificate_hash: "ab" } validation_context_sds_secret_config { name: "ca" } } })pb",
     "common_tls_context.combined_validation_context.default_validation_context.verify_certificate_hash: certificate "
     "pinning is not supported"},
    {"crl",
     R"pb(common_tls_context { validation_context { system_root_certs {} crl { filename: "/crl" } } })pb",
     "common_tls_context.validation_context.crl: CRLs are not supported"},
    {"accept untrusted",
     R"pb(common_tls_context { validation_context { trust_chain_verification: ACCEPT_UNTRUSTED } })pb",
     "common_tls_context.validation_context.trust_chain_verification: Sluice always verifies the trust chain"},
    {"expired", R"pb(common_tls_context { validation_context { allow_expired_certificate: true } })pb",
     "common_tls_context.validation_context.allow_expired_certificate: Sluice never accepts expired certificates"},
    {"sds from elsewhere",
     R"pb(common_tls_context { validation_context_sds_secret_config { name: "ROOTCA" sds_config { api_config_source { api_type: GRPC } } } })pb",
     "common_tls_context.validation_context_sds_secret_config.sds_config: secrets are fetched over the ADS stream "
     "only: expected ads {} or self {}"},
    {"certificate provider",
     R"pb(common_tls_context { combined_validation_context { validation_context_certificate_provider_instance { instance_name: "google_cloud_private_spiffe" } } })pb",
     "common_tls_context.combined_validation_context.validation_context_sds_secret_config: missing: name a trust "
     "bundle secret by SDS (certificate providers are not supported)"},
    {"two client certificates",
     R"pb(common_tls_context { tls_certificate_sds_secret_configs { name: "a" } tls_certificate_sds_secret_configs { name: "b" } validation_context_sds_secret_config { name: "ca" } })pb",
     "common_tls_context.tls_certificate_sds_secret_configs[1]: an upstream connection presents one client "
     "certificate"},
    {"regex san",
     R"pb(common_tls_context { validation_context { system_root_certs {} match_typed_subject_alt_names { san_type: DNS matcher { safe_regex { regex: ".*" } } } } })pb",
     "common_tls_context.validation_context.match_typed_subject_alt_names[0].matcher: Sluice matches SANs exactly, "
     "or SPIFFE IDs by a \"spiffe://td/path/\" URI prefix"},
    {"email san",
     R"pb(common_tls_context { validation_context { system_root_certs {} match_typed_subject_alt_names { san_type: EMAIL matcher { exact: "a@b" } } } })pb",
     "common_tls_context.validation_context.match_typed_subject_alt_names[0].san_type: only DNS, URI and IP_ADDRESS "
     "SANs are supported"},
    {"bad spiffe id",
     R"pb(common_tls_context { validation_context { system_root_certs {} match_typed_subject_alt_names { san_type: URI matcher { exact: "spiffe://TD/x" } } } })pb",
     "common_tls_context.validation_context.match_typed_subject_alt_names[0].matcher.exact: invalid SPIFFE ID "
     "pattern 'spiffe://TD/x': "},
    {"uri without scheme",
     R"pb(common_tls_context { validation_context { system_root_certs {} match_typed_subject_alt_names { san_type: URI matcher { exact: "urn:x" } } } })pb",
     "common_tls_context.validation_context.match_typed_subject_alt_names[0].matcher.exact: Sluice matches URIs of "
     "the form scheme://..."},
};

TEST(TlsFromEnvoy, EachUpstreamRejectionNamesItsField) {
  for (const auto& r : kUpstreamRejections) {
    SCOPED_TRACE(r.what);
    config::UpstreamTlsConfig t;
    const std::string got = upstreamTlsFromEnvoy(fromText<envoy_tls::UpstreamTlsContext>(r.text), t).str();
    // The SPIFFE parser's own reason follows the prefix.
    if (std::string(r.what) == "bad spiffe id") EXPECT_EQ(got.substr(0, std::string(r.expected).size()), r.expected);
    else EXPECT_EQ(got, r.expected);
  }
}

const Rejection kDownstreamRejections[] = {
    {"no certificate", R"pb(common_tls_context {})pb",
     "common_tls_context.tls_certificate_sds_secret_configs: at least one certificate is required"},
    {"client cert without ca",
     R"pb(common_tls_context { tls_certificate_sds_secret_configs { name: "s" } } require_client_certificate { value: true })pb",
     "require_client_certificate: needs a validation context secret to verify client certificates against"},
    {"dns check on clients",
     R"pb(common_tls_context { tls_certificate_sds_secret_configs { name: "s" } combined_validation_context { default_validation_context { match_typed_subject_alt_names { san_type: DNS matcher { exact: "client.test" } } } validation_context_sds_secret_config { name: "ca" } } })pb",
     "common_tls_context: a TLS listener checks client SPIFFE IDs only: 'client.test' is not a spiffe:// ID or "
     "\"spiffe://td/path/\" prefix"},
    {"system store for clients",
     R"pb(common_tls_context { tls_certificate_sds_secret_configs { name: "s" } validation_context { system_root_certs {} } })pb",
     "common_tls_context.validation_context.system_root_certs: client certificates are verified against a trust "
     "bundle secret, not the system store"},
    {"ids without ca",
     R"pb(common_tls_context { tls_certificate_sds_secret_configs { name: "s" } validation_context { match_typed_subject_alt_names { san_type: URI matcher { exact: "spiffe://td/a" } } } })pb",
     "common_tls_context: SPIFFE ID checks need a validation context secret (client certificates are requested with "
     "one)"},
    {"require sni", R"pb(common_tls_context { tls_certificate_sds_secret_configs { name: "s" } } require_sni { value: true })pb",
     "require_sni: not supported"},
    {"ticket keys",
     R"pb(common_tls_context { tls_certificate_sds_secret_configs { name: "s" } } session_ticket_keys { keys { filename: "/k" } })pb",
     "session_ticket_keys: Sluice rotates its own session ticket keys"},
    {"empty alpn",
     R"pb(common_tls_context { tls_certificate_sds_secret_configs { name: "s" } alpn_protocols: "" })pb",
     "common_tls_context.alpn_protocols[0]: ALPN protocol names are 1 to 255 bytes"},
    {"sds without a name", R"pb(common_tls_context { tls_certificate_sds_secret_configs { } })pb",
     "common_tls_context.tls_certificate_sds_secret_configs[0].name: missing"},
};

TEST(TlsFromEnvoy, EachDownstreamRejectionNamesItsField) {
  for (const auto& r : kDownstreamRejections) {
    SCOPED_TRACE(r.what);
    config::DownstreamTlsConfig t;
    EXPECT_EQ(downstreamTlsFromEnvoy(fromText<envoy_tls::DownstreamTlsContext>(r.text), t).str(), r.expected);
  }
}

const Rejection kSecretRejections[] = {
    {"mixed forms",
     R"pb(name: "s" tls_certificate { certificate_chain { filename: "/c" } private_key { inline_bytes: "k" } })pb",
     "tls_certificate.private_key: mixes a filename with inline data in one secret: give both parts the same way"},
    {"mixed forms, file second",
     R"pb(name: "s" tls_certificate { certificate_chain { inline_string: "C" } private_key { filename: "/k" } })pb",
     "tls_certificate.private_key: mixes a filename with inline data in one secret: give both parts the same way"},
    {"empty inline bundle", R"pb(name: "s" validation_context { trusted_ca { inline_string: "" } })pb",
     "validation_context.trusted_ca.inline_string: must not be empty"},
    {"environment", R"pb(name: "s" validation_context { trusted_ca { environment_variable: "CA" } })pb",
     "validation_context.trusted_ca.environment_variable: not supported: give a filename or inline PEM"},
    {"no data", R"pb(name: "s" validation_context { trusted_ca { } })pb",
     "validation_context.trusted_ca: missing (give a filename, inline_bytes or inline_string)"},
    {"no key", R"pb(name: "s" tls_certificate { certificate_chain { filename: "/c" } })pb",
     "tls_certificate.private_key: missing"},
    {"checks in a secret",
     R"pb(name: "s" validation_context { trusted_ca { filename: "/ca" } match_typed_subject_alt_names { san_type: DNS matcher { exact: "x" } } })pb",
     "validation_context: a validation context secret holds trusted_ca only (put SAN checks in the TLS context)"},
    {"pkcs12", R"pb(name: "s" tls_certificate { pkcs12 { filename: "/p12" } })pb",
     "tls_certificate.pkcs12: PKCS#12 is not supported: give PEM"},
    {"ticket keys", R"pb(name: "s" session_ticket_keys { keys { filename: "/k" } })pb",
     "session_ticket_keys: session ticket key secrets are not supported (Sluice rotates its own keys)"},
    {"generic", R"pb(name: "s" generic_secret {})pb", "generic_secret: generic secrets are not supported"},
    {"empty", R"pb(name: "s")pb", "the secret holds nothing (expected tls_certificate or validation_context)"},
    {"no name", R"pb(validation_context { trusted_ca { filename: "/ca" } })pb", "name: missing"},
};

TEST(SecretFromEnvoy, EachRejectionNamesItsField) {
  for (const auto& r : kSecretRejections) {
    SCOPED_TRACE(r.what);
    config::SecretSpec s;
    EXPECT_EQ(secretFromEnvoy(fromText<envoy_tls::Secret>(r.text), s).str(), r.expected);
  }
}

TEST(SecretToEnvoy, FilenamesOnly) {
  config::SecretSpec s;
  s.name = "cert:/a,/b";
  s.cert_chain = "/a";
  s.private_key = "/b";
  envoy_tls::Secret e;
  secretToEnvoy(s, e);
  EXPECT_EQ(e.name(), "cert:/a,/b");
  EXPECT_EQ(e.tls_certificate().certificate_chain().filename(), "/a");
  EXPECT_EQ(e.tls_certificate().private_key().filename(), "/b");
  config::SecretSpec ca;
  ca.name = "ca:/c";
  ca.kind = config::SecretSpec::Kind::ValidationContext;
  ca.trusted_ca = "/c";
  secretToEnvoy(ca, e);
  EXPECT_FALSE(e.has_tls_certificate());
  EXPECT_EQ(e.validation_context().trusted_ca().filename(), "/c");
}

TEST(SecretFromEnvoy, InlinePemEitherWay) {
  config::SecretSpec s;
  ASSERT_TRUE(secretFromEnvoy(fromText<envoy_tls::Secret>(
                                  R"pb(name: "default" tls_certificate { certificate_chain { inline_bytes: "CHAIN" }
                                       private_key { inline_string: "KEY" } })pb"),
                              s)
                  .empty());
  EXPECT_EQ(s.name, "default");
  EXPECT_EQ(s.kind, config::SecretSpec::Kind::TlsCertificate);
  EXPECT_TRUE(s.inline_pem);
  EXPECT_EQ(s.cert_chain, "CHAIN");
  EXPECT_EQ(s.private_key, "KEY");
  ASSERT_TRUE(secretFromEnvoy(fromText<envoy_tls::Secret>(
                                  R"pb(name: "ROOTCA" validation_context { trusted_ca { inline_string: "ROOTS" } })pb"),
                              s)
                  .empty());
  EXPECT_EQ(s.kind, config::SecretSpec::Kind::ValidationContext);
  EXPECT_TRUE(s.inline_pem);
  EXPECT_EQ(s.trusted_ca, "ROOTS");
  ASSERT_TRUE(
      secretFromEnvoy(fromText<envoy_tls::Secret>(R"pb(name: "f" validation_context { trusted_ca { filename: "/ca" } })pb"), s)
          .empty());
  EXPECT_FALSE(s.inline_pem) << "a filename stays a path";
}

TEST(SecretToEnvoy, InlinePemAsInlineBytesAndBack) {
  config::SecretSpec s;
  s.name = "default";
  s.inline_pem = true;
  s.cert_chain = "-----BEGIN CERTIFICATE-----\nC\n-----END CERTIFICATE-----\n";
  s.private_key = "-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n";
  envoy_tls::Secret e;
  secretToEnvoy(s, e);
  EXPECT_EQ(e.tls_certificate().certificate_chain().inline_bytes(), s.cert_chain);
  EXPECT_EQ(e.tls_certificate().private_key().inline_bytes(), s.private_key);
  EXPECT_FALSE(e.tls_certificate().certificate_chain().has_filename());
  config::SecretSpec back;
  ASSERT_TRUE(secretFromEnvoy(overTheWire(e), back).empty());
  EXPECT_TRUE(back.inline_pem);
  EXPECT_EQ(back.cert_chain, s.cert_chain);
  EXPECT_EQ(back.private_key, s.private_key);

  config::SecretSpec ca;
  ca.name = "ROOTCA";
  ca.kind = config::SecretSpec::Kind::ValidationContext;
  ca.inline_pem = true;
  ca.trusted_ca = "ROOTS";
  secretToEnvoy(ca, e);
  EXPECT_EQ(e.validation_context().trusted_ca().inline_bytes(), "ROOTS");
  ASSERT_TRUE(secretFromEnvoy(overTheWire(e), back).empty());
  EXPECT_TRUE(back.inline_pem);
  EXPECT_EQ(back.trusted_ca, "ROOTS");
}

TEST(SecretJson, InlineKeyNeverDumped) {
  config::SecretSpec s;
  s.name = "default";
  s.inline_pem = true;
  s.cert_chain = "CHAIN";
  s.private_key = "SECRET-KEY-BYTES";
  const std::string dumped = config::toJson(s).dump();
  EXPECT_EQ(dumped.find("SECRET-KEY-BYTES"), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("16 bytes"), std::string::npos) << dumped;
}

}  // namespace
}  // namespace sluice::xds
