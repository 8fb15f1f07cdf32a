// The in-cluster access (`kubernetes: {in_cluster: true}`): the API server
// from KUBERNETES_SERVICE_HOST/PORT, IPv4 and IPv6, and the service
// account's CA and token from its folder (here a temp folder in its place).

#include "control/kubernetes/api_access.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace sluice::control::kubernetes {
namespace {

class InClusterAccess : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/in-cluster-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    write("ca.crt", "CLUSTER CA PEM\n");
    write("token", "a-service-account-token");
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }
  std::optional<ApiAccess> access(std::string_view host, std::string_view port) {
    error_.clear();
    return inClusterAccess(host, port, dir_, error_);
  }
  std::string dir_, error_;
};

TEST_F(InClusterAccess, TheServiceHostAndPortWithTheMountedCaAndToken) {
  const auto a = access("10.96.0.1", "443");
  ASSERT_TRUE(a) << error_;
  EXPECT_TRUE(a->url.tls);
  EXPECT_EQ(a->url.host, "10.96.0.1");
  EXPECT_EQ(a->url.port, "443");
  EXPECT_EQ(a->ca_pem, "CLUSTER CA PEM\n");
  // The token is read per request (the kubelet rotates it): its path is kept.
  EXPECT_EQ(a->token_file, dir_ + "/token");
  EXPECT_TRUE(a->token.empty());
  EXPECT_EQ(a->describe, "https://10.96.0.1:443 (in cluster)");
  EXPECT_EQ(hostPort(a->url), "10.96.0.1:443");

  const auto no_port = access("10.96.0.1", "");
  ASSERT_TRUE(no_port) << error_;
  EXPECT_EQ(no_port->url.port, "443");
}

TEST_F(InClusterAccess, AnIpv6HostBareAsKubernetesSetsItOrInBrackets) {
  for (const char* host : {"::1", "[::1]"}) {
    const auto a = access(host, "6443");
    ASSERT_TRUE(a) << host << ": " << error_;
    EXPECT_EQ(a->url.host, "::1") << host;  // what the resolver and certificate check take
    EXPECT_EQ(a->url.port, "6443");
    EXPECT_EQ(hostPort(a->url), "[::1]:6443");  // the Host header and logs
    EXPECT_EQ(a->describe, "https://[::1]:6443 (in cluster)");
  }
  const auto a = access("fd00:10:96::1", "");
  ASSERT_TRUE(a) << error_;
  EXPECT_EQ(a->url.host, "fd00:10:96::1");
  EXPECT_EQ(hostPort(a->url), "[fd00:10:96::1]:443");
}

TEST_F(InClusterAccess, BadVariablesAreClearErrors) {
  EXPECT_FALSE(access("", "443"));
  EXPECT_EQ(error_, "in_cluster: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)");
  EXPECT_FALSE(access("10.96.0.1", "https"));
  EXPECT_EQ(error_, "in_cluster: KUBERNETES_SERVICE_HOST '10.96.0.1' and KUBERNETES_SERVICE_PORT 'https': has an "
                    "invalid port");
  EXPECT_FALSE(access("10.96.0.1", "70000"));
  EXPECT_NE(error_.find("has an invalid port"), std::string::npos) << error_;
  EXPECT_FALSE(access("[::1", "443"));
  EXPECT_EQ(error_, "in_cluster: KUBERNETES_SERVICE_HOST '[::1' has an unclosed '['");
  EXPECT_FALSE(access("[]", "443"));
  EXPECT_EQ(error_, "in_cluster: KUBERNETES_SERVICE_HOST '[]' has no address");
}

TEST_F(InClusterAccess, MissingFilesNameThemselves) {
  ASSERT_EQ(::unlink((dir_ + "/token").c_str()), 0);
  EXPECT_FALSE(access("10.96.0.1", "443"));
  EXPECT_EQ(error_, "in_cluster: " + dir_ +
                        "/token: No such file or directory (the service account's token: is "
                        "automountServiceAccountToken off?)");
  ASSERT_EQ(::unlink((dir_ + "/ca.crt").c_str()), 0);
  EXPECT_FALSE(access("10.96.0.1", "443"));
  EXPECT_EQ(error_, "in_cluster: " + dir_ +
                        "/ca.crt: No such file or directory (the cluster's CA, mounted with the service account)");
}

// resolveAccess: the environment, and the folder it is given.
TEST_F(InClusterAccess, ResolveAccessReadsTheEnvironmentAndTheGivenFolder) {
  KubernetesSpec spec;
  spec.in_cluster = true;
  ::setenv("KUBERNETES_SERVICE_HOST", "::1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "8443", 1);
  const auto a = resolveAccess(spec, error_, dir_);
  ASSERT_TRUE(a) << error_;
  EXPECT_EQ(hostPort(a->url), "[::1]:8443");
  EXPECT_EQ(a->token_file, dir_ + "/token");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  const auto b = resolveAccess(spec, error_, dir_);
  ASSERT_TRUE(b) << error_;
  EXPECT_EQ(b->url.port, "443");
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_FALSE(resolveAccess(spec, error_, dir_));
  EXPECT_EQ(error_, "in_cluster: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)");
  // The default folder is the kubelet's mount, absent on this machine.
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  if (::access(std::string(kServiceAccountDir).c_str(), F_OK) != 0) {
    EXPECT_FALSE(resolveAccess(spec, error_));
    EXPECT_EQ(error_.rfind("in_cluster: " + std::string(kServiceAccountDir) + "/ca.crt: ", 0), 0u) << error_;
  }
  ::unsetenv("KUBERNETES_SERVICE_HOST");
}

}  // namespace
}  // namespace sluice::control::kubernetes
