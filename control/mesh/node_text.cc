#include "control/mesh/node_text.h"

namespace sluice::control::mesh {
namespace {

// Length-prefixed, so no scalar's content can pass for structure.
void appendString(char kind, const std::string& s, std::string& out) {
  out += kind;
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

void append(const YAML::Node& n, std::string& out) {
  // "?" and "!" are the tags yaml-cpp gives untagged plain and quoted scalars.
  if (const std::string& tag = n.Tag(); !tag.empty() && tag != "?") appendString('!', tag, out);
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      appendString('s', n.Scalar(), out);
      break;
    case YAML::NodeType::Sequence:
      out += '[';
      for (const auto& item : n) append(item, out);
      out += ']';
      break;
    case YAML::NodeType::Map:
      out += '{';
      for (const auto& kv : n) {
        append(kv.first, out);
        append(kv.second, out);
      }
      out += '}';
      break;
    case YAML::NodeType::Null:
      out += '~';
      break;
    case YAML::NodeType::Undefined:
      out += 'u';
      break;
  }
}

}  // namespace

std::string nodeText(const YAML::Node& node) {
  std::string out;
  append(node, out);
  return out;
}

}  // namespace sluice::control::mesh
