#include "config/document_limits.h"

#include <string>
#include <vector>

namespace sluice::config {

bool checkExpandedSize(const YAML::Node& root, ParseContext& ctx, size_t limit) {
  // An explicit stack, not recursion: the count, not the depth, is what is
  // bounded here, and the stack never holds more than `limit` nodes.
  std::vector<YAML::Node> unvisited{root};
  size_t count = 0;
  while (!unvisited.empty()) {
    const YAML::Node n = unvisited.back();
    unvisited.pop_back();
    if (++count > limit) {
      ctx.error(n, "",
                "the document expands to more than " + std::to_string(limit) +
                    " nodes through its aliases (anchors repeated inside anchors?)");
      return false;
    }
    if (n.IsSequence()) {
      for (auto it = n.begin(); it != n.end(); ++it) unvisited.push_back(*it);
    } else if (n.IsMap()) {
      for (auto it = n.begin(); it != n.end(); ++it) {
        unvisited.push_back(it->first);
        unvisited.push_back(it->second);
      }
    }
  }
  return true;
}

bool checkExpandedSize(std::string_view text, const YAML::Node& root, ParseContext& ctx) {
  return text.find('&') == std::string_view::npos || checkExpandedSize(root, ctx);
}

}  // namespace sluice::config
