#pragma once
// What sluice-control serves one group of proxies: per resource type, every
// resource by name with its version. Built once per group when the input
// changes (control/snapshot_builder.h), shared read-only by every stream of
// that group (control/ads_server.h), so a push computes and serializes
// nothing per proxy.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/any.pb.h>

#include "xds/to_envoy.h"

namespace sluice::control {

struct TypeSnapshot {
  // Changes when any resource of this type changes (a SotW version_info).
  std::string version;
  struct Entry {
    std::string version;  // this resource's own (delta's per-resource version)
    google::protobuf::Any body;
  };
  std::map<std::string, Entry, std::less<>> resources;
};

struct GroupSnapshot {
  std::string group;
  // By type URL (xds/type_urls.h); a type with no resources may be absent.
  std::map<std::string, TypeSnapshot, std::less<>> types;
  // An LDS name not among the group's listeners: a proxyless gRPC client's
  // target ("echo", "echo:50051"). Resolved against this snapshot's route
  // tables; nothing when none serves it. Null when the group has none.
  std::function<std::optional<xds::Resource>(std::string_view name)> on_demand_listener;

  const TypeSnapshot* find(std::string_view type_url) const {
    auto it = types.find(type_url);
    return it == types.end() ? nullptr : &it->second;
  }
};

}  // namespace sluice::control
