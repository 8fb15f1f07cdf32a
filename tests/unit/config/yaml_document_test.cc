// loadSingleDocument: one document or an error, always in bounded time
// (yaml-cpp 0.7's LoadAll looped forever, growing, on a lone ","; found by
// the config_loader fuzz target).
#include "config/yaml_document.h"

#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/unit/config/load_support.h"

namespace sluice::config {
namespace {

using testing::Errors;
using testing::errorsOf;

TEST(YamlDocumentTest, LoneCommaIsAnErrorNotAHang) {
  ParseContext ctx("t.yaml");
  loadSingleDocument(",\n", ctx);
  ASSERT_EQ(ctx.errors().size(), 1u);
  EXPECT_EQ(ctx.errors()[0].str(), "t.yaml:1:1: expected a single YAML document");
  // Through the loader, after a config's comment lines, as the fuzzer found it.
  const Errors errors = errorsOf("# a comment\n,,,,#   another\nworkers: 1\n");
  ASSERT_FALSE(errors.empty());
}

TEST(YamlDocumentTest, SecondDocumentIsNamedAtItsFirstNode) {
  ParseContext ctx("t.yaml");
  const YAML::Node root = loadSingleDocument("workers: 1\n---\nworkers: 2\n", ctx);
  EXPECT_EQ(root["workers"].Scalar(), "1");
  ASSERT_EQ(ctx.errors().size(), 1u);
  EXPECT_EQ(ctx.errors()[0].str(), "t.yaml:3:1: expected a single YAML document");
}

TEST(YamlDocumentTest, OneDocumentOrNone) {
  ParseContext ctx("t.yaml");
  EXPECT_TRUE(loadSingleDocument("", ctx).IsNull());
  EXPECT_EQ(loadSingleDocument("---\nworkers: 3\n...\n", ctx)["workers"].Scalar(), "3");
  EXPECT_TRUE(ctx.ok());
  EXPECT_THROW(loadSingleDocument("workers: [1\n", ctx), YAML::Exception);
  EXPECT_THROW(loadSingleDocument("workers: 1\n---\n[\n", ctx), YAML::Exception);
}

}  // namespace
}  // namespace sluice::config
