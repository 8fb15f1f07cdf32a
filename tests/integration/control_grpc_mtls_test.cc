// A proxyless gRPC client talks mTLS to a Sluice sidecar, every certificate
// from sluice-control's CA. The client (@grpc/grpc-js-xds with
// XdsChannelCredentials) reads its certificate, key and roots with the
// `file_watcher` provider of its bootstrap; the files come from a CSR made
// by `openssl req` and sent to the CA by an independent Node client. The
// sidecar (the real `sluice`) gets its own certificate from its certificate
// agent, requires client certificates from the mesh CA and lets only the
// client's SPIFFE ID through (authz) to a Node gRPC server. sluice-control
// serves the client a cluster naming the provider instances (gRFC A29)
// with the sidecar's SPIFFE ID to check. A client with another ID is
// denied; one without a certificate fails the handshake.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/daemon_process.h"
#include "tests/integration/support/grpc_node.h"
#include "tests/integration/support/node_upstream.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kTrustDomain = "mesh.test";
constexpr const char* kClientId = "spiffe://mesh.test/ns/default/sa/grpc-client";
constexpr const char* kSidecarId = "spiffe://mesh.test/ns/default/sa/echo";

// Two groups of gRPC clients on the same sidecar: "grpc" presents the
// client certificate, "grpc-anon" verifies the sidecar only.
std::string controlYaml(const std::string& dir, const std::string& token_key, const std::string& sidecar) {
  auto group = [&](const std::string& name, const std::string& tls) {
    return "  - name: " + name + "\n    match: {cluster: " + name + R"(}
    route_configs:
      - name: echo
        virtual_hosts:
          - {name: echo, domains: [echo], routes: [{match: {prefix: /}, route: {cluster: echo}}]}
    clusters:
      - name: echo
        connect_timeout: 2s
        protocol: http2
        tls: {)" +
           tls + R"(verify_spiffe_ids: [")" + kSidecarId + R"("]}
        endpoints: [{address: )" +
           sidecar + "}]\n";
  };
  return "ads: {address: 127.0.0.1:0}\nadmin: {address: 127.0.0.1:0}\ndebounce: 20ms\nwatch_interval: 50ms\n"
         "ca:\n  trust_domain: " +
         std::string(kTrustDomain) + "\n  dir: " + dir + "/ca\n  token_keys: [" + token_key +
         "]\n  address: 127.0.0.1:0\ngroups:\n" +
         group("grpc", "ca_certificate_provider_instance: mesh, certificate_provider_instance: mesh, ") +
         group("grpc-anon", "ca_certificate_provider_instance: mesh, ");
}

std::string sidecarYaml(const std::string& ca_address, const std::string& token_file, const std::string& root,
                        const std::string& app, const std::string& access_log) {
  return R"(admin: {address: 127.0.0.1:0}
workers: 1
dynamic:
  ca: {address: )" +
         ca_address + ", root_file: " + root + ", token_file: " + token_file + R"(, ttl: 1h}
listeners:
  - name: inbound
    address: 127.0.0.1:0
    tls:
      certificates: [{secret: default}]
      ca_bundle: )" +
         root + R"(
      require_client_cert: true
    http:
      codec: auto
      access_log: {path: )" +
         access_log + R"(, format: json}
      http_filters:
        - authz:
            stat_prefix: inbound
            default_action: deny
            rules: [{name: grpc-client, action: allow, principals: [{spiffe_id: {exact: ")" +
         kClientId + R"("}}]}]
      route_config:
        virtual_hosts: [{name: app, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app}}]}]
clusters:
  - name: app
    protocol: http2
    endpoints: [{address: )" +
         app + "}]\n";
}

// A proxyless client's bootstrap: the control plane, its node, and one
// `file_watcher` certificate provider instance "mesh".
std::string bootstrap(const std::string& ads, const std::string& node_cluster, const json& files) {
  json provider = files;
  provider["refresh_interval"] = "60s";
  return json{
      {"xds_servers",
       {{{"server_uri", ads}, {"channel_creds", {{{"type", "insecure"}}}}, {"server_features", json::array()}}}},
      {"node", {{"id", node_cluster + "-1"}, {"cluster", node_cluster}, {"locality", {{"region", "r1"}}}}},
      {"certificate_providers", {{"mesh", {{"plugin_name", "file_watcher"}, {"config", provider}}}}}}
      .dump();
}

json lastJsonLine(const std::string& out) {
  const size_t end = out.find_last_not_of('\n');
  if (end == std::string::npos) return json();
  const size_t start = out.rfind('\n', end);
  return json::parse(out.substr(start == std::string::npos ? 0 : start + 1, end + 1), nullptr, false);
}

class ControlGrpcMtlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(haveGrpcNodeDeps());
    ASSERT_TRUE(haveExecutable("openssl"));
    ASSERT_TRUE(echo_.start());
    key_ = dir_.write("token.key", "a-mesh-operator-key-of-enough-length\n");
  }

  std::string token(const std::string& sa) {
    const CommandResult r = runCommand(
        {SLUICE_CONTROL_BIN, "token", "--key", key_, "--namespace", "default", "--service-account", sa}, 10s);
    EXPECT_TRUE(exitedWith(r.status, 0)) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  // A workload's files as its certificate agent would keep them: a key and
  // CSR by openssl, the chain and trust bundle from the CA.
  json issue(const ControlDaemonProcess& control, const std::string& sa) {
    const std::string base = dir_.path() + "/" + sa;
    const CommandResult req =
        runCommand({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=" + sa},
                   20s);
    EXPECT_TRUE(exitedWith(req.status, 0)) << req.err;
    std::vector<std::string> argv = nodeScript("ca_client.js");
    argv.insert(argv.end(), {control.caAddress(), dir_.path() + "/ca/root.pem", base + ".csr", token(sa)});
    const CommandResult r = runCommand(argv, 30s);
    const json reply = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(reply.is_object() && reply["code"] == 0) << r.out << r.err;
    if (!reply.is_object() || reply["code"] != 0) return json();
    std::string chain, roots;
    for (const auto& pem : reply["cert_chain"]) chain += pem.get<std::string>();
    for (const auto& pem : reply["trust_bundle"]) roots += pem.get<std::string>();
    return {{"certificate_file", dir_.write(sa + ".pem", chain)},
            {"private_key_file", base + ".key"},
            {"ca_certificate_file", dir_.write(sa + "-roots.pem", roots)}};
  }

  json call(const std::string& bootstrap_json, const std::string& name, int n) {
    std::vector<std::string> argv = nodeScript("daemon_grpc_proxyless.js");
    argv.insert(argv.begin() + 1, "GRPC_XDS_BOOTSTRAP=" + dir_.write(name + "-bootstrap.json", bootstrap_json));
    argv.insert(argv.end(), {"--xds-creds", "count", "xds:///echo", std::to_string(n)});
    const CommandResult r = runCommand(argv, 60s);
    EXPECT_TRUE(exitedWith(r.status, 0)) << r.out << r.err;
    const json out = lastJsonLine(r.out);
    EXPECT_TRUE(out.is_object()) << r.out << r.err;
    return out.is_object() ? out : json{{"ok", -1}};
  }

  TempDir dir_;
  NodeUpstream echo_{"daemon_grpc_echo.js", {"echo"}};
  std::string key_;
};

TEST_F(ControlGrpcMtlsTest, FileWatcherCertificatesFromTheMeshCaTalkMtlsToASidecar) {
  // The sidecar's address is known once it runs, and it needs the CA
  // running first: the daemon starts with a placeholder and is edited.
  ControlDaemonProcess control(controlYaml(dir_.path(), key_, "127.0.0.1:1"));
  ASSERT_TRUE(control.start());
  const std::string access_log = dir_.path() + "/access.log";
  ProxyProcess sidecar(sidecarYaml(control.caAddress(), dir_.write("echo.token", token("echo") + "\n"),
                                   dir_.path() + "/ca/root.pem", echo_.address(), access_log));
  ASSERT_TRUE(sidecar.start());
  const auto port = sidecar.waitListener("inbound", 15s);
  ASSERT_TRUE(port) << "the sidecar got no certificate from the CA:\n" << sidecar.stderrText();
  control.writeConfig(controlYaml(dir_.path(), key_, "127.0.0.1:" + std::to_string(*port)));
  ASSERT_TRUE(control.waitMetricEq("sluice_control_config_reloads_total", {}, 1));

  const json files = issue(control, "grpc-client");
  ASSERT_TRUE(files.is_object());
  const json out = call(bootstrap(control.adsAddress(), "grpc", files), "client", 5);
  EXPECT_EQ(out["ok"], 5) << out.dump();
  EXPECT_EQ(out["by_server"], json({{"echo", 5}})) << out.dump();
  // The sidecar verified the client's certificate and saw its SPIFFE ID.
  const auto entry = waitJsonEntry(access_log, "downstream_peer_uri_san", kClientId);
  ASSERT_TRUE(entry) << readFile(access_log);
  EXPECT_EQ(field(*entry, "status"), "200");
  EXPECT_TRUE(sidecar.waitMetricEq("sluice_authz_decisions_total",
                                   {{"stat_prefix", "inbound"}, {"action", "allow"}, {"rule", "grpc-client"}}, 5));
  EXPECT_EQ(control.metric("sluice_control_nacks_total", {{"type", "Cluster"}}).value_or(-1), 0);

  // Another workload of the mesh: its certificate verifies, its ID is not allowed.
  const json other = call(bootstrap(control.adsAddress(), "grpc", issue(control, "other")), "other", 2);
  EXPECT_EQ(other["ok"], 0) << other.dump();
  ASSERT_FALSE(other["errors"].empty()) << other.dump();
  EXPECT_EQ(other["errors"][0].get<std::string>().rfind("7 ", 0), 0u) << "PERMISSION_DENIED: " << other.dump();
  EXPECT_TRUE(sidecar.waitMetricEq("sluice_authz_decisions_total",
                                   {{"stat_prefix", "inbound"}, {"action", "deny"}, {"rule", "default"}}, 2));

  // No client certificate: the sidecar refuses the handshake.
  json roots_only = {{"ca_certificate_file", files["ca_certificate_file"]}};
  const json anon = call(bootstrap(control.adsAddress(), "grpc-anon", roots_only), "anon", 2);
  EXPECT_EQ(anon["ok"], 0) << anon.dump();
  ASSERT_FALSE(anon["errors"].empty()) << anon.dump();
  EXPECT_EQ(anon["errors"][0].get<std::string>().rfind("14 ", 0), 0u) << "UNAVAILABLE: " << anon.dump();
  EXPECT_TRUE(sidecar.waitMetricAtLeast("sluice_listener_downstream_cx_tls_handshake_failed_total",
                                        {{"listener", "inbound"}}, 1));
}

}  // namespace
}  // namespace sluice::itest
