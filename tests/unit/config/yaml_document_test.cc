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

// A block mapping at column 0 is known whole without a second parse; every
// way out of it to a second document is still found.
TEST(YamlDocumentTest, EveryWayToASecondDocumentIsFound) {
  for (const char* text : {"a: 1\n...\nb: 2\n", "a: 1\n--- \nb: 2\n", "a: 1\n...\n%YAML 1.2\n---\nb: 2\n",
                           "a: 1\n--- [b]\n", "  a: 1\n--- {b: 2}\n", "{a: 1} {b: 2}\n", "[a] [b]\n"}) {
    ParseContext ctx("t.yaml");
    try {
      loadSingleDocument(text, ctx);
    } catch (const YAML::Exception&) {
      continue;  // as an error, also fine
    }
    EXPECT_EQ(ctx.errors().size(), 1u) << text;
  }
  ParseContext ctx("t.yaml");
  const YAML::Node root = loadSingleDocument("a: 1\nb:\n  - \"---\"\n  - |\n    ...\n    --- x\nc: '%'\n", ctx);
  EXPECT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_EQ(root["b"][1].Scalar(), "...\n--- x\n");
}

TEST(YamlDocumentTest, OneDocumentOrNone) {
  ParseContext ctx("t.yaml");
  EXPECT_TRUE(loadSingleDocument("", ctx).IsNull());
  EXPECT_EQ(loadSingleDocument("---\nworkers: 3\n...\n", ctx)["workers"].Scalar(), "3");
  EXPECT_TRUE(ctx.ok());
  EXPECT_THROW(loadSingleDocument("workers: [1\n", ctx), YAML::Exception);
  EXPECT_THROW(loadSingleDocument("workers: 1\n---\n[\n", ctx), YAML::Exception);
}

// Every config string reaches JSON (/config_dump, a listener's identity),
// which takes UTF-8 only: a byte that is not UTF-8 is a syntax error at its
// position, as the YAML spec has it. Found by the config_loader fuzz target
// (a Latin-1 byte in a route's local_ratelimit stat_prefix).
TEST(YamlDocumentTest, TextThatIsNotUtf8IsAnErrorAtItsPosition) {
  EXPECT_EQ(errorsOf("workers: 1\nadmin: {address: \"x\xe9y\"}\n"),
            (Errors{"t.yaml:2:20: not valid UTF-8 (a YAML file is UTF-8 text)"}));
  EXPECT_EQ(errorsOf("\xff"), (Errors{"t.yaml:1:1: not valid UTF-8 (a YAML file is UTF-8 text)"}));
  for (const char* bad : {"\xc0\xae", "\xe0\x80\xae", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    ParseContext ctx("t.yaml");
    EXPECT_THROW(loadSingleDocument(std::string("a: ") + bad + "\n", ctx), YAML::Exception) << bad;
  }
  // Well-formed multibyte text is fine.
  ParseContext ctx("t.yaml");
  EXPECT_EQ(loadSingleDocument("a: \"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82\"\n", ctx)["a"].Scalar(),
            "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82");
}

}  // namespace
}  // namespace sluice::config
