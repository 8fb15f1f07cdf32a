// References to resources a file gives inline (a cluster's load assignment):
// never missing from YAML, since the reader lifts them, but a config built
// from resources that arrive one by one can lack one. Missing is a located
// error under References::Strict and a warning under WarnAndServe.
#include "config/resource_validate.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/config/load_support.h"

namespace sluice::config {
namespace {

using testing::loadOk;

constexpr const char* kWeb = R"(listeners: []
clusters:
  - name: web
    endpoints: [{address: 127.0.0.1:1}]
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
  const std::string why = "t.yaml:3:5: clusters[0]: unknown load assignment 'web' (the cluster's endpoints)";

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

}  // namespace
}  // namespace sluice::config
