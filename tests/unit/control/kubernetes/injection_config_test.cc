// control.yaml's `injection:` block: defaults, and every mistake reported
// at its file:line:col with its path, the file refused whole.

#include "control/kubernetes/injection_config.h"

#include <gtest/gtest.h>

#include "control/control_config.h"

namespace sluice::control::kubernetes {
namespace {

const std::string kCa = "ca: {trust_domain: cluster.local, dir: /nonexistent, token_keys: [/nonexistent/k]}\n";

std::string errorsOf(const std::string& yaml) {
  const auto r = loadControlString(yaml, "control.yaml");
  EXPECT_FALSE(r.config) << yaml;
  return r.errorText();
}

TEST(InjectionConfig, DefaultsAreTheSidecarsUsualOnes) {
  const auto r = loadControlString(kCa + "injection: {ads_address: 'sluice-control.sluice-system.svc:15010', image: sluice:1}\n",
                                   "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const InjectionSpec& s = *r.config->injection;
  EXPECT_EQ(s.webhook.address, "127.0.0.1:15017");
  EXPECT_EQ(s.webhook.path, "/inject");
  EXPECT_EQ(s.webhook.dns_names, std::vector<std::string>{"sluice-control.sluice-system.svc"});
  EXPECT_FALSE(s.webhook.cert_file);
  EXPECT_EQ(s.failure_policy, FailurePolicy::Fail);
  EXPECT_TRUE(s.native_sidecar);
  EXPECT_EQ(s.init_image, "sluice:1");
  EXPECT_EQ(s.requests.cpu, "100m");
  EXPECT_EQ(s.limits.memory, "1Gi");
  EXPECT_EQ(s.token_audience, "sluice-ca");
  EXPECT_EQ(s.token_expiration_seconds, 3600u);
  EXPECT_FALSE(loadControlString(kCa, "control.yaml").config->injection);
}

TEST(InjectionConfig, FilesAreTakenFromControlYamlsFolder) {
  const auto r = loadControlString(
      "injection:\n  webhook: {cert_file: tls/tls.crt, key_file: /abs/tls.key}\n  ads_address: cp:15010\n"
      "  image: sluice:1\n  failure_policy: Ignore\n  native_sidecar: false\n",
      "deploy/control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  EXPECT_EQ(r.config->injection->webhook.cert_file->path, "deploy/tls/tls.crt");
  EXPECT_EQ(r.config->injection->webhook.key_file->path, "/abs/tls.key");
  EXPECT_EQ(r.config->injection->failure_policy, FailurePolicy::Ignore);
  EXPECT_FALSE(r.config->injection->native_sidecar);
}

TEST(InjectionConfig, MistakesNameTheirPlace) {
  EXPECT_EQ(errorsOf("injection:\n  ads_address: cp:15010\n  image: sluice:1\n"),
            "control.yaml:2:3: injection.webhook: missing: the serving certificate comes from the mesh CA (`ca:`) or "
            "from cert_file and key_file\n");
  EXPECT_EQ(errorsOf(kCa + "injection:\n  image: sluice:1\n"),
            "control.yaml:3:3: injection.ads_address: missing required field\n");
  EXPECT_EQ(errorsOf(kCa +
                     "injection:\n"
                     "  webhook: {path: inject, dns_names: [Bad_Name], cert_file: a.crt}\n"
                     "  failure_policy: Sometimes\n"
                     "  ads_address: no-port\n"
                     "  image: sluice:1\n"
                     "  image_pull_policy: Often\n"
                     "  resources: {requests: {cpu: lots}, limits: {memory: 1Gb}}\n"
                     "  exclude_inbound_ports: [0, 22]\n"
                     "  exclude_outbound_cidrs: [10.0.0.0/40]\n"
                     "  surprise: 1\n"),
            "control.yaml:3:12: injection.webhook: needs both cert_file and key_file, or neither\n"
            "control.yaml:3:19: injection.webhook.path: must be a path starting with '/' ('/inject')\n"
            "control.yaml:3:39: injection.webhook.dns_names[0]: expected a DNS name (lower-case labels: "
            "'sluice-control.sluice-system.svc')\n"
            "control.yaml:4:19: injection.failure_policy: must be Fail or Ignore, not 'Sometimes'\n"
            "control.yaml:5:16: injection.ads_address: expected host:port ('sluice-control.sluice-system.svc:15010'), "
            "got 'no-port'\n"
            "control.yaml:7:22: injection.image_pull_policy: must be Always, IfNotPresent or Never\n"
            "control.yaml:8:31: injection.resources.requests.cpu: 'lots' is not a Kubernetes quantity ('100m', "
            "'128Mi')\n"
            "control.yaml:8:55: injection.resources.limits.memory: '1Gb' is not a Kubernetes quantity ('100m', "
            "'128Mi')\n"
            "control.yaml:9:27: injection.exclude_inbound_ports[0]: expected a port (1 to 65535)\n"
            "control.yaml:10:28: injection.exclude_outbound_cidrs[0]: expected a CIDR ('10.0.0.0/8'): "
            "prefix length must be 0..32\n"
            "control.yaml:11:3: injection: unknown field 'surprise'\n");
}

TEST(InjectionConfig, QuantitiesAreKubernetesOnes) {
  for (const char* ok : {"100m", "2", "0.5", "128Mi", "1Gi", "1.5G", "500k"}) EXPECT_TRUE(isQuantity(ok)) << ok;
  for (const char* bad : {"", "m", "1Gb", "1 Gi", "-1", "1e3x", "."}) EXPECT_FALSE(isQuantity(bad)) << bad;
}

}  // namespace
}  // namespace sluice::control::kubernetes
