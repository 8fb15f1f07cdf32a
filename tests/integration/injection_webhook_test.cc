// The sidecar-injection webhook in the real sluice-control, run with the
// shipped config/examples/kubernetes/control.yaml (free ports, a temp
// state folder): curl POSTs AdmissionReviews over HTTPS as the API server
// would, trusting only the CA's root and calling the webhook by its
// Service name (--resolve), for pods made from real workload manifests
// (tests/integration/data/kubernetes/). The returned patch is decoded and
// applied twice, by nlohmann's RFC 6902 implementation and by kubectl's own
// (`kubectl patch --local`, at .tools/bin/kubectl, as scripts/install-deps
// puts it), which must agree; kubectl's result, native or classic sidecar,
// is validated against the API's schemas and the native-sidecar rule
// (tests/kubernetes/validate_objects.mjs, on node), the container order is
// checked here, and the rendered bootstrap by `sluice validate`. kubectl
// and node are required: CI installs both.

#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <cstdio>

#include <string>
#include <vector>

#include "tests/integration/support/admission.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/daemon_process.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/mesh_demo.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const char* kServiceName = "sluice-control.sluice-system.svc";

std::vector<std::string> names(const json& list) {
  std::vector<std::string> out;
  if (list.is_array())
    for (const auto& c : list) out.push_back(c.value("name", ""));
  return out;
}

std::string kubectlPath() { return repoRoot() + "/.tools/bin/kubectl"; }
std::string validatorPath() { return repoRoot() + "/tests/kubernetes/validate_objects.mjs"; }

class InjectionWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(haveExecutable("curl"));
    ASSERT_EQ(::access(kubectlPath().c_str(), X_OK), 0)
        << kubectlPath() << " is missing: scripts/install-deps installs it";
    ASSERT_TRUE(haveExecutable("node")) << "node is missing: scripts/install-deps installs it";
    dir_.write("token.key", "an-operator-key-of-enough-length\n");
    std::string yaml;
    ASSERT_TRUE(shippedExample("kubernetes/control.yaml",
                               {{"address: 127.0.0.1:15010", "address: 127.0.0.1:0"},
                                {"address: 127.0.0.1:15000", "address: 127.0.0.1:0"},
                                {"address: 127.0.0.1:15017", "address: 127.0.0.1:0"},
                                {"address: 127.0.0.1:15012", "address: 127.0.0.1:0"},
                                {"\"${SLUICE_K8S_STATE}/ca\"", dir_.path() + "/ca"},
                                {"\"${SLUICE_K8S_STATE}/token.key\"", dir_.path() + "/token.key"},
                                {"native_sidecar: true", std::string("native_sidecar: ") + (native_sidecar_ ? "true" : "false")}},
                               &yaml));
    daemon_ = std::make_unique<ControlDaemonProcess>(yaml);
    ASSERT_TRUE(daemon_->start());
    const std::string& addr = daemon_->webhookAddress();
    ASSERT_FALSE(addr.empty()) << "no webhook line in the address file";
    port_ = addr.substr(addr.rfind(':') + 1);
  }

  // POSTs `body` to the webhook by its Service name, verifying the serving
  // certificate against the CA's root only.
  CurlResult post(const std::string& body, const std::string& path = "/inject") {
    const std::string file = dir_.write("review-" + std::to_string(posts_++) + ".json", body);
    return curl({"--cacert", dir_.path() + "/ca/root.pem", "--resolve",
                 std::string(kServiceName) + ":" + port_ + ":127.0.0.1", "-H", "Content-Type: application/json",
                 "--data-binary", "@" + file, "https://" + std::string(kServiceName) + ":" + port_ + path});
  }

  // The AdmissionReview's response for `pod`, after checking its envelope.
  json admit(const std::string& uid, const std::string& ns, const json& pod) {
    const CurlResult r = post(review(uid, ns, pod).dump());
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("content-type").value_or(""), "application/json");
    const json doc = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(doc.is_object()) << r.body;
    if (!doc.is_object()) return json::object();
    EXPECT_EQ(doc["apiVersion"], "admission.k8s.io/v1");
    EXPECT_EQ(doc["kind"], "AdmissionReview");
    EXPECT_EQ(doc["response"]["uid"], uid);
    return doc["response"];
  }

  // Applies the patch with kubectl (no cluster).
  json kubectlPatched(const json& pod, const json& patch) {
    const std::string file = dir_.write("pod-" + std::to_string(posts_++) + ".json", pod.dump(2));
    const CommandResult r =
        runCommand({kubectlPath(), "patch", "--local", "--type=json", "-f", file, "-p", patch.dump(), "-o", "json"},
                   30s);
    EXPECT_TRUE(exitedWith(r.status, 0)) << r.err;
    const json out = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(out.is_object()) << r.out << r.err;
    return out;
  }

  // The pod against the API's schemas and the native-sidecar rule.
  void expectValidPod(const json& pod, const std::string& what) {
    const std::string file = dir_.write("patched-" + std::to_string(posts_++) + ".json", pod.dump(2));
    const CommandResult r = runCommand({"node", validatorPath(), file}, 60s);
    EXPECT_TRUE(exitedWith(r.status, 0)) << what << ": " << r.out << r.err;
  }

  // The whole check of an injected pod: patch envelope, kubectl agreeing,
  // native-sidecar order, probes, and a bootstrap sluice accepts.
  json expectInjected(const std::string& file, const std::string& ns) {
    return expectInjectedPod(podOf(file), file, ns);
  }
  json expectInjectedPod(const json& pod, const std::string& file, const std::string& ns) {
    const json resp = admit("uid-" + file, ns, pod);
    EXPECT_EQ(resp.value("allowed", false), true) << resp.dump();
    EXPECT_EQ(resp.value("patchType", ""), "JSONPatch") << resp.dump();
    const json patch = json::parse(base64Decode(resp.value("patch", "")), nullptr, false);
    EXPECT_TRUE(patch.is_array() && !patch.empty()) << resp.dump();
    if (!patch.is_array()) return nullptr;
    const json out = pod.patch(patch);

    const json by_kubectl = kubectlPatched(pod, patch);
    EXPECT_EQ(by_kubectl, out) << "kubectl applies the patch differently";
    if (by_kubectl.is_object()) expectValidPod(by_kubectl, file + " patched by kubectl");

    // Native sidecar: sluice-init runs first and exits; sluice-proxy is an
    // init container with restartPolicy Always after it; the pod's own init
    // containers follow, its containers are untouched in number and order.
    // Classic: sluice-init first, the pod's own init containers after it;
    // sluice-proxy the first of the containers, a plain container.
    std::vector<std::string> want_init = {"sluice-init"};
    if (native_sidecar_) want_init.push_back("sluice-proxy");
    for (const auto& n : names(pod["spec"].value("initContainers", json::array()))) want_init.push_back(n);
    EXPECT_EQ(names(out["spec"]["initContainers"]), want_init) << file;
    std::vector<std::string> want_containers = names(pod["spec"]["containers"]);
    if (!native_sidecar_) want_containers.insert(want_containers.begin(), "sluice-proxy");
    EXPECT_EQ(names(out["spec"]["containers"]), want_containers) << file;
    const json& init = out["spec"]["initContainers"][0];
    const json& proxy = native_sidecar_ ? out["spec"]["initContainers"][1] : out["spec"]["containers"][0];
    EXPECT_FALSE(init.contains("restartPolicy"));
    if (native_sidecar_) EXPECT_EQ(proxy.value("restartPolicy", ""), "Always");
    else EXPECT_FALSE(proxy.contains("restartPolicy"));
    EXPECT_EQ(init["securityContext"]["capabilities"]["add"], json({"NET_ADMIN", "NET_RAW"}));
    EXPECT_EQ(init["securityContext"]["privileged"], false);
    EXPECT_EQ(proxy["securityContext"]["runAsUser"], 1337);
    EXPECT_EQ(proxy["securityContext"]["readOnlyRootFilesystem"], true);
    EXPECT_EQ(proxy["readinessProbe"]["httpGet"]["path"], "/ready");
    EXPECT_EQ(out["metadata"]["annotations"]["sluice.io/status"], "injected");

    // The bootstrap the sidecar reads through the downward API is one sluice accepts.
    const std::string bootstrap = out["metadata"]["annotations"].value("sluice.io/bootstrap", "");
    const std::string path = dir_.write("bootstrap-" + std::to_string(posts_++) + ".yaml", bootstrap);
    const CommandResult v = runCommand({"env", "POD_NAME=p-1", proxyBinary(), "validate", "-c", path}, 10s);
    EXPECT_TRUE(exitedWith(v.status, 0)) << v.out << v.err << bootstrap;
    return out;
  }

  void expectLeftAlone(const std::string& file, const std::string& ns) { expectLeftAlonePod(podOf(file), file, ns); }
  void expectLeftAlonePod(const json& pod, const std::string& file, const std::string& ns) {
    const json resp = admit("uid-" + file, ns, pod);
    EXPECT_EQ(resp.value("allowed", false), true) << resp.dump();
    EXPECT_FALSE(resp.contains("patch")) << resp.dump();
    EXPECT_FALSE(resp.contains("patchType")) << resp.dump();
  }

  bool native_sidecar_ = true;  // the shipped example's; the classic fixture sets false
  TempDir dir_;
  std::unique_ptr<ControlDaemonProcess> daemon_;
  std::string port_;
  int posts_ = 0;
};

// The same control plane set for clusters older than Kubernetes 1.29.
class ClassicInjectionWebhookTest : public InjectionWebhookTest {
 protected:
  ClassicInjectionWebhookTest() { native_sidecar_ = false; }
};

TEST_F(InjectionWebhookTest, InjectsWorkloadPodsAsNativeSidecars) {
  const json web = expectInjected("deployment.json", "shop");
  // The node the sidecar asks for is its workload's: the Deployment's name.
  EXPECT_NE(web["metadata"]["annotations"].value("sluice.io/bootstrap", "").find("id: web.shop~${POD_NAME}"),
            std::string::npos);
  // httpGet probes go through the sidecar's health port.
  EXPECT_EQ(web["spec"]["containers"][0]["readinessProbe"]["httpGet"],
            json({{"path", "/app-health/web/readyz"}, {"port", 15021}, {"scheme", "HTTP"}}));
  expectInjected("statefulset.json", "data");
  expectInjected("job.json", "shop");
  const json legacy = expectInjected("pod-init-probes.json", "default");
  // The HTTPS and grpc probes' ports stay out of capture.
  const json cmd = legacy["spec"]["initContainers"][0]["command"];
  const auto it = std::find(cmd.begin(), cmd.end(), "--exclude-inbound-ports");
  ASSERT_NE(it, cmd.end()) << cmd.dump();
  EXPECT_EQ(*(it + 1), "8443,9000,9090,15021");
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injections_total", {}, 4));
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injection_reviews_total", {}, 4));
}

// The bootstrap a pod gets, run by the real sluice: its health listener
// answers the kubelet's /ready from the admin, and a rewritten probe reaches
// the app at its own path and query, with the probe's headers. Only the
// addresses are moved to loopback and free ports.
TEST_F(InjectionWebhookTest, TheSidecarServesTheRewrittenProbes) {
  const json out = expectInjected("deployment.json", "shop");
  std::string bootstrap = out["metadata"]["annotations"].value("sluice.io/bootstrap", "");
  HttpUpstream app([](const UpstreamRequest& req, UpstreamExchange& ex) { ex.respond(200, "app ok\n"); });
  const std::string admin = "127.0.0.1:" + std::to_string(freePort());
  const std::string token = dir_.write("token", "not-yet-a-service-account-token\n");
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"127.0.0.1:15020", admin}, {"127.0.0.1:15020", admin}, {"\"[::]:15021\"", "127.0.0.1:0"},
           {"127.0.0.1:8080", "127.0.0.1:" + std::to_string(app.port())},
           {"sluice-control.sluice-system.svc:15010", daemon_->adsAddress()},
           {"/var/run/secrets/sluice/tokens/token", token}}) {
    const size_t at = bootstrap.find(from);
    ASSERT_NE(at, std::string::npos) << from << " not in\n" << bootstrap;
    bootstrap.replace(at, from.size(), to);
  }
  ::setenv("POD_NAME", "web-6c9f8d7b5-x2x9z", 1);  // what the downward API gives the sidecar
  ProxyProcess sidecar(bootstrap);
  ASSERT_TRUE(sidecar.start());
  const auto health = sidecar.waitListener("sluice-health");
  ASSERT_TRUE(health);
  CurlResult r = curl({localUrl(*health, "/ready")});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "LIVE\n");
  r = curl({"-H", "X-Probe: kubelet", localUrl(*health, "/app-health/web/livez")});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "app ok\n");
  r = curl({localUrl(*health, "/app-health/web/readyz")});
  EXPECT_EQ(r.status, 200) << r.describe();
  const auto seen = app.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target, "/livez?verbose=1");
  EXPECT_EQ(seen[0].header("x-probe").value_or(""), "kubelet");
  EXPECT_EQ(seen[1].target, "/healthz");
  // Nothing else on the health port reaches the app.
  EXPECT_EQ(curl({localUrl(*health, "/app-health/other/livez")}).status, 404);
  EXPECT_EQ(app.requestCount(), 2u);
}

TEST_F(InjectionWebhookTest, WarnsWhenAProbePortBypassesTheSidecar) {
  const json resp = admit("uid-warn", "default", podOf("pod-init-probes.json"));
  ASSERT_TRUE(resp.contains("warnings")) << resp.dump();
  EXPECT_EQ(resp["warnings"].size(), 2u);
  EXPECT_NE(resp["warnings"][0].get<std::string>().find("port 8443 of container api"), std::string::npos);
}

TEST_F(ClassicInjectionWebhookTest, InjectsWorkloadPodsAsClassicSidecars) {
  for (const char* file : {"deployment.json", "statefulset.json", "job.json", "pod-init-probes.json"})
    expectInjected(file, "shop");
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injections_total", {}, 4));
}

// The pod's own say, by label (what the chart's object.sluice.io webhook
// selects on in a namespace without the injection label) or annotation:
// "true" is injected whatever its namespace, "false" in either is left
// alone, even beside a "true" in the other.
TEST_F(InjectionWebhookTest, ThePodsLabelOrAnnotationDecides) {
  json pod = podOf("job.json");
  pod["metadata"]["labels"]["sluice.io/inject"] = "true";
  expectInjectedPod(pod, "labelled-true", "unlabelled");
  pod = podOf("job.json");
  pod["metadata"]["annotations"]["sluice.io/inject"] = "true";
  expectInjectedPod(pod, "annotated-true", "unlabelled");
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injections_total", {}, 2));

  pod = podOf("job.json");
  pod["metadata"]["labels"]["sluice.io/inject"] = "false";
  expectLeftAlonePod(pod, "labelled-false", "shop");
  pod["metadata"]["annotations"]["sluice.io/inject"] = "true";
  expectLeftAlonePod(pod, "labelled-false-annotated-true", "shop");
  pod = podOf("job.json");
  pod["metadata"]["labels"]["sluice.io/inject"] = "true";
  pod["metadata"]["annotations"]["sluice.io/inject"] = "false";
  expectLeftAlonePod(pod, "labelled-true-annotated-false", "unlabelled");
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injection_skips_total", {{"reason", "disabled"}}, 3));
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injections_total", {}, 2));
}

TEST_F(InjectionWebhookTest, LeavesHostNetworkOptedOutAndInjectedPodsAlone) {
  expectLeftAlone("host-network.json", "kube-system");
  expectLeftAlone("opt-out.json", "default");
  expectLeftAlone("injected.json", "default");
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injection_skips_total", {{"reason", "host_network"}}, 1));
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injection_skips_total", {{"reason", "disabled"}}, 1));
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injection_skips_total", {{"reason", "already_injected"}}, 1));
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injections_total", {}, 0));
}

TEST_F(InjectionWebhookTest, RefusesAPodItCannotInjectUnderFailPolicy) {
  json pod = podOf("opt-out.json");
  pod["metadata"]["annotations"] = {{"sluice.io/exclude-inbound-ports", "http"}};
  const json resp = admit("uid-bad", "default", pod);
  EXPECT_EQ(resp.value("allowed", true), false) << resp.dump();
  EXPECT_EQ(resp["status"]["code"], 400);
  EXPECT_EQ(resp["status"]["message"],
            "sluice: cannot inject the sidecar: annotation sluice.io/exclude-inbound-ports: 'http' is not a port "
            "(1 to 65535)");
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injection_errors_total", {{"failure_policy", "Fail"}}, 1));
}

TEST_F(InjectionWebhookTest, AnswersMalformedReviewsWith400) {
  CurlResult r = post("{not json");
  EXPECT_EQ(r.status, 400) << r.describe();
  EXPECT_EQ(r.body, "bad AdmissionReview: the body is not JSON\n");
  json old = review("u", "default", podOf("job.json"));
  old["apiVersion"] = "admission.k8s.io/v1beta1";
  r = post(old.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "bad AdmissionReview: apiVersion must be admission.k8s.io/v1 (set admissionReviewVersions: [v1] in the "
            "webhook configuration)\n");
  json no_uid = review("", "default", podOf("job.json"));
  r = post(no_uid.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "bad AdmissionReview: request.uid is missing\n");
  r = post("{}", "/elsewhere");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(daemon_->waitMetricEq("sluice_control_injection_bad_requests_total", {}, 3));
}

TEST_F(InjectionWebhookTest, ServesACertificateForTheServiceNameOnly) {
  ASSERT_TRUE(haveExecutable("openssl"));
  // Called by its IP, the same certificate does not verify: it names the Service.
  const CurlResult r = curl({"--cacert", dir_.path() + "/ca/root.pem", "--data-binary", "{}",
                             "https://127.0.0.1:" + port_ + "/inject"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("127.0.0.1"), std::string::npos) << r.err;
  const CommandResult s = runCommand({"sh", "-c",
                                      "openssl s_client -connect 127.0.0.1:" + port_ + " -servername " + kServiceName +
                                          " </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName"},
                                     20s);
  EXPECT_EQ(s.out, "X509v3 Subject Alternative Name: \n    DNS:sluice-control.sluice-system.svc\n") << s.err;
}

// The operator's serving certificate (cert-manager's Secret, mounted as
// files) instead of the CA's: served, and a replaced pair served once
// SIGHUP has the webhook read the files again (else it looks every 30 s,
// longer than this test waits).
TEST(InjectionWebhookFiles, ServesTheOperatorsFilesAndTheirReplacementAfterSighup) {
  ASSERT_TRUE(haveExecutable("openssl"));
  ASSERT_TRUE(haveExecutable("curl"));
  TempDir dir;
  const auto make_pair = [&](const std::string& name) {
    const CommandResult r = runCommand(
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
         dir.path() + "/" + name + ".key", "-out", dir.path() + "/" + name + ".crt", "-days", "1", "-subj",
         std::string("/CN=") + kServiceName, "-addext", std::string("subjectAltName=DNS:") + kServiceName},
        20s);
    return exitedWith(r.status, 0) ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << r.err;
  };
  ASSERT_TRUE(make_pair("a"));
  ASSERT_TRUE(make_pair("b"));
  // Put in place as cert-manager does: written aside, renamed over.
  const auto install = [&](const std::string& name) {
    for (const char* ext : {"crt", "key"}) {
      const std::string to = dir.path() + "/tls." + ext;
      dir.write(std::string("tls.") + ext + ".new", readFile(dir.path() + "/" + name + "." + ext));
      ASSERT_EQ(std::rename((to + ".new").c_str(), to.c_str()), 0);
    }
  };
  install("a");
  dir.write("token.key", "an-operator-key-of-enough-length\n");
  std::string yaml;
  ASSERT_TRUE(shippedExample("kubernetes/control.yaml",
                             {{"address: 127.0.0.1:15010", "address: 127.0.0.1:0"},
                              {"address: 127.0.0.1:15000", "address: 127.0.0.1:0"},
                              {"address: 127.0.0.1:15017", "address: 127.0.0.1:0"},
                              {"address: 127.0.0.1:15012", "address: 127.0.0.1:0"},
                              {"\"${SLUICE_K8S_STATE}/ca\"", dir.path() + "/ca"},
                              {"\"${SLUICE_K8S_STATE}/token.key\"", dir.path() + "/token.key"},
                              {"certificate_ttl: 24h",
                               "cert_file: " + dir.path() + "/tls.crt\n    key_file: " + dir.path() + "/tls.key"}},
                             &yaml));
  ControlDaemonProcess daemon(yaml);
  ASSERT_TRUE(daemon.start());
  const std::string& addr = daemon.webhookAddress();
  const std::string port = addr.substr(addr.rfind(':') + 1);
  // What the webhook presents, and a pair's own certificate, as fingerprints.
  const auto presented = [&] {
    return runCommand({"sh", "-c",
                       "openssl s_client -connect 127.0.0.1:" + port + " -servername " + kServiceName +
                           " </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256"},
                      20s)
        .out;
  };
  const auto fingerprint = [&](const std::string& name) {
    return runCommand({"openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", dir.path() + "/" + name + ".crt"},
                      10s)
        .out;
  };
  ASSERT_FALSE(fingerprint("a").empty());
  ASSERT_NE(fingerprint("a"), fingerprint("b"));
  EXPECT_EQ(presented(), fingerprint("a"));
  // An API server trusting a's certificate admits through it.
  const std::string review_file = dir.write("review.json", review("u-1", "shop", podOf("job.json")).dump());
  const auto post_trusting = [&](const std::string& name) {
    return curl({"--cacert", dir.path() + "/" + name + ".crt", "--resolve",
                 std::string(kServiceName) + ":" + port + ":127.0.0.1", "-H", "Content-Type: application/json",
                 "--data-binary", "@" + review_file, "https://" + std::string(kServiceName) + ":" + port + "/inject"});
  };
  EXPECT_EQ(post_trusting("a").status, 200);

  install("b");
  ASSERT_TRUE(daemon.signal(SIGHUP));
  std::string now;
  EXPECT_TRUE(waitUntil(
      [&] {
        now = presented();
        return now == fingerprint("b");
      },
      5s))
      << "still presenting " << now << daemon.stderrText();
  EXPECT_EQ(post_trusting("b").status, 200);
  EXPECT_NE(post_trusting("a").exit_code, 0) << "a's certificate is still served";
}

// The same patch offline, on a workload manifest as a user has it.
TEST_F(InjectionWebhookTest, InjectCommandPrintsTheWorkloadWithTheSidecar) {
  const std::string manifest = repoRoot() + "/tests/integration/data/kubernetes/deployment.json";
  CommandResult r = runCommand({SLUICE_CONTROL_BIN, "inject", "-c", daemon_->configPath(), "-f", manifest}, 10s);
  ASSERT_TRUE(exitedWith(r.status, 0)) << r.err;
  const json out = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << r.out;
  EXPECT_EQ(out["kind"], "Deployment");
  const json& tmpl = out["spec"]["template"];
  EXPECT_EQ(names(tmpl["spec"]["initContainers"]), (std::vector<std::string>{"sluice-init", "sluice-proxy"}));
  EXPECT_NE(tmpl["metadata"]["annotations"].value("sluice.io/bootstrap", "").find("id: web.shop~${POD_NAME}"),
            std::string::npos);
  EXPECT_FALSE(tmpl["metadata"].contains("ownerReferences"));
  // --patch: the operations, which kubectl applies to the pod template.
  r = runCommand({SLUICE_CONTROL_BIN, "inject", "-c", daemon_->configPath(), "-f", manifest, "--patch"}, 10s);
  ASSERT_TRUE(exitedWith(r.status, 0)) << r.err;
  const json patch = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(patch.is_array()) << r.out;
  EXPECT_EQ(json::parse(readFile(manifest))["spec"]["template"].patch(patch), tmpl);
  // A file that is not a manifest is an error naming it.
  const std::string bad = dir_.write("bad.yaml", "kind: ConfigMap\nmetadata: {name: x}\n");
  r = runCommand({SLUICE_CONTROL_BIN, "inject", "-c", daemon_->configPath(), "-f", bad}, 10s);
  EXPECT_TRUE(exitedWith(r.status, 1));
  EXPECT_EQ(r.err, "sluice-control inject: " + bad + ": kind 'ConfigMap' has no pod template to inject\n");
}

}  // namespace
}  // namespace sluice::itest
