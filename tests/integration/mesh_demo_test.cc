// The demo mesh (config/examples/mesh/control.yaml) end to end, with real
// processes on loopback (the fixture: support/mesh_demo.h): routing and the
// split, mesh identities and authorization, STRICT and PERMISSIVE, edits
// and a control-plane restart under load.

#include "tests/integration/support/mesh_demo.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/daemon_process.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/keepalive_load.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/tls_setup.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

TEST_F(MeshDemo, TheEdgeRoutesAndSplitsNinetyTenOverTwoThousandRequests) {
  EXPECT_EQ(httpRequest(port("8080"), "GET", "/").body, "frontend GET /\n");
  std::map<std::string, int> by_app;
  for (int i = 0; i < 2000; ++i) {
    const HttpResponse r = httpRequest(port("8080"), "GET", "/api/x");
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    ++by_app[r.body.substr(0, r.body.find(' '))];
  }
  // 10% of 2000 is 200, with a standard deviation of about 13.
  EXPECT_EQ(by_app["backend-v1"] + by_app["backend-v2"], 2000);
  EXPECT_GT(by_app["backend-v2"], 140);
  EXPECT_LT(by_app["backend-v2"], 260);
}

TEST_F(MeshDemo, TheBackendSeesItsCallersMeshIdentityAndRefusesTheStranger) {
  const HttpResponse via_frontend = httpRequest(port("15101"), "GET", "/from-frontend");
  ASSERT_EQ(via_frontend.status, 200) << via_frontend.error;
  bool seen = false;
  for (const char* app : {"backend-v1", "backend-v2"})
    for (const auto& req : apps_[app]->requests())
      if (req.target == "/from-frontend") {
        const std::string xfcc = req.header("x-forwarded-client-cert").value_or("");
        EXPECT_NE(xfcc.find("URI=spiffe://demo.mesh/ns/default/sa/frontend"), std::string::npos) << xfcc;
        seen = true;
      }
  EXPECT_TRUE(seen);
  const size_t before = apps_["backend-v1"]->requestCount() + apps_["backend-v2"]->requestCount();
  const HttpResponse stranger = httpRequest(port("15301"), "GET", "/from-stranger");
  EXPECT_EQ(stranger.status, 403);
  EXPECT_EQ(apps_["backend-v1"]->requestCount() + apps_["backend-v2"]->requestCount(), before)
      << "a refused call reached an app";
}

TEST_F(MeshDemo, StrictRefusesPlaintextAndPermissiveTakesIt) {
  // STRICT: a plaintext request to the backend's mesh port gets no HTTP answer.
  const HttpResponse plain = httpRequest(port("15106"), "GET", "/");
  EXPECT_NE(plain.status, 200);
  EXPECT_EQ(apps_["backend-v1"]->requestCount(), 0u);
  // PERMISSIVE for the frontend: plaintext is taken (no policy guards it).
  std::string yaml = replaceAll(
      yaml_, "- {namespace: default, mode: STRICT}",
      "- {namespace: default, mode: STRICT}\n      - {namespace: default, workload: frontend, mode: PERMISSIVE}");
  control_->writeConfig(yaml);
  HttpResponse last;
  EXPECT_TRUE(waitUntil([&] { return (last = httpRequest(port("15100"), "GET", "/plain")).status == 200; }, 5s))
      << "the frontend's inbound did not take plaintext under PERMISSIVE: " << last.status << " " << last.error
      << last.body << "\n"
      << proxy("frontend").stderrText() << control_->stderrText();
  // And mesh traffic still flows through it with mTLS.
  EXPECT_EQ(httpRequest(port("8080"), "GET", "/").status, 200);
}

// STRICT is more than TLS: the caller must prove a mesh identity. A TLS
// client with no certificate, or with one from another CA (a SPIFFE ID under
// a root the mesh does not trust), is refused in the handshake, and nothing
// reaches the app.
TEST_F(MeshDemo, StrictRefusesTlsClientsWithoutAMeshCertificate) {
  ASSERT_TRUE(pki().ok());
  const std::string url = "https://127.0.0.1:" + std::to_string(port("15106")) + "/from-tls-client";
  // -k: the server's certificate is the mesh's; what is tested is the client's.
  const CurlResult none = curl({"-k", url});
  EXPECT_EQ(none.status, 0) << none.body;
  EXPECT_FALSE(none.ok()) << none.err;
  // The sidecar's TLS layer said no, each time (not a closed port).
  EXPECT_TRUE(proxy("backend-v1").waitMetricAtLeast("sluice_listener_downstream_cx_tls_handshake_failed_total",
                                                    {{"listener", "inbound_8080_backend"}}, 1));
  const CurlResult foreign =
      curl({"-k", "--cert", pkiPath("stranger.crt"), "--key", pkiPath("stranger.key"), url});
  EXPECT_EQ(foreign.status, 0) << foreign.body;
  EXPECT_FALSE(foreign.ok()) << foreign.err;
  EXPECT_TRUE(proxy("backend-v1").waitMetricAtLeast("sluice_listener_downstream_cx_tls_handshake_failed_total",
                                                    {{"listener", "inbound_8080_backend"}}, 2));
  EXPECT_EQ(apps_["backend-v1"]->requestCount(), 0u);
  // The same port serves the mesh: the edge's calls to v1 get through it.
  EXPECT_TRUE(waitUntil(
      [&] {
        httpRequest(port("8080"), "GET", "/api/");
        return apps_["backend-v1"]->requestCount() > 0;
      },
      5s))
      << "v1 took no mesh traffic";
}

// A route rule's fault, added by an edit: the edge answers that route's
// requests itself (abort 100%) and the app behind it sees none of them; the
// other routes are untouched.
TEST_F(MeshDemo, AFaultRuleAbortsItsRouteAtTheEdge) {
  const std::string rule = "        - name: web\n";
  ASSERT_NE(yaml_.find(rule), std::string::npos);
  std::string yaml = yaml_;
  yaml.insert(yaml.find(rule),
              "        - name: broken\n"
              "          match: {prefix: /broken/}\n"
              "          to: [{service: frontend}]\n"
              "          fault: {abort: {http_status: 503, percentage: 100}}\n");
  control_->writeConfig(yaml);
  // Until the edit is in, /broken/wait still reaches the frontend.
  HttpResponse last;
  EXPECT_TRUE(waitUntil([&] { return (last = httpRequest(port("8080"), "GET", "/broken/wait")).status == 503; }, 5s))
      << last.status << " " << last.error << last.body << control_->stderrText();
  for (int i = 0; i < 20; ++i) {
    const HttpResponse r = httpRequest(port("8080"), "GET", "/broken/" + std::to_string(i));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, "fault filter abort\n");
  }
  for (const auto& req : apps_["frontend"]->requests())
    if (req.target != "/broken/wait")
      EXPECT_NE(req.target.rfind("/broken/", 0), 0u) << "an aborted request reached the app: " << req.target;
  EXPECT_EQ(httpRequest(port("8080"), "GET", "/").body, "frontend GET /\n");
  EXPECT_EQ(httpRequest(port("8080"), "GET", "/api/x").status, 200);
}

TEST_F(MeshDemo, AnEditedSplitIsFollowedWithinASecondWithNoFailedRequest) {
  KeepAliveLoad load(port("8080"), 2, true, "backend-v2", 30s);
  std::this_thread::sleep_for(300ms);
  setSplit(0, 100);
  const auto edited = Clock::now();
  // Once every answer is v2 (checked on fresh connections) the edit is in.
  ASSERT_TRUE(waitUntil(
      [&] {
        for (int i = 0; i < 20; ++i)
          if (httpRequest(port("8080"), "GET", "/api/").body.rfind("backend-v2", 0) != 0) return false;
        return true;
      },
      5s));
  const auto took = std::chrono::duration_cast<Millis>(Clock::now() - edited);
  RecordProperty("split_followed_ms", static_cast<int>(took.count()));
  // The demo's promise is "within a second": the figure is recorded above
  // (200-350 ms in Release on a loaded 2-core host; at scale it is the
  // benchmark's, bench/run.sh mesh). The bound is twice the promise, so a
  // CI host's scheduling hiccup is not a red build, while a push that stalls
  // (seconds) still is. Sanitized processes run several times slower.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  const bool sanitized = true;
#else
  const bool sanitized = proxyUnderSanitizer() || std::getenv("SLUICE_TEST_BIN") != nullptr;
#endif
  const long long bound = sanitized ? 5000 : 2000;
  EXPECT_LT(took.count(), bound) << "the split took " << took.count() << " ms";
  load.stop();
  const auto t = load.totals();
  EXPECT_EQ(t.cut, 0u) << t.first_cut;
  EXPECT_GT(t.ok, 50u);
}

TEST_F(MeshDemo, AControlPlaneRestartLosesNoRequestAndIssuesNoNewCertificate) {
  KeepAliveLoad load(port("8080"), 2, true, "", 60s);
  // The same port, the same CA state dir.
  ASSERT_TRUE(restartControl(yaml_));
  // Every proxy is back in sync (a mesh group per proxy)...
  EXPECT_TRUE(waitUntil(
      [&] {
        const auto m = control_->metric("sluice_control_proxies_connected");
        return m && *m >= 5;
      },
      10s))
      << control_->get("/status").body;
  // ... and the certificates they hold are still good: nothing is issued again.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(control_->metric("sluice_control_ca_certificates_issued_total").value_or(-1), 0);
  // The mesh still changes on edits.
  setSplit(0, 100);
  EXPECT_TRUE(
      waitUntil([&] { return httpRequest(port("8080"), "GET", "/api/").body.rfind("backend-v2", 0) == 0; }, 5s));
  load.stop();
  const auto t = load.totals();
  EXPECT_EQ(t.cut, 0u) << t.first_cut;
  EXPECT_GT(t.ok, 50u);
}

TEST_F(MeshDemo, EachProxyShowsItsCertificateFromTheMeshCa) {
  // SetUp already waited for every proxy's certificate; the bounded wait here
  // keeps this test's claim its own, should that gate ever be loosened.
  for (const auto& [name, p] : proxies_) {
    const std::string identity = "spiffe://demo.mesh/ns/default/sa/" + p.service_account;
    HttpResponse certs;
    EXPECT_TRUE(waitUntil(
        [&] {
          certs = p.process->get("/certs");
          return certs.status == 200 && certs.body.find(identity) != std::string::npos;
        },
        10s))
        << name << ": " << certs.status << " " << certs.body;
  }
  // The CA counted one certificate per proxy.
  EXPECT_EQ(control_->metric("sluice_control_ca_certificates_issued_total").value_or(-1), 5);
}

}  // namespace
}  // namespace sluice::itest

namespace sluice::itest {
namespace {

// `sluice-control check`: the example mesh, offline, as an operator reads it.
TEST(MeshCheck, PrintsWhatEachProxyOfTheExampleGets) {
  const std::string example = repoRoot() + "/config/examples/mesh/control.yaml";
  ::setenv("SLUICE_MESH_STATE", "/nonexistent", 1);  // check opens no CA files
  const CommandResult r = runCommand({SLUICE_CONTROL_BIN, "check", "-c", example}, std::chrono::seconds(10));
  ASSERT_TRUE(exitedWith(r.status, 0)) << r.err;
  for (const char* line :
       {"sidecar default/backend-v1  node.id backend-v1.default  identity spiffe://demo.mesh/ns/default/sa/backend\n",
        "  listener inbound_8080_backend  127.0.0.1:15106  http, mTLS STRICT, authz deny by default -> app "
        "127.0.0.1:18106\n",
        "  listener outbound_8080_backend  127.0.0.1:15301  plaintext http from the app\n",
        "  cluster outbound_8080_version-v2_backend.default  1 endpoint(s), mTLS verifying "
        "spiffe://demo.mesh/ns/default/sa/backend\n"})
    EXPECT_NE(r.out.find(line), std::string::npos) << "missing: " << line << "in:\n" << r.out;
  // A mistake is named with its line, and nothing is printed for the proxies.
  TempDir dir;
  std::string bad = readFile(example);
  bad.replace(bad.find("to: [{service: frontend}]"), 25, "to: [{service: frontends}]");
  const CommandResult e =
      runCommand({SLUICE_CONTROL_BIN, "check", "-c", dir.write("control.yaml", bad)}, std::chrono::seconds(10));
  EXPECT_TRUE(exitedWith(e.status, 1));
  EXPECT_NE(e.err.find("mesh.routes[0].rules[1].to[0].service: unknown service 'frontends'"), std::string::npos)
      << e.err;
  EXPECT_EQ(r.out.find("frontends"), std::string::npos);
}

// `check --full`: each proxy's computed sluice YAML under its summary, with
// its routes (matches, split weights, retries) as the proxy will read them;
// without --full, the summary alone.
TEST(MeshCheck, FullListsEachProxysRoutes) {
  const std::string example = repoRoot() + "/config/examples/mesh/control.yaml";
  ::setenv("SLUICE_MESH_STATE", "/nonexistent", 1);  // check opens no CA files
  const CommandResult full =
      runCommand({SLUICE_CONTROL_BIN, "check", "-c", example, "--full"}, std::chrono::seconds(10));
  ASSERT_TRUE(exitedWith(full.status, 0)) << full.err;
  // The edge's document follows its summary: its route table, in order.
  const size_t edge = full.out.find("gateway default/edge  node.id edge.default");
  ASSERT_NE(edge, std::string::npos) << full.out;
  size_t at = edge;
  // In the output, each document line is indented by two more than in the file.
  auto line = [](size_t indent, const std::string& text) { return std::string(indent + 2, ' ') + text + "\n"; };
  for (const std::string& expected :
       {std::string("  ---\n"), line(12, "routes:"), line(14, "- name: api"), line(16, "match: {prefix: /api/}"),
        line(20, "- name: outbound_8080_version-v1_backend.default"), line(22, "weight: 90"),
        line(20, "- name: outbound_8080_version-v2_backend.default"), line(22, "weight: 10"),
        line(18, "retry_policy: {retry_on: [connect-failure, reset], num_retries: 2}"), line(14, "- name: web"),
        line(16, "match: {prefix: /}"), line(18, "cluster: outbound_8080__frontend.default")}) {
    const size_t next = full.out.find(expected, at);
    ASSERT_NE(next, std::string::npos) << "missing, after offset " << at << ": " << expected << "in:\n"
                                       << full.out.substr(edge);
    at = next;
  }
  // A sidecar's outbound listener lists its routes too (all to the service).
  EXPECT_NE(full.out.find("    - name: outbound_8080_backend\n      address: 127.0.0.1:15301\n"), std::string::npos)
      << full.out;

  const CommandResult brief = runCommand({SLUICE_CONTROL_BIN, "check", "-c", example}, std::chrono::seconds(10));
  ASSERT_TRUE(exitedWith(brief.status, 0)) << brief.err;
  EXPECT_EQ(brief.out.find("weighted_clusters"), std::string::npos) << brief.out;
  EXPECT_NE(brief.out.find("listener gateway_http  127.0.0.1:8080  plaintext http, 1 route set(s)\n"),
            std::string::npos)
      << brief.out;
}

}  // namespace
}  // namespace sluice::itest
