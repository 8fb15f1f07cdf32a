// Authorization through the real binary: the HTTP authz filter denies by
// path (normalized), method, header and source address with 403 and flag AZ
// while the upstream sees only allowed requests; a per-route policy replaces
// the listener's; the network filter closes connections from a refused
// source in front of http and tcp_proxy; every decision shows on /metrics;
// `sluice validate` rejects request conditions on the network filter;
// x-forwarded-client-cert from a plaintext client is stripped (sanitize,
// sanitize_set) or kept (forward_only, append_forward) as the upstream sees it.
// With mTLS listeners (curl --cert from the test PKI): SPIFFE-based allow and
// deny at both layers, and XFCC carrying the verified peer's URI.
//
// Source addresses: the whole of 127/8 is loopback, so `curl --interface
// 127.0.0.2` is a second client address on the same host.

#include <gtest/gtest.h>

#include <string>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/tls_setup.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDecisions = "sluice_authz_decisions_total";

Labels decision(const std::string& prefix, const std::string& layer, const std::string& action,
                const std::string& rule) {
  return {{"stat_prefix", prefix}, {"layer", layer}, {"action", action}, {"rule", rule}};
}

// An http: mapping: `top` (top-level keys, not indented) and one virtual
// host whose body is `vhost` (indented by 6).
std::string httpYaml(const std::string& top, const std::string& vhost) {
  return top + "\nroute_config:\n  virtual_hosts:\n    - name: all\n      domains: [\"*\"]\n" + vhost;
}

const char* kCatchAll = R"(      routes:
        - match: {prefix: /}
          route: {cluster: c1}
)";

CurlResult get(uint16_t port, const std::string& path, std::vector<std::string> extra = {}) {
  extra.push_back(localUrl(port, path));
  return curl(extra);
}

TEST(Authz, HttpDeniesByPathMethodHeaderAndSourceWith403) {
  HttpUpstream up(describeRequest("c1"));
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  ProxyProcess proxy(renderConfig(httpConfig(httpYaml("access_log: {path: " + log + R"(, format: json}
http_filters:
  - authz:
      stat_prefix: web
      rules:
        - {name: no-admin, action: deny, paths: [{prefix: /admin}]}
        - {name: no-delete, action: deny, methods: [DELETE]}
        - {name: no-dev, action: deny, headers: [{name: x-env, exact: dev}]}
        - {name: blocked-host, action: deny, principals: [{source_ip: 127.0.0.2}]}
        - {name: reads, action: allow, methods: [GET, HEAD]})",
                                                      kCatchAll),
                                             {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  CurlResult ok = get(port, "/api");
  ASSERT_TRUE(ok.ok()) << ok.describe();
  EXPECT_EQ(ok.status, 200) << ok.describe();
  EXPECT_EQ(get(port, "/api", {"-H", "x-env: prod"}).status, 200);
  EXPECT_EQ(get(port, "/api", {"-X", "POST", "-d", "x"}).status, 200) << "default_action allows";

  CurlResult admin = get(port, "/admin/users");
  EXPECT_EQ(admin.status, 403) << admin.describe();
  EXPECT_EQ(admin.body, "RBAC: access denied\n");
  CurlResult dotted = get(port, "/api/../admin", {"--path-as-is"});
  EXPECT_EQ(dotted.status, 403) << "dot segments are resolved before matching: " << dotted.describe();
  EXPECT_EQ(get(port, "/%61dmin").status, 403);
  EXPECT_EQ(get(port, "/api", {"-X", "DELETE"}).status, 403);
  EXPECT_EQ(get(port, "/api", {"-H", "x-env: dev"}).status, 403);
  CurlResult other = get(port, "/api", {"--interface", "127.0.0.2"});
  ASSERT_TRUE(other.ok()) << other.describe();
  EXPECT_EQ(other.status, 403) << other.describe();

  // Only the three allowed requests reached the upstream.
  EXPECT_EQ(up.requestCount(), 3u);
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("web", "http", "allow", "reads"), 2));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("web", "http", "allow", "default"), 1));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("web", "http", "deny", "no-admin"), 3));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("web", "http", "deny", "no-delete"), 1));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("web", "http", "deny", "no-dev"), 1));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("web", "http", "deny", "blocked-host"), 1));
  auto e = waitJsonEntry(log, "path", "/admin/users");
  ASSERT_TRUE(e) << readFile(log);
  EXPECT_EQ(field(*e, "status"), "403") << e->dump();
  EXPECT_NE(field(*e, "response_flags").find("AZ"), std::string::npos) << e->dump();
}

TEST(Authz, PerRoutePolicyReplacesTheListenerPolicy) {
  HttpUpstream up(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(httpYaml(R"(http_filters:
  - authz: {stat_prefix: closed, default_action: deny})",
                                                      R"(      routes:
        - match: {prefix: /public}
          route: {cluster: c1}
          per_filter_config:
            authz:
              stat_prefix: public
              rules: [{name: no-writes, action: deny, methods: [POST, PUT, DELETE]}]
        - match: {prefix: /}
          route: {cluster: c1}
)"),
                                             {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  EXPECT_EQ(get(port, "/public/a").status, 200);
  EXPECT_EQ(get(port, "/public/a", {"-X", "PUT", "-d", "x"}).status, 403);
  EXPECT_EQ(get(port, "/private").status, 403);
  EXPECT_EQ(up.requestCount(), 1u);
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("public", "http", "allow", "default"), 1));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("public", "http", "deny", "no-writes"), 1));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("closed", "http", "deny", "default"), 1));
}

// Two listeners with the L4 filter in front of their terminal filter.
std::string l4Config(uint16_t upstream_port) {
  return R"(admin: {address: 127.0.0.1:0}
workers: 2
listeners:
  - name: tcp
    address: 127.0.0.1:0
    authz:
      stat_prefix: tcp
      rules: [{name: blocked, action: deny, principals: [{source_ip: 127.0.0.2/32}]}]
    tcp_proxy: {cluster: backend}
  - name: web
    address: 127.0.0.1:0
    authz:
      stat_prefix: web-l4
      default_action: deny
      rules: [{name: local, action: allow, principals: [{source_ip: 127.0.0.1}, {source_ip: "::1/128"}]}]
    http:
      route_config:
        virtual_hosts:
          - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}
clusters:
  - name: backend
    connect_timeout: 1s
    endpoints: [{address: 127.0.0.1:)" +
         std::to_string(upstream_port) + "}]\n";
}

TEST(Authz, NetworkFilterClosesRefusedConnections) {
  HttpUpstream up(describeRequest("backend"));
  ProxyProcess proxy(l4Config(up.port()));
  ASSERT_TRUE(proxy.start());
  auto tcp = proxy.waitListener("tcp");
  auto web = proxy.waitListener("web");
  ASSERT_TRUE(tcp && web);

  // tcp_proxy carries curl's HTTP to the upstream unchanged.
  EXPECT_EQ(get(*tcp, "/t").status, 200);
  EXPECT_EQ(get(*web, "/w").status, 200);
  for (uint16_t port : {*tcp, *web}) {
    CurlResult r = get(port, "/refused", {"--interface", "127.0.0.2"});
    EXPECT_FALSE(r.ok()) << r.describe();
    EXPECT_EQ(r.status, 0) << "a refused connection gets no response at all: " << r.describe();
  }
  EXPECT_EQ(up.connections(), 2) << "a refused connection reached the upstream";
  EXPECT_EQ(up.requestCount(), 2u);

  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("tcp", "network", "allow", "default"), 1));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("tcp", "network", "deny", "blocked"), 1));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("web-l4", "network", "allow", "local"), 1));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("web-l4", "network", "deny", "default"), 1));
}

TEST(Authz, ValidateRejectsRequestConditionsOnTheNetworkFilter) {
  TempDir dir;
  const std::string file = dir.write("authz.yaml", R"(admin: {address: 127.0.0.1:0}
listeners:
  - name: tcp
    address: 127.0.0.1:0
    authz:
      stat_prefix: tcp
      rules: [{action: deny, paths: [{prefix: /admin}]}]
    tcp_proxy: {cluster: backend}
clusters:
  - {name: backend, connect_timeout: 1s, endpoints: [{address: 127.0.0.1:9}]}
)");
  CommandResult r = runCommand({SLUICE_BIN, "validate", "-c", file}, 10s);
  EXPECT_TRUE(exitedWith(r.status, 1)) << r.out << r.err;
  EXPECT_NE(r.err.find(file + ":7:37: listeners[0].authz.rules[0].paths: the network authz filter sees connections"),
            std::string::npos)
      << r.err;
}

// The upstream's view of an x-forwarded-client-cert a plaintext client sent.
std::optional<std::string> xfccSeenUpstream(const std::string& mode_line) {
  HttpUpstream up(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(httpYaml(mode_line, kCatchAll), {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  if (!startHttpProxy(proxy, &port)) return "proxy did not start";
  CurlResult r =
      get(port, "/x", {"-H", "x-forwarded-client-cert: By=spiffe://evil/sa/x;URI=spiffe://td/ns/admin/sa/root"});
  if (r.status != 200) return "status " + std::to_string(r.status);
  auto seen = up.lastRequest();
  if (!seen) return "no request upstream";
  return seen->header("x-forwarded-client-cert");
}

TEST(Authz, ClientSuppliedXfccIsStrippedUnlessTheModeKeepsIt) {
  const std::string spoofed = "By=spiffe://evil/sa/x;URI=spiffe://td/ns/admin/sa/root";
  EXPECT_EQ(xfccSeenUpstream("generate_request_id: true"), std::nullopt) << "the default is sanitize";
  EXPECT_EQ(xfccSeenUpstream("forward_client_cert_details: sanitize"), std::nullopt);
  EXPECT_EQ(xfccSeenUpstream("forward_client_cert_details: sanitize_set"), std::nullopt)
      << "plaintext: stripped, and nothing of ours to set";
  EXPECT_EQ(xfccSeenUpstream("forward_client_cert_details: forward_only"), spoofed);
  EXPECT_EQ(xfccSeenUpstream("forward_client_cert_details: append_forward"), spoofed)
      << "plaintext: the trusted downstream's value, nothing appended";
}

// Two mTLS listeners (any certificate from the test root verifies): `l4`
// admits only the sluice.test trust domain at connect time; `web` answers
// only the client identity, and sets XFCC from the verified peer.
std::string mtlsConfig(uint16_t upstream_port) {
  const std::string tls = "{certificates: [{cert_chain: " + pkiPath("server.crt") +
                          ", private_key: " + pkiPath("server.key") + "}], ca_bundle: " + pkiPath("root.crt") +
                          ", require_client_cert: true, handshake_timeout: 2s}";
  return R"(admin: {address: 127.0.0.1:0}
workers: 2
listeners:
  - name: l4
    address: 127.0.0.1:0
    tls: )" + tls + R"(
    authz:
      stat_prefix: mesh-l4
      default_action: deny
      rules: [{name: mesh, action: allow, principals: [{spiffe_id: {prefix: "spiffe://sluice.test/"}}]}]
    http:
      route_config:
        virtual_hosts:
          - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}
  - name: web
    address: 127.0.0.1:0
    tls: )" + tls + R"(
    http:
      forward_client_cert_details: sanitize_set
      http_filters:
        - authz:
            stat_prefix: mesh-http
            default_action: deny
            rules:
              - name: client
                action: allow
                principals: [{spiffe_id: {exact: "spiffe://sluice.test/ns/default/sa/client"}}]
      route_config:
        virtual_hosts:
          - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}
  - name: sidecar-b
    address: 127.0.0.1:0
    tls: {certificates: [{cert_chain: )" + pkiPath("sidecar-b.crt") + ", private_key: " + pkiPath("sidecar-b.key") +
         "}], ca_bundle: " + pkiPath("root.crt") + R"(, require_client_cert: true}
    http:
      forward_client_cert_details: sanitize_set
      route_config:
        virtual_hosts:
          - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}
clusters:
  - name: backend
    connect_timeout: 1s
    endpoints: [{address: 127.0.0.1:)" +
         std::to_string(upstream_port) + "}]\n";
}

TEST(Authz, MtlsPeerIdentityDecidesAndReachesTheUpstreamInXfcc) {
  ASSERT_TRUE(pki().ok()) << "openssl could not generate the test PKI in " << pki().dir();
  HttpUpstream up(describeRequest("backend"));
  ProxyProcess proxy(mtlsConfig(up.port()));
  ASSERT_TRUE(proxy.start());
  auto l4 = proxy.waitListener("l4");
  auto web = proxy.waitListener("web");
  ASSERT_TRUE(l4 && web);

  // HTTP layer: the client identity is allowed; its XFCC is ours, not the one it sent.
  const CurlResult ok =
      curlTls(*web, "/ok", "client", {"-H", "x-forwarded-client-cert: URI=spiffe://sluice.test/ns/admin/sa/root"});
  ASSERT_TRUE(ok.ok()) << ok.describe();
  EXPECT_EQ(ok.status, 200) << ok.describe();
  auto seen = up.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->header("x-forwarded-client-cert"), "URI=spiffe://sluice.test/ns/default/sa/client")
      << seen->describe();
  // A valid certificate with another identity is refused with 403.
  const CurlResult third = curlTls(*web, "/third", "third");
  ASSERT_TRUE(third.ok()) << third.describe();
  EXPECT_EQ(third.status, 403) << third.describe();
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("mesh-http", "http", "allow", "client"), 1));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("mesh-http", "http", "deny", "default"), 1));

  // Network layer: decided after the handshake, on the verified identity.
  const CurlResult mesh = curlTls(*l4, "/l4", "third");
  EXPECT_EQ(mesh.status, 200) << mesh.describe();
  const CurlResult evil = curlTls(*l4, "/l4", "intruder");
  EXPECT_EQ(evil.status, 0) << "another trust domain's connection is closed: " << evil.describe();
  EXPECT_EQ(up.requestCount(), 2u);
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("mesh-l4", "network", "allow", "mesh"), 1));
  EXPECT_TRUE(proxy.waitMetricEq(kDecisions, decision("mesh-l4", "network", "deny", "default"), 1));

  // A listener whose own certificate has a SPIFFE ID names itself in By=.
  auto b = proxy.waitListener("sidecar-b");
  ASSERT_TRUE(b);
  const CurlResult via_b = curlTls(*b, "/b", "client");
  EXPECT_EQ(via_b.status, 200) << via_b.describe();
  seen = up.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->header("x-forwarded-client-cert"),
            "By=spiffe://sluice.test/ns/default/sa/b;URI=spiffe://sluice.test/ns/default/sa/client")
      << seen->describe();
}

}  // namespace
}  // namespace sluice::itest
