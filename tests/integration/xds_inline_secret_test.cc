// A TLS listener over xDS whose certificate is an inline SDS secret
// (`default`, PEM in the resource): a new version of the secret with other
// PEM under the same name swaps the certificate for new handshakes, while
// the listener keeps its socket and a transfer started before completes.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/integration/support/ads_server.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/tls_setup.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json tlsListener(const std::string& cluster) {
  const json hcm = {
      {"@type", "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"},
      {"stat_prefix", "in"},
      {"route_config",
       {{"name", "in"},
        {"virtual_hosts", json::array({{{"name", "all"},
                                        {"domains", json::array({"*"})},
                                        {"routes", json::array({{{"match", {{"prefix", "/"}}},
                                                                 {"route", {{"cluster", cluster}}}}})}}})}}},
      {"http_filters", json::array({{{"name", "envoy.filters.http.router"},
                                     {"typed_config",
                                      {{"@type", "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}}}})}};
  const json tls = {
      {"@type", "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"},
      {"common_tls_context",
       {{"tls_certificate_sds_secret_configs", json::array({{{"name", "default"}, {"sds_config", {{"ads", json::object()}}}}})}}}};
  return {{"@type", "type.googleapis.com/envoy.config.listener.v3.Listener"},
          {"name", "inbound"},
          {"address", {{"socket_address", {{"address", "127.0.0.1"}, {"port_value", 0}}}}},
          {"filter_chains",
           json::array({{{"filters", json::array({{{"name", "envoy.filters.network.http_connection_manager"},
                                                   {"typed_config", hcm}}})},
                         {"transport_socket", {{"name", "envoy.transport_sockets.tls"}, {"typed_config", tls}}}}})}};
}

json staticCluster(const std::string& name, uint16_t port) {
  return {{"@type", "type.googleapis.com/envoy.config.cluster.v3.Cluster"},
          {"name", name},
          {"type", "STATIC"},
          {"connect_timeout", {{"seconds", 1}}},
          {"load_assignment",
           {{"cluster_name", name},
            {"endpoints",
             json::array({{{"lb_endpoints",
                            json::array({{{"endpoint",
                                           {{"address", {{"socket_address",
                                                          {{"address", "127.0.0.1"}, {"port_value", port}}}}}}}}})}}})}}}};
}

json inlineSecret(const std::string& stem) {
  return {{"@type", "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"},
          {"name", "default"},
          {"tls_certificate",
           {{"certificate_chain", {{"inline_string", readFile(pkiPath(stem + ".crt"))}}},
            {"private_key", {{"inline_string", readFile(pkiPath(stem + ".key"))}}}}}};
}

TEST(XdsInlineSecret, NewPemUnderTheSameNameSwapsWithoutADrain) {
  ASSERT_TRUE(pki().ok()) << pki().dir();
  constexpr uint64_t kBytes = 6 << 20;
  HttpUpstream app(hugeResponse(5, kBytes));
  AdsServerProcess ads;
  ASSERT_TRUE(ads.start());
  ASSERT_TRUE(ads.set("Cluster", "c1", json::array({staticCluster("app", app.port())})));
  ASSERT_TRUE(ads.set("Listener", "l1", json::array({tlsListener("app")})));
  ASSERT_TRUE(ads.set("Secret", "s1", json::array({inlineSecret("server")})));
  ProxyProcess proxy("admin: {address: 127.0.0.1:0}\nworkers: 1\ndynamic:\n  ads:\n    address: " + ads.address() +
                     "\n    node: {id: test-1, cluster: edge, locality: {region: r1, zone: z1}}\n");
  ASSERT_TRUE(proxy.start());
  const auto port = proxy.waitListener("inbound", 10s);
  ASSERT_TRUE(port) << proxy.stderrText();
  EXPECT_EQ(sClient(*port, "localhost").subject, "CN = localhost");

  const TempDir files;
  const std::string out = files.path() + "/curl.out", err = files.path() + "/curl.err";
  const pid_t pid = spawnCommand({"curl", "-sS", "--max-time", "30", "--limit-rate", "2M", "--cacert",
                                  pkiPath("root.crt"), "--resolve", "localhost:" + std::to_string(*port) + ":127.0.0.1",
                                  "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                  "https://localhost:" + std::to_string(*port) + "/big"},
                                 out, err);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(waitUntil([&] { return app.requestCount() >= 1; }, 5s));

  ASSERT_TRUE(ads.set("Secret", "s2", json::array({inlineSecret("server-new")})));
  ASSERT_TRUE(ads.waitAck("Secret", "s2")) << proxy.stderrText();
  EXPECT_EQ(sClient(*port, "localhost").subject, "CN = localhost-rotated");
  EXPECT_EQ(proxy.listenerPort("inbound"), port) << "the same socket: nothing was rebound";
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "the transfer ended before the swap was checked";
  ASSERT_TRUE(waitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 30s)) << readFile(err);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << readFile(err);
  EXPECT_EQ(readFile(out), "200 " + std::to_string(kBytes)) << readFile(err);

  // A key that does not match its certificate is NACKed; the rotated one serves on.
  json bad = inlineSecret("server-new");
  bad["tls_certificate"]["private_key"]["inline_string"] = readFile(pkiPath("client.key"));
  ASSERT_TRUE(ads.set("Secret", "s3", json::array({bad})));
  AdsRequest nack;
  EXPECT_TRUE(ads.waitNack("Secret", &nack)) << proxy.stderrText();
  EXPECT_NE(nack.error.find("listeners[0]"), std::string::npos) << nack.error;
  EXPECT_EQ(sClient(*port, "localhost").subject, "CN = localhost-rotated");
  // /config_dump never shows the key.
  const std::string dump = proxy.get("/config_dump").body;
  EXPECT_EQ(dump.find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace sluice::itest
