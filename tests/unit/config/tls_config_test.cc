// The TLS parts of the config: listener tls (shorthand, modes), filter
// chains and their matches, cluster tls, and the secrets their paths are
// lifted into; every error names file:line:col: path; the JSON form carries
// paths, never key material.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "config/config_json.h"
#include "config/loader.h"
#include "tests/unit/config/load_support.h"

namespace sluice::config {
namespace {

using testing::Errors;
using testing::errorsOf;
using testing::loadOk;

// /dev/null is readable: these tests are about the YAML, not the files.
constexpr const char* kClusters = "clusters:\n  - name: c\n    endpoints: [{address: 127.0.0.1:1}]\n";

TEST(TlsConfigTest, ListenerShorthandDefaults) {
  auto r = loadString(R"(listeners:
  - name: l
    address: 127.0.0.1:0
    tls:
      certificates: [{cert_chain: /dev/null, private_key: /dev/null}]
    tcp_proxy: {cluster: c}
)" + std::string(kClusters));
  ASSERT_TRUE(r.config) << r.errorText();
  const auto& l = r.config->listeners[0];
  ASSERT_TRUE(l.tls);
  EXPECT_EQ(l.tls->mode, DownstreamTlsConfig::Mode::Strict);
  EXPECT_EQ(l.tls->alpn, (std::vector<std::string>{"http/1.1"}));
  EXPECT_EQ(l.tls->handshake_timeout, std::chrono::seconds(10));
  EXPECT_TRUE(l.tls->session_tickets);
  EXPECT_FALSE(l.tls->require_client_cert);
  ASSERT_EQ(l.filters.size(), 1u);
  EXPECT_TRUE(l.filter_chains.empty());
  const auto j = toJson(l);
  EXPECT_EQ(j["tls"]["certificates"][0], "cert:/dev/null,/dev/null");
  EXPECT_EQ(j["tls"]["mode"], "strict");
  EXPECT_EQ(toJson(*r.config)["secrets"][0]["tls_certificate"]["private_key"], "/dev/null");
}

TEST(TlsConfigTest, PlainListenerJsonIsUnchanged) {
  auto r = loadString("listeners:\n  - name: l\n    address: 127.0.0.1:0\n    tcp_proxy: {cluster: c}\n" +
                      std::string(kClusters));
  ASSERT_TRUE(r.config);
  const auto j = toJson(r.config->listeners[0]);
  EXPECT_FALSE(j.contains("tls"));
  EXPECT_FALSE(j.contains("filter_chains"));
  EXPECT_FALSE(toJson(*r.config).contains("certificate_watch_interval"));
}

TEST(TlsConfigTest, ListenerTlsErrors) {
  EXPECT_EQ(errorsOf(R"(listeners:
  - name: l
    address: 127.0.0.1:0
    tls:
      certificates: [{cert_chain: /nonexistent.pem, private_key: /dev/null}]
      require_client_cert: true
      verify_spiffe_ids: ["spiffe://td/ns/a/*", "http://x"]
      mode: lenient
      handshake_timeout: 0s
    tcp_proxy: {cluster: c}
)" + std::string(kClusters)),
            (Errors{"t.yaml:5:35: listeners[0].tls.certificates[0].cert_chain: cannot read '/nonexistent.pem': No "
                    "such file or directory",
                    "t.yaml:6:28: listeners[0].tls.require_client_cert: require_client_cert needs a ca_bundle to "
                    "verify client certificates against",
                    "t.yaml:7:26: listeners[0].tls.verify_spiffe_ids: verify_spiffe_ids needs a ca_bundle (client "
                    "certificates are only requested with one)",
                    "t.yaml:7:49: listeners[0].tls.verify_spiffe_ids[1]: invalid SPIFFE ID pattern 'http://x': "
                    "scheme must be spiffe://",
                    "t.yaml:8:13: listeners[0].tls.mode: expected strict or permissive",
                    "t.yaml:9:26: listeners[0].tls.handshake_timeout: must be greater than 0"}));
  EXPECT_EQ(errorsOf("listeners:\n  - name: l\n    address: 127.0.0.1:0\n    tls: {certificates: []}\n"
                     "    tcp_proxy: {cluster: c}\n" + std::string(kClusters)),
            (Errors{"t.yaml:4:25: listeners[0].tls.certificates: needs at least one certificate"}));
}

TEST(TlsConfigTest, FilterChains) {
  auto r = loadString(R"(listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - match: {server_names: [A.Example.com, "*.b.example.com"], application_protocols: [http/1.1]}
        tls: {certificates: [{cert_chain: /dev/null, private_key: /dev/null}]}
        tcp_proxy: {cluster: c}
      - match: {transport_protocol: raw_buffer}
        tcp_proxy: {cluster: c}
)" + std::string(kClusters));
  ASSERT_TRUE(r.config) << r.errorText();
  const auto& l = r.config->listeners[0];
  ASSERT_EQ(l.filter_chains.size(), 2u);
  EXPECT_EQ(l.filter_chains[0].match.server_names, (std::vector<std::string>{"a.example.com", "*.b.example.com"}));
  // A chain that terminates TLS matches TLS clients only.
  EXPECT_EQ(l.filter_chains[0].match.transport_protocol, FilterChainMatch::Transport::Tls);
  EXPECT_EQ(l.filter_chains[1].match.transport_protocol, FilterChainMatch::Transport::RawBuffer);
  EXPECT_TRUE(l.filters.empty());
  const auto j = toJson(l);
  EXPECT_EQ(j["filter_chains"][0]["match"]["transport_protocol"], "tls");
  EXPECT_EQ(j["filter_chains"][1]["filters"][0]["name"], "tcp_proxy");
}

TEST(TlsConfigTest, FilterChainErrors) {
  EXPECT_EQ(errorsOf(R"(listeners:
  - name: l
    address: 127.0.0.1:0
    tcp_proxy: {cluster: c}
    filter_chains:
      - match: {transport_protocol: quic, server_names: ["bad name"]}
        tcp_proxy: {cluster: nope}
      - tls: {certificates: [{cert_chain: /dev/null, private_key: /dev/null}], mode: permissive}
        match: {transport_protocol: raw_buffer}
      - match: {}
)" + std::string(kClusters)),
            (Errors{"t.yaml:6:7: listeners[0].filter_chains: a listener with filter_chains takes its tls and network "
                    "filters inside each chain",
                    "t.yaml:6:37: listeners[0].filter_chains[0].match.transport_protocol: expected tls or raw_buffer",
                    "t.yaml:6:58: listeners[0].filter_chains[0].match.server_names[0]: expected a DNS name or *.domain",
                    "t.yaml:7:30: listeners[0].filter_chains[0].tcp_proxy.cluster: unknown cluster 'nope'",
                    "t.yaml:8:9: listeners[0].filter_chains[1]: filter chain needs a terminal network filter "
                    "(tcp_proxy)",
                    "t.yaml:8:86: listeners[0].filter_chains[1].tls.mode: mode is for a listener's tls; in "
                    "filter_chains add a chain with match: {transport_protocol: raw_buffer} for plaintext",
                    "t.yaml:9:16: listeners[0].filter_chains[1].match.transport_protocol: a chain with tls cannot "
                    "match raw_buffer",
                    "t.yaml:10:9: listeners[0].filter_chains[2]: filter chain needs a terminal network filter "
                    "(tcp_proxy)"}));
}

// A listener-level tls (or network filter) next to filter_chains would be
// silently ignored, leaving the port plaintext: refused, pointing at the chains.
TEST(TlsConfigTest, TlsOrFiltersBesideFilterChainsAreRefused) {
  const std::string head = "listeners:\n  - name: l\n    address: 127.0.0.1:0\n";
  const std::string chains =
      "    filter_chains:\n"
      "      - match: {transport_protocol: raw_buffer}\n"
      "        tcp_proxy: {cluster: c}\n";
  const std::string tls = "    tls: {certificates: [{cert_chain: /dev/null, private_key: /dev/null}]}\n";
  const std::string http =
      "    http:\n"
      "      route_config:\n"
      "        virtual_hosts: [{name: v, domains: [\"*\"], routes: [{match: {prefix: /}, route: {cluster: c}}]}]\n";
  const std::string why =
      "listeners[0].filter_chains: a listener with filter_chains takes its tls and network filters inside each chain";

  // The chains alone load: the errors below are about the key beside them.
  ASSERT_TRUE(loadString(head + chains + kClusters, "t.yaml").config);
  // The error points at the first chain, whether the key comes before or after filter_chains.
  EXPECT_EQ(errorsOf(head + tls + chains + kClusters), (Errors{"t.yaml:6:7: " + why}));
  EXPECT_EQ(errorsOf(head + chains + tls + kClusters), (Errors{"t.yaml:5:7: " + why}));
  EXPECT_EQ(errorsOf(head + http + chains + kClusters), (Errors{"t.yaml:8:7: " + why}));
}

TEST(TlsConfigTest, ClusterTls) {
  auto r = loadString(R"(listeners: []
clusters:
  - name: c
    tls:
      sni: b.example.com
      ca_bundle: /dev/null
      cert_chain: /dev/null
      private_key: /dev/null
      verify_subject_alt_names: [b.example.com]
      verify_spiffe_ids: ["spiffe://td/ns/b/sa/b"]
      alpn: [http/1.1]
    endpoints: [{address: 127.0.0.1:1}]
)");
  ASSERT_TRUE(r.config) << r.errorText();
  const auto& t = *r.config->clusters[0].tls;
  EXPECT_EQ(t.sni, "b.example.com");
  EXPECT_EQ(t.verify_spiffe_ids, (std::vector<std::string>{"spiffe://td/ns/b/sa/b"}));
  EXPECT_EQ(t.certificate, "cert:/dev/null,/dev/null");
  EXPECT_EQ(t.validation_context, "ca:/dev/null");
  EXPECT_EQ(toJson(r.config->clusters[0])["tls"]["certificate"], "cert:/dev/null,/dev/null");
  ASSERT_NE(r.config->findSecret(t.certificate), nullptr);
  EXPECT_EQ(r.config->findSecret(t.certificate)->private_key, "/dev/null");
  EXPECT_EQ(errorsOf(R"(clusters:
  - name: c
    tls: {cert_chain: /dev/null, verify_spiffe_ids: [spiffe://td/x/], sny: x}
    endpoints: [{address: 127.0.0.1:1}]
)"),
            (Errors{"t.yaml:3:10: clusters[0].tls: cert_chain and private_key go together",
                    "t.yaml:3:54: clusters[0].tls.verify_spiffe_ids[0]: invalid SPIFFE ID pattern 'spiffe://td/x/': "
                    "trailing slash",
                    "t.yaml:3:71: clusters[0].tls: unknown field 'sny'; did you mean 'sni'?"}));
}

// Certificate provider instances are for sluice-control's gRPC clients
// (tests/unit/control/control_config_test.cc): the proxy's own file refuses
// them, and the reader refuses what no gRPC client takes.
TEST(TlsConfigTest, CertificateProviderInstancesAreNotForTheProxy) {
  EXPECT_EQ(errorsOf(R"(clusters:
  - name: c
    tls: {ca_certificate_provider_instance: roots, certificate_provider_instance: me}
    endpoints: [{address: 127.0.0.1:1}]
)"),
            (Errors{"t.yaml:3:10: clusters[0].tls.ca_certificate_provider_instance: Sluice has no certificate "
                    "provider plugins (instances are for proxyless gRPC clients of sluice-control): give ca_bundle, "
                    "cert_chain and private_key, or certificate_secret"}));
  EXPECT_EQ(errorsOf(R"(clusters:
  - name: c
    tls: {certificate_provider_instance: me, ca_bundle: /dev/null, ca_certificate_provider_instance: ""}
    endpoints: [{address: 127.0.0.1:1}]
)"),
            (Errors{"t.yaml:3:10: clusters[0].tls.certificate_provider_instance: Sluice has no certificate provider "
                    "plugins (instances are for proxyless gRPC clients of sluice-control): give ca_bundle, "
                    "cert_chain and private_key, or certificate_secret",
                    "t.yaml:3:42: clusters[0].tls.certificate_provider_instance: certificate_provider_instance needs "
                    "ca_certificate_provider_instance: a gRPC client verifies the server only against a provider's "
                    "roots",
                    "t.yaml:3:57: clusters[0].tls.ca_bundle: give either certificate provider instances (for "
                    "proxyless gRPC clients) or secrets, not both",
                    "t.yaml:3:102: clusters[0].tls.ca_certificate_provider_instance: must not be empty"}));
}

// Inline paths become secrets named after their files ("cert:<chain>,<key>",
// "ca:<bundle>", as xDS would deliver them by name); TLS blocks name them, and
// files used by several blocks are one secret.
TEST(TlsConfigTest, InlinePathsAreLiftedIntoNamedSecrets) {
  auto r = loadString(R"(listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - match: {server_names: [a.example.com]}
        tls:
          certificates:
            - {cert_chain: /dev/null, private_key: /dev/zero}
            - {cert_chain: /dev/zero, private_key: /dev/null}
          ca_bundle: /dev/null
        tcp_proxy: {cluster: c}
      - tls: {certificates: [{cert_chain: /dev/null, private_key: /dev/zero}]}
        tcp_proxy: {cluster: c}
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
    tls: {ca_bundle: /dev/null, cert_chain: /dev/zero, private_key: /dev/null}
)");
  ASSERT_TRUE(r.config) << r.errorText();
  const Config& cfg = *r.config;
  const auto& first = *cfg.listeners[0].filter_chains[0].tls;
  EXPECT_EQ(first.certificates, (std::vector<std::string>{"cert:/dev/null,/dev/zero", "cert:/dev/zero,/dev/null"}));
  EXPECT_EQ(first.validation_context, "ca:/dev/null");
  const auto& second = *cfg.listeners[0].filter_chains[1].tls;
  EXPECT_EQ(second.certificates, (std::vector<std::string>{"cert:/dev/null,/dev/zero"}));
  EXPECT_EQ(second.validation_context, "");
  EXPECT_EQ(cfg.clusters[0].tls->certificate, "cert:/dev/zero,/dev/null");
  EXPECT_EQ(cfg.clusters[0].tls->validation_context, "ca:/dev/null");

  // One secret per pair of files, in the order first used.
  ASSERT_EQ(cfg.secrets.size(), 3u);
  EXPECT_EQ(cfg.secrets[0].name, "cert:/dev/null,/dev/zero");
  EXPECT_EQ(cfg.secrets[1].name, "cert:/dev/zero,/dev/null");
  EXPECT_EQ(cfg.secrets[2].name, "ca:/dev/null");
  const SecretSpec* cert = cfg.findSecret("cert:/dev/zero,/dev/null");
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(cert->kind, SecretSpec::Kind::TlsCertificate);
  EXPECT_EQ(cert->cert_chain, "/dev/zero");
  EXPECT_EQ(cert->private_key, "/dev/null");
  const SecretSpec* ca = cfg.findSecret("ca:/dev/null");
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(ca->kind, SecretSpec::Kind::ValidationContext);
  EXPECT_EQ(ca->trusted_ca, "/dev/null");
  EXPECT_EQ(toJson(cfg)["secrets"][2],
            nlohmann::json::parse(R"({"name": "ca:/dev/null", "validation_context": {"trusted_ca": "/dev/null"}})"));
}

// A ',' inside a path is escaped in the name, so the bare ',' always
// separates the chain from the key and two pairs never share a name.
TEST(TlsConfigTest, SecretNamesEscapeTheSeparator) {
  const std::string dir = ::testing::TempDir() + "sluice-tls-names";
  ::mkdir(dir.c_str(), 0700);
  for (const char* f : {"/a,b", "/c\\d"}) std::ofstream(dir + f) << "x";
  auto r = loadString("clusters:\n  - name: c\n    endpoints: [{address: 127.0.0.1:1}]\n"
                      "    tls: {cert_chain: '" + dir + "/a,b', private_key: '" + dir + "/c\\d'}\n");
  ASSERT_TRUE(r.config) << r.errorText();
  EXPECT_EQ(r.config->clusters[0].tls->certificate, "cert:" + dir + "/a\\,b," + dir + "/c\\\\d");
  ASSERT_NE(r.config->findSecret(r.config->clusters[0].tls->certificate), nullptr);
  EXPECT_EQ(r.config->secrets[0].cert_chain, dir + "/a,b");
}

}  // namespace
}  // namespace sluice::config
