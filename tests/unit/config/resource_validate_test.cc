// References to resources a file gives inline (a cluster's load assignment,
// a TLS block's secrets): never missing from YAML, since the reader lifts
// them, but a config built from resources that arrive one by one can lack
// one. Missing is a located error under References::Strict and a warning
// under WarnAndServe.
#include "config/resource_validate.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/config/load_support.h"

namespace sluice::config {
namespace {

using testing::loadOk;

constexpr const char* kWeb = R"(listeners:
  - name: in
    address: 127.0.0.1:0
    tls: {certificates: [{cert_chain: /dev/null, private_key: /dev/null}], ca_bundle: /dev/null}
    tcp_proxy: {cluster: web}
clusters:
  - name: web
    endpoints: [{address: 127.0.0.1:1}]
    tls: {ca_bundle: /dev/null}
)";

TEST(ResourceValidateTest, LiftedLoadAssignmentsAreFound) {
  auto cfg = loadOk(kWeb);
  ASSERT_NE(cfg, nullptr);
  ParseContext ctx("t.yaml");
  validateResourceReferences(*cfg, ctx);
  EXPECT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_TRUE(ctx.warnings().empty());
}

TEST(ResourceValidateTest, MissingLoadAssignmentIsALocatedError) {
  auto cfg = loadOk(kWeb);
  ASSERT_NE(cfg, nullptr);
  Config partial = *cfg;
  partial.load_assignments.clear();
  const std::string why = "t.yaml:7:5: clusters[0]: unknown load assignment 'web' (the cluster's endpoints)";

  ParseContext strict("t.yaml");
  validateResourceReferences(partial, strict);
  EXPECT_EQ(strict.str(), why + "\n");

  ParseContext lenient("t.yaml", References::WarnAndServe);
  validateResourceReferences(partial, lenient);
  EXPECT_TRUE(lenient.ok()) << lenient.str();
  ASSERT_EQ(lenient.warnings().size(), 1u);
  EXPECT_EQ(lenient.warnings()[0].str(), why);
  // Served as a cluster without hosts.
  EXPECT_TRUE(partial.endpointsOf(partial.clusters[0]).empty());
}

TEST(ResourceValidateTest, MissingSecretsAreLocatedErrors) {
  auto cfg = loadOk(kWeb);
  ASSERT_NE(cfg, nullptr);
  Config partial = *cfg;
  partial.secrets.clear();
  ParseContext strict("t.yaml");
  validateResourceReferences(partial, strict);
  EXPECT_EQ(strict.str(),
            "t.yaml:4:10: listeners[0].tls.certificates[0]: unknown secret 'cert:/dev/null,/dev/null'\n"
            "t.yaml:4:10: listeners[0].tls.ca_bundle: unknown secret 'ca:/dev/null'\n"
            "t.yaml:9:10: clusters[0].tls.ca_bundle: unknown secret 'ca:/dev/null'\n");

  ParseContext lenient("t.yaml", References::WarnAndServe);
  validateResourceReferences(partial, lenient);
  EXPECT_TRUE(lenient.ok()) << lenient.str();
  EXPECT_EQ(lenient.warnings().size(), 3u);
}

}  // namespace
}  // namespace sluice::config
