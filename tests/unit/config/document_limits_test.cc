// checkExpandedSize: a YAML alias bomb is refused before anything walks it
// (found by the config_loader fuzz target: environment substitution never
// finished on a 600-byte "billion laughs").
#include "config/document_limits.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "config/loader.h"

namespace sluice::config {
namespace {

// Seven levels of ten aliases each: 10^7 nodes once expanded.
const char* const kLaughs = R"(a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "${HOME}"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
listeners: [*g]
)";

TEST(DocumentLimitsTest, AliasBombIsAnErrorAndQuick) {
  const auto start = std::chrono::steady_clock::now();
  const LoadResult r = loadString(kLaughs, "t.yaml");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_EQ(r.config, nullptr);
  ASSERT_EQ(r.errors.size(), 1u) << r.errorText();
  EXPECT_GT(r.errors[0].line, 0);
  EXPECT_NE(r.errors[0].message.find("expands to more than 1000000 nodes"), std::string::npos) << r.errorText();
}

TEST(DocumentLimitsTest, CountsExpandedNodesUpToTheLimit) {
  const std::string text = "a: &a [1, 2, 3]\nb: [*a, *a]\n";
  // The root, 2 keys, a's list with its 3 items, b's list and a's list twice more: 16.
  ParseContext ok("t.yaml");
  EXPECT_TRUE(checkExpandedSize(text, ok, 16));
  EXPECT_TRUE(ok.ok());
  ParseContext over("t.yaml");
  EXPECT_FALSE(checkExpandedSize(text, over, 15));
  ASSERT_EQ(over.errors().size(), 1u);
  EXPECT_EQ(over.errors()[0].line, 2);
}

TEST(DocumentLimitsTest, AnchoredMapsAndScalarsCountAsTheirWholeNode) {
  // root, 3 keys, a's map (2 pairs: 4 nodes + itself), the scalar, then the
  // map and the scalar again through aliases: 1 + 3 + 5 + 1 + 5 + 1 = 16.
  const std::string text = "a: &m {x: 1, y: 2}\ns: &s word\nc: [*m, *s]\n";
  ParseContext ok("t.yaml");
  EXPECT_TRUE(checkExpandedSize(text, ok, 17));  // c's list is one more
  ParseContext over("t.yaml");
  EXPECT_FALSE(checkExpandedSize(text, over, 16));
}

// Found by the config_loader fuzz target: an alias inside its own anchor
// makes yaml-cpp build a cycle, and the tree walk that bounded expansion
// then ran to its limit (seconds under the sanitizers).
TEST(DocumentLimitsTest, AnAliasInsideItsOwnAnchorIsACycleAndAnErrorAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  const LoadResult r = loadString("listeners: []\nc: &c [1, 2, *c]\n", "t.yaml");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  ASSERT_EQ(r.config, nullptr);
  ASSERT_EQ(r.errors.size(), 1u) << r.errorText();
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_NE(r.errors[0].message.find("a cycle"), std::string::npos) << r.errorText();
}

TEST(DocumentLimitsTest, TheFuzzersSelfReferencingBombIsRefusedQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const LoadResult r = loadString(R"(a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "${SLUICE_FUZZ}"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *c, g]
)",
                                  "t.yaml");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  ASSERT_EQ(r.config, nullptr);
  EXPECT_NE(r.errorText().find("a cycle"), std::string::npos) << r.errorText();
}

TEST(DocumentLimitsTest, OrdinaryAliasesStillLoad) {
  const LoadResult r = loadString(R"(clusters:
  - name: a
    connect_timeout: &timeout 1s
    endpoints: &endpoints [{address: 127.0.0.1:8080}, {address: 127.0.0.1:8081}]
  - name: b
    connect_timeout: *timeout
    endpoints: *endpoints
)",
                                  "t.yaml");
  ASSERT_NE(r.config, nullptr) << r.errorText();
  EXPECT_EQ(r.config->clusters.size(), 2u);
}

}  // namespace
}  // namespace sluice::config
