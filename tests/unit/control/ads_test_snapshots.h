#pragma once
// Hand-built group snapshots for the ADS server's tests: each resource a
// real Envoy message packed in an Any, named, with a tag field that makes
// two versions of one resource differ in their bytes.

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "control/snapshot.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "xds/type_urls.h"

namespace sluice::control::testing {

inline const std::string kCds(xds::kClusterType), kEds(xds::kClusterLoadAssignmentType), kLds(xds::kListenerType),
    kRds(xds::kRouteConfigurationType);

// A message of `type` named `name`; `tag` goes into a field so that two
// versions of one resource differ in their bytes.
inline google::protobuf::Any body(const std::string& type, const std::string& name, const std::string& tag) {
  google::protobuf::Any any;
  if (type == kCds) {
    envoy::config::cluster::v3::Cluster c;
    c.set_name(name);
    c.set_alt_stat_name(tag);
    any.PackFrom(c);
  } else if (type == kEds) {
    envoy::config::endpoint::v3::ClusterLoadAssignment c;
    c.set_cluster_name(name);
    c.add_endpoints()->mutable_locality()->set_zone(tag);
    any.PackFrom(c);
  } else if (type == kLds) {
    envoy::config::listener::v3::Listener l;
    l.set_name(name);
    l.set_stat_prefix(tag);
    any.PackFrom(l);
  } else {
    envoy::config::route::v3::RouteConfiguration r;
    r.set_name(name);
    r.add_virtual_hosts()->set_name(tag);
    any.PackFrom(r);
  }
  return any;
}

// Builds a group's snapshot: type -> (type version, name -> resource version).
struct SnapshotSpec {
  std::string group = "g";
  std::map<std::string, std::pair<std::string, std::map<std::string, std::string>>> types;
};

inline std::shared_ptr<GroupSnapshot> build(const SnapshotSpec& spec) {
  auto s = std::make_shared<GroupSnapshot>();
  s->group = spec.group;
  for (const auto& [type, tv] : spec.types) {
    TypeSnapshot& t = s->types[type];
    t.version = tv.first;
    for (const auto& [name, version] : tv.second) t.resources[name] = {version, body(type, name, version)};
  }
  return s;
}

inline SnapshotSpec v1() {
  SnapshotSpec s;
  s.types[kCds] = {"c1", {{"a", "1"}, {"b", "1"}}};
  s.types[kEds] = {"e1", {{"a", "1"}, {"b", "1"}}};
  s.types[kLds] = {"l1", {{"web", "1"}, {"admin", "1"}}};
  s.types[kRds] = {"r1", {{"routes", "1"}, {"other", "1"}}};
  return s;
}

}  // namespace sluice::control::testing
