#include "config/hash_policy.h"

#include <algorithm>
#include <cctype>

#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

const char* kindName(HashPolicyConfig::Kind k) {
  switch (k) {
    case HashPolicyConfig::Kind::Header: return "header";
    case HashPolicyConfig::Kind::Cookie: return "cookie";
    case HashPolicyConfig::Kind::QueryParameter: return "query_parameter";
    case HashPolicyConfig::Kind::SourceIp: return "source_ip";
  }
  return "?";
}

}  // namespace

void readHashPolicy(MapReader& cr, std::vector<HashPolicyConfig>& out) {
  cr.forEachItem("hash_policy", [&](const YAML::Node& item, const std::string& path) {
    MapReader r(cr.ctx(), item, path);
    if (!r.isMap()) return;
    HashPolicyConfig h;
    int kinds = 0;
    if (r.has("header")) {
      ++kinds;
      h.kind = HashPolicyConfig::Kind::Header;
      r.string("header", h.name);
      std::transform(h.name.begin(), h.name.end(), h.name.begin(), [](unsigned char ch) { return std::tolower(ch); });
    }
    if (r.has("cookie")) {
      ++kinds;
      h.kind = HashPolicyConfig::Kind::Cookie;
      r.string("cookie", h.name);
    }
    if (r.has("query_parameter")) {
      ++kinds;
      h.kind = HashPolicyConfig::Kind::QueryParameter;
      r.string("query_parameter", h.name);
    }
    if (r.has("source_ip")) {
      ++kinds;
      h.kind = HashPolicyConfig::Kind::SourceIp;
      bool on = true;
      r.boolean("source_ip", on);
      if (!on) r.ctx().error(r.locOf("source_ip"), r.childPath("source_ip"), "only 'source_ip: true' is meaningful");
    }
    if (kinds != 1) {
      r.ctx().error(item, path, "give exactly one of header, cookie, query_parameter, source_ip");
    } else if (h.kind != HashPolicyConfig::Kind::SourceIp && h.name.empty()) {
      r.ctx().error(item, path, "name must not be empty");
    }
    r.finish();
    out.push_back(std::move(h));
  });
}

nlohmann::json toJson(const std::vector<HashPolicyConfig>& policy) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : policy) {
    if (h.kind == HashPolicyConfig::Kind::SourceIp) {
      out.push_back({{"source_ip", true}});
    } else {
      out.push_back({{kindName(h.kind), h.name}});
    }
  }
  return out;
}

}  // namespace sluice::config
