#pragma once
// The config model as Envoy v3 resources: what sluice-control serves.
//
// A whole validated Config (one group of control.yaml, read with the same
// readers as a sluice YAML file) becomes Listeners, RouteConfigurations,
// Clusters, ClusterLoadAssignments and Secrets that any v3 xDS client can
// take: Envoy, gRPC's proxyless xDS, and sluice's own ADS client
// (xds/from_envoy.h reads them back into the same model). HTTP listeners
// get RDS over ADS for their route table; clusters get EDS over ADS for
// their endpoints; TLS blocks name their secrets for SDS over ADS.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "config/model.h"

namespace sluice::xds {

// One resource as served: its name and its message packed in an Any (whose
// type_url is the resource type's).
struct Resource {
  std::string name;
  google::protobuf::Any body;
};

// Resources by type URL (xds/type_urls.h), each list in the model's order.
using ResourcesByType = std::map<std::string, std::vector<Resource>, std::less<>>;

// Every resource of `cfg`. Never fails on a config that passed validation.
ResourcesByType toEnvoy(const config::Config& cfg);

// The Listener a proxyless gRPC client gets when it asks LDS for `name`
// (its target's host, "echo" or "echo:50051"): an api_listener holding an
// HttpConnectionManager whose routes come from the route table that has a
// virtual host for that domain (with the port, or without it), over RDS from
// ADS, and whose last HTTP filter is the router. Named exactly `name`.
// Nothing when no route table of `cfg` serves that domain.
std::optional<Resource> proxylessListener(const config::Config& cfg, std::string_view name);

}  // namespace sluice::xds
