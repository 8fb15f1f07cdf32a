// The TLS parts of the config: listener tls (shorthand, modes), filter
// chains and their matches, cluster tls; every error names
// file:line:col: path; the JSON form carries paths, never key material.
#include <gtest/gtest.h>

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
  EXPECT_EQ(j["tls"]["certificates"][0]["private_key"], "/dev/null");
  EXPECT_EQ(j["tls"]["mode"], "strict");
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
  EXPECT_EQ(toJson(r.config->clusters[0])["tls"]["private_key"], "/dev/null");
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

}  // namespace
}  // namespace sluice::config
