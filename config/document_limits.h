#pragma once
// Bounds on a parsed YAML document, checked before any reader walks it.
//
// yaml-cpp keeps an alias as one more reference to its anchor's node, so a
// file of a few hundred bytes can describe a tree of a billion nodes (the
// "billion laughs"): nine anchors, each a list of ten aliases to the one
// before. Parsing it is cheap; every walk over the tree that follows
// (environment substitution, the readers) visits each expanded node and
// never ends; an alias inside its own anchor makes a cycle, which no walk
// finishes. yaml-cpp itself bounds only the nesting depth (2000, as a
// DeepRecursion parse error).

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string_view>

#include "config/yaml_reader.h"

namespace sluice::config {

// Nodes a document may have with every alias expanded: far above any config
// written by hand or generated (10,000 routes are about 150,000 nodes), and
// small enough that walking it stays well under a second.
inline constexpr size_t kMaxExpandedNodes = 1'000'000;

// Counts the nodes of the first document of `text` as a walk over its
// parsed tree would meet them (aliases expanded), from the parser's events:
// the cost is one more parse, and none when the text defines no anchor
// ('&' nowhere in it: without one there is no alias). Past `limit`, or at
// an alias inside its own anchor (a cycle), records an error where the
// count stopped and returns false: nothing may walk the document then.
bool checkExpandedSize(std::string_view text, ParseContext& ctx, size_t limit = kMaxExpandedNodes);

}  // namespace sluice::config
