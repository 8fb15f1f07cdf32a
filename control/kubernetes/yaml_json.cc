#include "control/kubernetes/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <regex>

namespace sluice::control::kubernetes {
namespace {

using nlohmann::json;

json scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  // Quoted (or otherwise non-plain) scalars are strings whatever they hold.
  if (n.Tag() != "?") return s;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex integer("[-+]?[0-9]+");
  static const std::regex floating(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, integer)) {
    errno = 0;
    const long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == 0) return v;
  }
  if (std::regex_match(s, floating)) return std::strtod(s.c_str(), nullptr);
  return s;
}

json convert(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar(n);
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& item : n) a.push_back(convert(item));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = convert(kv.second);
      return o;
    }
  }
  return nullptr;
}

}  // namespace

bool manifestToJson(std::string_view text, json& out, std::string& error) {
  try {
    const std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.size() != 1) {
      error = docs.empty() ? "no document" : "holds " + std::to_string(docs.size()) + " documents (give one)";
      return false;
    }
    out = convert(docs[0]);
    return true;
  } catch (const YAML::Exception& e) {
    error = e.mark.is_null() ? e.msg
                             : "line " + std::to_string(e.mark.line + 1) + ", column " +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg;
    return false;
  }
}

}  // namespace sluice::control::kubernetes
