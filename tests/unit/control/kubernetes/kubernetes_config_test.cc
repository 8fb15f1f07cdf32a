// The `kubernetes:` block of control.yaml and the access it resolves to:
// in cluster, a kubeconfig, or an explicit server.

#include "control/kubernetes/kubernetes_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "control/control_config.h"
#include "control/kubernetes/api_access.h"

namespace sluice::control::kubernetes {
namespace {

std::string errorsOf(const std::string& yaml) {
  return loadControlString(yaml, "control.yaml").errorText();
}

TEST(KubernetesConfig, ReadsAnApiServerWithItsFilesRelativeToTheConfig) {
  const auto r = loadControlString(
      "kubernetes:\n"
      "  api_server: https://10.0.0.1:6443\n"
      "  token_file: secrets/token\n"
      "  ca_file: /etc/ca.crt\n"
      "  namespaces: [prod, data]\n"
      "  backoff: {initial: 50ms, max: 2s}\n",
      "/etc/sluice/control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const KubernetesSpec& k = *r.config->kubernetes;
  EXPECT_EQ(k.token_file, "/etc/sluice/secrets/token");
  EXPECT_EQ(k.ca_file, "/etc/ca.crt");
  EXPECT_EQ(k.namespaces, (std::vector<std::string>{"prod", "data"}));
  EXPECT_EQ(k.backoff_initial, std::chrono::milliseconds(50));
  EXPECT_EQ(k.backoff_max, std::chrono::seconds(2));
  EXPECT_EQ(k.page_size, 500u);
  // Discovery configured: a mesh (empty until it answers) exists.
  ASSERT_TRUE(r.config->mesh);
}

TEST(KubernetesConfig, ErrorsNameTheirPosition) {
  EXPECT_EQ(errorsOf("kubernetes: {in_cluster: true, kubeconfig: k}\n"),
            "control.yaml:1:13: kubernetes: needs exactly one of 'in_cluster: true', 'kubeconfig' or 'api_server'\n");
  EXPECT_EQ(errorsOf("kubernetes:\n  api_server: http://10.0.0.1:8080\n"),
            "control.yaml:2:15: kubernetes.api_server: http:// is allowed to a loopback address only (the bearer "
            "token would cross the network in clear)\n");
  EXPECT_EQ(errorsOf("kubernetes:\n  in_cluster: true\n  ca_file: x\n"),
            "control.yaml:3:12: kubernetes.ca_file: is for api_server (in_cluster and kubeconfig name their own)\n");
  EXPECT_EQ(errorsOf("kubernetes:\n  in_cluster: true\n  backoff: {initial: 2s, max: 1s}\n"),
            "control.yaml:3:31: kubernetes.backoff.max: must not be less than initial\n");
  EXPECT_EQ(errorsOf("kubernetes:\n  in_cluster: true\n  colour: blue\n"),
            "control.yaml:3:3: kubernetes: unknown field 'colour'\n");
}

TEST(KubernetesConfig, LoopbackHttpIsAllowedForTests) {
  std::string error;
  const auto url = parseApiUrl("http://127.0.0.1:18080/", error);
  ASSERT_TRUE(url) << error;
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->port, "18080");
  const auto v6 = parseApiUrl("https://[fd00::1]", error);
  ASSERT_TRUE(v6) << error;
  EXPECT_EQ(v6->host, "fd00::1");
  EXPECT_EQ(v6->port, "443");
  EXPECT_FALSE(parseApiUrl("https://example.com/api", error));
}

class Kubeconfig : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kubeconfig-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
    return dir_ + "/" + name;
  }
  std::string dir_;
};

TEST_F(Kubeconfig, TheCurrentContextsClusterAndUserWithInlineData) {
  // "-----BEGIN CERTIFICATE-----\n" and "tok" base64-encoded, as kubectl writes them.
  const std::string path = write("config",
                                 "apiVersion: v1\n"
                                 "kind: Config\n"
                                 "current-context: prod\n"
                                 "clusters:\n"
                                 "- name: other\n"
                                 "  cluster: {server: https://192.0.2.1}\n"
                                 "- name: prod-cluster\n"
                                 "  cluster:\n"
                                 "    server: https://10.1.2.3:6443\n"
                                 "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
                                 "contexts:\n"
                                 "- name: dev\n"
                                 "  context: {cluster: other, user: dev}\n"
                                 "- name: prod\n"
                                 "  context: {cluster: prod-cluster, user: admin, namespace: prod}\n"
                                 "users:\n"
                                 "- name: admin\n"
                                 "  user:\n"
                                 "    client-certificate: admin.crt\n"
                                 "    client-key-data: dG9r\n"
                                 "    token: abc.def\n");
  write("admin.crt", "CERT PEM\n");
  std::string error;
  const auto text = readWholeFile(path, error);
  ASSERT_TRUE(text) << error;
  const auto a = parseKubeconfig(*text, path, error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->url.host, "10.1.2.3");
  EXPECT_EQ(a->url.port, "6443");
  EXPECT_TRUE(a->url.tls);
  EXPECT_EQ(a->ca_pem, "-----BEGIN CERTIFICATE-----\n");
  EXPECT_EQ(a->client_cert_pem, "CERT PEM\n");  // relative to the kubeconfig
  EXPECT_EQ(a->client_key_pem, "tok");
  EXPECT_EQ(a->token, "abc.def");
}

TEST_F(Kubeconfig, MissingPiecesAndPluginsAreClearErrors) {
  std::string error;
  EXPECT_FALSE(parseKubeconfig("apiVersion: v1\n", dir_ + "/c", error));
  EXPECT_EQ(error, dir_ + "/c: no current-context");
  EXPECT_FALSE(parseKubeconfig("current-context: x\ncontexts: []\n", dir_ + "/c", error));
  EXPECT_EQ(error, dir_ + "/c: context 'x' not found or has no cluster");
  EXPECT_FALSE(parseKubeconfig("current-context: x\n"
                               "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
                               "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
                               "users: [{name: u, user: {exec: {command: aws}}}]\n",
                               dir_ + "/c", error));
  EXPECT_EQ(error, dir_ + "/c: user 'u' uses an exec or auth-provider plugin, which is not supported");
  EXPECT_FALSE(parseKubeconfig("current-context: x\n"
                               "contexts: [{name: x, context: {cluster: c}}]\n"
                               "clusters: [{name: c, cluster: {server: 'https://h', certificate-authority: ca.pem}}]\n",
                               dir_ + "/c", error));
  EXPECT_NE(error.find("ca.pem: No such file or directory"), std::string::npos) << error;
}

TEST_F(Kubeconfig, AnExplicitServerReadsItsCaAndKeepsTheTokenFileToReadPerRequest) {
  KubernetesSpec spec;
  spec.api_server = "https://10.0.0.1";
  spec.ca_file = write("ca.crt", "CA");
  spec.token_file = dir_ + "/token";
  std::string error;
  const auto a = resolveAccess(spec, error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->ca_pem, "CA");
  EXPECT_EQ(a->token_file, dir_ + "/token");
  spec.ca_file = dir_ + "/missing";
  EXPECT_FALSE(resolveAccess(spec, error));
}

}  // namespace
}  // namespace sluice::control::kubernetes
