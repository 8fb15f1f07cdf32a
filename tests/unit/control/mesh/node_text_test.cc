// A part's text tells a changed part from an unchanged one: equal for the
// same content however it is written, different for any change of value,
// structure or order.

#include "control/mesh/node_text.h"

#include <gtest/gtest.h>

namespace sluice::control::mesh {
namespace {

std::string text(const char* yaml) { return nodeText(YAML::Load(yaml)); }

TEST(NodeText, SameContentSameTextHoweverWritten) {
  EXPECT_EQ(text("{name: a, to: [{service: b, weight: 90}]}"),
            text("name: a\nto:\n  - service: b   # a comment\n    weight: 90\n"));
}

TEST(NodeText, AnyChangeChangesIt) {
  const std::string base = text("{name: a, to: [{service: b, weight: 90}, {service: c, weight: 10}]}");
  EXPECT_NE(base, text("{name: a, to: [{service: b, weight: 50}, {service: c, weight: 10}]}"));
  EXPECT_NE(base, text("{name: a, to: [{service: c, weight: 10}, {service: b, weight: 90}]}"));
  EXPECT_NE(base, text("{name: a, to: [{service: b, weight: 90}]}"));
  EXPECT_NE(base, text("{name: a, to: {service: b, weight: 90}}"));
}

TEST(NodeText, ScalarsCannotPassForStructure) {
  EXPECT_NE(text("[ab, c]"), text("[a, bc]"));
  EXPECT_NE(text("{a: b}"), text("[a, b]"));
  EXPECT_NE(text("[\"[a]\"]"), text("[[a]]"));
  EXPECT_NE(text("{a: ~}"), text("{a: \"~\"}"));
  EXPECT_NE(text("{a: 1}"), text("{a: \"1\"}"));
}

}  // namespace
}  // namespace sluice::control::mesh
