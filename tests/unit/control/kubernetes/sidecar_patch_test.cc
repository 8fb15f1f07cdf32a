// The sidecar patch for real workload manifests (tests/integration/data/
// kubernetes/, shared with the webhook's integration test): golden files,
// one JSON Patch and one bootstrap per case, readable and reviewed as such.
// SLUICE_UPDATE_GOLDEN=1 rewrites them from the current output; review the
// diff. Beside the goldens, the rules a diff could hide: the patch applies,
// the bootstrap is a config sluice accepts, the native-sidecar order holds.

#include "control/kubernetes/sidecar_patch.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/loader.h"
#include "control/control_config.h"

namespace sluice::control::kubernetes {
namespace {

using nlohmann::json;

const std::string kData = std::string(SLUICE_SOURCE_DIR) + "/tests/integration/data/kubernetes/";
const std::string kGolden = std::string(SLUICE_SOURCE_DIR) + "/tests/unit/control/kubernetes/golden/";

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The pod a workload's controller makes from its template, as the API
// server hands it to an admission webhook (no namespace: the request has it).
json podOf(const std::string& file) {
  const json obj = json::parse(readFile(kData + file));
  if (obj["kind"] == "Pod") return obj;
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", obj["spec"]["template"].value("metadata", json::object())},
              {"spec", obj["spec"]["template"]["spec"]}};
  const std::string name = obj["metadata"]["name"];
  json& meta = pod["metadata"];
  if (obj["kind"] == "Deployment") {
    meta["generateName"] = name + "-6c9f8d7b5-";
    meta["labels"]["pod-template-hash"] = "6c9f8d7b5";
    meta["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                                {"kind", "ReplicaSet"},
                                {"name", name + "-6c9f8d7b5"},
                                {"controller", true},
                                {"uid", "7d1c0e4a"}}};
  } else if (obj["kind"] == "StatefulSet") {
    meta["name"] = name + "-0";
    meta["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                                {"kind", "StatefulSet"},
                                {"name", name},
                                {"controller", true},
                                {"uid", "b3f2a9c1"}}};
  } else if (obj["kind"] == "Job") {
    meta["generateName"] = name + "-";
    meta["labels"]["job-name"] = name;
    meta["ownerReferences"] = {
        {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"name", name}, {"controller", true}, {"uid", "e8a04f37"}}};
  }
  return pod;
}

InjectionSpec exampleSpec() {
  // The shipped example's injection block, with the CA's folders named.
  std::string yaml = readFile(std::string(SLUICE_SOURCE_DIR) + "/config/examples/kubernetes/control.yaml");
  for (size_t at; (at = yaml.find("${SLUICE_K8S_STATE}")) != std::string::npos;) yaml.replace(at, 19, "/nonexistent");
  const auto r = loadControlString(yaml, "control.yaml");
  EXPECT_TRUE(r.config) << r.errorText();
  InjectionSpec spec = r.config ? *r.config->injection : InjectionSpec{};
  // What the daemon fills in from its CA: the roots the sidecar verifies the CA's port with.
  spec.ca_root_pem = "-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIRAJ2x\n-----END CERTIFICATE-----\n";
  return spec;
}

void checkGolden(const std::string& name, const std::string& text) {
  const std::string path = kGolden + name;
  if (std::getenv("SLUICE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << text;
    return;
  }
  EXPECT_EQ(readFile(path), text) << "differs from " << path << " (SLUICE_UPDATE_GOLDEN=1 rewrites it)";
}

// The sidecar's bootstrap is a config sluice starts from.
void expectSluiceAccepts(const std::string& bootstrap) {
  ::setenv("POD_NAME", "web-6c9f8d7b5-x2x9z", 0);
  const auto r = config::loadString(bootstrap, "bootstrap.yaml");
  EXPECT_TRUE(r.config) << r.errorText() << bootstrap;
}

std::vector<std::string> names(const json& list) {
  std::vector<std::string> out;
  if (list.is_array())
    for (const auto& c : list) out.push_back(c.value("name", ""));
  return out;
}

json applied(const json& pod, const SidecarPatch& p) { return pod.patch(p.patch); }

class SidecarPatchGolden : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(SidecarPatchGolden, MatchesItsGoldenFilesAndApplies) {
  const auto [file, ns] = GetParam();
  const std::string name = std::string(file).substr(0, std::string(file).find('.'));
  const json pod = podOf(file);
  const SidecarPatch p = buildSidecarPatch(pod, exampleSpec(), ns);
  ASSERT_EQ(p.outcome, SidecarPatch::Outcome::Injected) << p.reason;
  checkGolden(name + ".patch.json", p.patch.dump(2) + "\n");
  checkGolden(name + ".bootstrap.yaml", p.bootstrap);
  json warnings = p.warnings;
  checkGolden(name + ".warnings.json", warnings.dump(2) + "\n");
  expectSluiceAccepts(p.bootstrap);

  const json out = applied(pod, p);
  EXPECT_EQ(out["metadata"]["annotations"][kBootstrapAnnotation], p.bootstrap);
  EXPECT_EQ(out["metadata"]["annotations"][kStatusAnnotation], "injected");
  // Native sidecar: sluice-init, then sluice-proxy (restartPolicy Always), then the pod's own.
  std::vector<std::string> want = {kInitContainer, kProxyContainer};
  for (const auto& n : names(pod["spec"].value("initContainers", json::array()))) want.push_back(n);
  EXPECT_EQ(names(out["spec"]["initContainers"]), want);
  EXPECT_EQ(out["spec"]["initContainers"][1]["restartPolicy"], "Always");
  EXPECT_FALSE(out["spec"]["initContainers"][0].contains("restartPolicy"));
  EXPECT_EQ(names(out["spec"]["containers"]), names(pod["spec"]["containers"]));
  // Everything the pod had is still there.
  for (const auto& v : pod["spec"].value("volumes", json::array())) {
    bool found = false;
    for (const auto& w : out["spec"]["volumes"]) found = found || w == v;
    EXPECT_TRUE(found) << v.dump();
  }
  // Injecting the injected pod changes nothing.
  const SidecarPatch again = buildSidecarPatch(out, exampleSpec(), ns);
  EXPECT_EQ(again.outcome, SidecarPatch::Outcome::Skipped);
  EXPECT_EQ(again.reason, "already_injected");
  EXPECT_TRUE(again.patch.empty());
}

INSTANTIATE_TEST_SUITE_P(Workloads, SidecarPatchGolden,
                         ::testing::Values(std::pair{"deployment.json", "shop"}, std::pair{"statefulset.json", "data"},
                                           std::pair{"job.json", "shop"}, std::pair{"pod-init-probes.json", "default"}),
                         [](const auto& info) {
                           std::string n = info.param.first;
                           n = n.substr(0, n.find('.'));
                           for (auto& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(SidecarPatch, AClassicSidecarGoesFirstInContainersWithoutRestartPolicy) {
  InjectionSpec spec = exampleSpec();
  spec.native_sidecar = false;
  const json pod = podOf("deployment.json");
  const SidecarPatch p = buildSidecarPatch(pod, spec, "shop");
  ASSERT_EQ(p.outcome, SidecarPatch::Outcome::Injected);
  checkGolden("deployment-classic.patch.json", p.patch.dump(2) + "\n");
  const json out = applied(pod, p);
  EXPECT_EQ(names(out["spec"]["initContainers"]), std::vector<std::string>{kInitContainer});
  EXPECT_EQ(names(out["spec"]["containers"]), (std::vector<std::string>{kProxyContainer, "web"}));
  EXPECT_FALSE(out["spec"]["containers"][0].contains("restartPolicy"));
  EXPECT_FALSE(out["spec"]["containers"][0].contains("startupProbe"));
  // The app's probes were rewritten before the sidecar moved it to index 1.
  EXPECT_EQ(out["spec"]["containers"][1]["readinessProbe"]["httpGet"]["port"], kHealthPort);
}

TEST(SidecarPatch, PodsLeftAloneGetAnEmptyPatchAndAReason) {
  for (auto [file, reason] : {std::pair{"host-network.json", "host_network"}, std::pair{"opt-out.json", "disabled"},
                              std::pair{"injected.json", "already_injected"}}) {
    const SidecarPatch p = buildSidecarPatch(podOf(file), exampleSpec(), "default");
    EXPECT_EQ(p.outcome, SidecarPatch::Outcome::Skipped) << file;
    EXPECT_EQ(p.reason, reason) << file;
    EXPECT_TRUE(p.patch.empty()) << file;
  }
  json pod = podOf("job.json");
  pod["spec"]["containers"].push_back({{"name", "sluice-proxy"}, {"image", "x"}});
  EXPECT_EQ(buildSidecarPatch(pod, exampleSpec()).reason, "already_injected");
}

// The pod's own say: the label sluice.io/inject (what the chart's
// object.sluice.io webhook selects "true" pods by) or the annotation of the
// same name; "false" in either wins.
TEST(SidecarPatch, ThePodsLabelOrAnnotationDecides) {
  const auto outcome = [](json labels, json annotations) {
    json pod = podOf("job.json");
    if (!labels.empty()) pod["metadata"]["labels"].update(labels);
    if (!annotations.empty()) pod["metadata"]["annotations"].update(annotations);
    const SidecarPatch p = buildSidecarPatch(pod, exampleSpec(), "unlabelled");
    switch (p.outcome) {
      case SidecarPatch::Outcome::Injected: return std::string("injected");
      case SidecarPatch::Outcome::Skipped: return "skipped: " + p.reason;
      default: return "failed: " + p.reason;
    }
  };
  const json t = {{"sluice.io/inject", "true"}}, f = {{"sluice.io/inject", "false"}}, none = json::object();
  EXPECT_EQ(outcome(t, none), "injected");
  EXPECT_EQ(outcome(none, t), "injected");
  EXPECT_EQ(outcome(t, t), "injected");
  EXPECT_EQ(outcome(f, none), "skipped: disabled");
  EXPECT_EQ(outcome(none, f), "skipped: disabled");
  EXPECT_EQ(outcome(f, t), "skipped: disabled");
  EXPECT_EQ(outcome(t, f), "skipped: disabled");
  EXPECT_EQ(outcome({{"sluice.io/inject", "yes"}}, none),
            "failed: label sluice.io/inject must be \"true\" or \"false\", not \"yes\"");
  // Another label's "false" is not the pod's say.
  EXPECT_EQ(outcome({{"other.example/inject", "false"}}, none), "injected");
}

TEST(SidecarPatch, PodsThatCannotBeInjectedSayWhy) {
  const InjectionSpec spec = exampleSpec();
  json pod = podOf("opt-out.json");
  pod["metadata"]["annotations"]["sluice.io/inject"] = "yes";
  SidecarPatch p = buildSidecarPatch(pod, spec);
  EXPECT_EQ(p.outcome, SidecarPatch::Outcome::Failed);
  EXPECT_EQ(p.reason, "annotation sluice.io/inject must be \"true\" or \"false\", not \"yes\"");

  pod = podOf("job.json");
  pod["metadata"]["annotations"] = {{"sluice.io/exclude-inbound-ports", "80, http"}};
  p = buildSidecarPatch(pod, spec);
  EXPECT_EQ(p.reason, "annotation sluice.io/exclude-inbound-ports: 'http' is not a port (1 to 65535)");

  pod["metadata"]["annotations"] = {{"sluice.io/exclude-outbound-cidrs", "10.0.0.0/33"}};
  p = buildSidecarPatch(pod, spec);
  EXPECT_EQ(p.outcome, SidecarPatch::Outcome::Failed);
  EXPECT_EQ(p.reason.rfind("annotation sluice.io/exclude-outbound-cidrs: '10.0.0.0/33' is not a CIDR", 0), 0u)
      << p.reason;

  pod = podOf("job.json");
  pod["spec"]["containers"][0]["ports"] = {{{"containerPort", 15006}}};
  p = buildSidecarPatch(pod, spec);
  EXPECT_EQ(p.reason, "container migrate uses port 15006, which the sidecar owns (15001, 15006, 15020 and 15021)");

  pod = podOf("job.json");
  pod["spec"].erase("containers");
  EXPECT_EQ(buildSidecarPatch(pod, spec).reason, "the pod has no containers");
  EXPECT_EQ(buildSidecarPatch(json::array(), spec).reason, "the object is not a pod");
}

TEST(SidecarPatch, AnnotationKeysAreEscapedAsPointerTokens) {
  EXPECT_EQ(pointerToken("sluice.io/status"), "sluice.io~1status");
  EXPECT_EQ(pointerToken("a~b/c"), "a~0b~1c");
  const SidecarPatch p = buildSidecarPatch(podOf("pod-init-probes.json"), exampleSpec());
  ASSERT_EQ(p.outcome, SidecarPatch::Outcome::Injected);
  EXPECT_EQ(p.patch[0]["path"], "/metadata/annotations/sluice.io~1status");
}

TEST(SidecarPatch, ProbeRewritingCanBeTurnedOffAndThenExcludesThePorts) {
  InjectionSpec spec = exampleSpec();
  spec.rewrite_probes = false;
  const json pod = podOf("deployment.json");
  const SidecarPatch p = buildSidecarPatch(pod, spec, "shop");
  ASSERT_EQ(p.outcome, SidecarPatch::Outcome::Injected);
  const json out = applied(pod, p);
  EXPECT_EQ(out["spec"]["containers"][0]["readinessProbe"], pod["spec"]["containers"][0]["readinessProbe"]);
  const json cmd = out["spec"]["initContainers"][0]["command"];
  const auto it = std::find(cmd.begin(), cmd.end(), "--exclude-inbound-ports");
  ASSERT_NE(it, cmd.end());
  EXPECT_EQ(*(it + 1), "8080,15021");
  ASSERT_EQ(p.warnings.size(), 1u);
}

}  // namespace
}  // namespace sluice::control::kubernetes
