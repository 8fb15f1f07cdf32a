// A cluster's `protocol` (http1 | http2 | auto) with the ALPN it makes a TLS
// cluster offer, and the HTTP/2 health checks (http.codec, grpc): parsing,
// defaults, errors, and what /config_dump shows.
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
using Alpn = std::vector<std::string>;

// One cluster; `body` (cluster-level keys, 4-space indent) starts on line 4
// so its keys sit at column 5.
std::string oneCluster(const std::string& body) {
  return "clusters:\n"
         "  - name: c\n"
         "    endpoints: [{address: 127.0.0.1:1}]\n" +
         body;
}

TEST(ClusterProtocolTest, DefaultIsHttp1) {
  auto cfg = loadOk(oneCluster(""));
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->clusters[0].protocol, UpstreamProtocol::Http1);
  EXPECT_EQ(toJson(cfg->clusters[0])["protocol"], "http1");
  EXPECT_FALSE(toJson(cfg->clusters[0]).contains("http2"));
}

TEST(ClusterProtocolTest, AutoOnTlsOffersH2ThenHttp11) {
  auto cfg = loadOk(oneCluster("    protocol: auto\n    tls: {sni: up.local}\n"));
  ASSERT_NE(cfg, nullptr);
  const ClusterConfig& c = cfg->clusters[0];
  EXPECT_EQ(c.protocol, UpstreamProtocol::Auto);
  EXPECT_EQ(c.tls->alpn, (Alpn{"h2", "http/1.1"}));
  const auto j = toJson(c);
  EXPECT_EQ(j["protocol"], "auto");
  EXPECT_EQ(j["tls"]["alpn"], (Alpn{"h2", "http/1.1"}));
  EXPECT_TRUE(j.contains("http2")) << "auto may speak HTTP/2: its settings apply";
}

TEST(ClusterProtocolTest, AutoKeepsAnAlpnListTheTlsBlockGives) {
  auto cfg = loadOk(oneCluster("    protocol: auto\n    tls: {alpn: [http/1.1]}\n"));
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->clusters[0].tls->alpn, (Alpn{"http/1.1"}));
}

// Documented: without TLS there is nothing to negotiate; auto is accepted
// and speaks HTTP/1.1 (the proxy's pool choice), the config keeps "auto".
TEST(ClusterProtocolTest, AutoWithoutTlsIsAccepted) {
  auto cfg = loadOk(oneCluster("    protocol: auto\n"));
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->clusters[0].protocol, UpstreamProtocol::Auto);
  EXPECT_FALSE(cfg->clusters[0].tls);
  EXPECT_EQ(toJson(cfg->clusters[0])["protocol"], "auto");
}

TEST(ClusterProtocolTest, Http2OnTlsOffersH2) {
  auto cfg = loadOk(oneCluster("    protocol: http2\n    tls: {}\n"));
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->clusters[0].tls->alpn, (Alpn{"h2"}));
  EXPECT_EQ(toJson(cfg->clusters[0])["protocol"], "http2");
}

TEST(ClusterProtocolTest, UnknownProtocolIsAnError) {
  EXPECT_EQ(errorsOf(oneCluster("    protocol: h3\n")),
            (Errors{"t.yaml:4:15: clusters[0].protocol: must be http1, http2 or auto"}));
}

TEST(HealthCheckCodecTest, HttpCodecDefaultsToHttp1) {
  auto cfg = loadOk(oneCluster("    health_check: {http: {}}\n"));
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->clusters[0].health_check->http->codec, HealthCheckConfig::Codec::Http1);
  EXPECT_EQ(toJson(cfg->clusters[0])["health_check"]["http"]["codec"], "http1");
}

TEST(HealthCheckCodecTest, HttpCodecHttp2) {
  auto cfg = loadOk(oneCluster("    health_check: {http: {path: /ready, codec: http2}}\n"));
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->clusters[0].health_check->http->codec, HealthCheckConfig::Codec::Http2);
  EXPECT_EQ(toJson(cfg->clusters[0])["health_check"]["http"]["codec"], "http2");
}

TEST(HealthCheckCodecTest, UnknownCodecIsAnError) {
  EXPECT_EQ(errorsOf(oneCluster("    health_check: {http: {codec: h2c}}\n")),
            (Errors{"t.yaml:4:34: clusters[0].health_check.http.codec: must be http1 or http2"}));
}

TEST(HealthCheckCodecTest, Http2CheckOfATlsClusterNeedsH2InItsAlpn) {
  EXPECT_EQ(errorsOf(oneCluster("    tls: {}\n    health_check: {http: {codec: http2}}\n")),
            (Errors{"t.yaml:5:26: clusters[0].health_check.http: an HTTP/2 check of a TLS cluster needs h2 in "
                    "tls.alpn (protocol http2 and auto offer it)"}));
  EXPECT_EQ(errorsOf(oneCluster("    tls: {alpn: [http/1.1]}\n    health_check: {grpc: {}}\n")),
            (Errors{"t.yaml:5:26: clusters[0].health_check.grpc: an HTTP/2 check of a TLS cluster needs h2 in "
                    "tls.alpn (protocol http2 and auto offer it)"}));
  EXPECT_NE(loadOk(oneCluster("    protocol: auto\n    tls: {}\n    health_check: {http: {codec: http2}}\n")), nullptr);
  EXPECT_NE(loadOk(oneCluster("    health_check: {http: {codec: http2}}\n")), nullptr) << "plaintext: prior knowledge";
}

TEST(GrpcHealthCheckTest, Fields) {
  auto cfg = loadOk(oneCluster(R"(    protocol: http2
    health_check:
      interval: 1s
      grpc: {service_name: echo.Echo, authority: echo.internal}
)"));
  ASSERT_NE(cfg, nullptr);
  const HealthCheckConfig& hc = *cfg->clusters[0].health_check;
  ASSERT_TRUE(hc.grpc);
  EXPECT_FALSE(hc.http);
  EXPECT_FALSE(hc.tcp);
  EXPECT_EQ(hc.grpc->service_name, "echo.Echo");
  EXPECT_EQ(hc.grpc->authority, "echo.internal");
  const auto j = toJson(cfg->clusters[0])["health_check"]["grpc"];
  EXPECT_EQ(j["service_name"], "echo.Echo");
  EXPECT_EQ(j["authority"], "echo.internal");
}

TEST(GrpcHealthCheckTest, EmptyBlockChecksTheWholeServer) {
  auto cfg = loadOk(oneCluster("    health_check: {grpc: }\n"));
  ASSERT_NE(cfg, nullptr);
  ASSERT_TRUE(cfg->clusters[0].health_check->grpc);
  EXPECT_EQ(cfg->clusters[0].health_check->grpc->service_name, "");
  EXPECT_EQ(cfg->clusters[0].health_check->grpc->authority, "");
}

TEST(GrpcHealthCheckTest, Errors) {
  EXPECT_EQ(errorsOf(oneCluster("    health_check: {grpc: {service: x}}\n")),
            (Errors{"t.yaml:4:27: clusters[0].health_check.grpc: unknown field 'service'"}));
  EXPECT_EQ(errorsOf(oneCluster("    health_check: {grpc: {}, http: {}}\n")),
            (Errors{"t.yaml:4:19: clusters[0].health_check: give exactly one of http, tcp, grpc"}));
}

}  // namespace
}  // namespace sluice::config
