#pragma once
// Shared by the listener and route translation tests: a YAML config through
// toEnvoy, over the wire, and back through assemble; canonical dumps to
// compare models; Envoy resources in protobuf text format as other servers
// send them.

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "config/config_json.h"
#include "config/loader.h"
#include "xds/from_envoy.h"
#include "xds/to_envoy.h"
#include "xds/type_urls.h"

namespace sluice::xds::testing {

inline std::shared_ptr<const config::Config> loadYaml(const std::string& yaml) {
  auto r = config::loadString(yaml);
  EXPECT_TRUE(r.config) << r.errorText();
  return r.config;
}

// Every resource of `cfg`, serialized and parsed again, by type.
inline ReceivedResources served(const config::Config& cfg) {
  ReceivedResources out;
  for (const auto& [type, list] : toEnvoy(cfg)) {
    ResourceMap* m = type == kListenerType               ? &out.listeners
                     : type == kRouteConfigurationType    ? &out.route_configs
                     : type == kClusterType               ? &out.clusters
                     : type == kClusterLoadAssignmentType ? &out.load_assignments
                                                          : &out.secrets;
    for (const auto& r : list) {
      google::protobuf::Any wire;
      EXPECT_TRUE(wire.ParseFromString(r.body.SerializeAsString()));
      (*m)[r.name] = wire;
    }
  }
  return out;
}

// The model's dump with every resource list in a stable order (assemble
// adds received resources by type and name, not in the file's order), and
// without what only a file has (its name).
inline nlohmann::json canonical(const config::Config& cfg) {
  nlohmann::json j = config::toJson(cfg);
  for (const char* key : {"listeners", "route_configs", "clusters", "load_assignments", "secrets"}) {
    auto& a = j[key];
    std::sort(a.begin(), a.end(), [](const nlohmann::json& x, const nlohmann::json& y) { return x.dump() < y.dump(); });
  }
  j.erase("config_source");
  return j;
}

// YAML -> model -> Envoy -> wire -> model: the result of assembling it all
// onto an empty base with the same bootstrap.
inline AssembleResult roundTrip(const config::Config& cfg) {
  config::Config base;
  base.bootstrap = cfg.bootstrap;
  return assemble(base, served(cfg));
}

template <class M>
M fromText(const std::string& text) {
  M m;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &m)) << text;
  return m;
}

template <class M>
google::protobuf::Any packed(const M& m) {
  google::protobuf::Any a;
  a.PackFrom(m);
  return a;
}

inline std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

}  // namespace sluice::xds::testing
