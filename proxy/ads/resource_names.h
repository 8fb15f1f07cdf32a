#pragma once
// What the ADS client reads out of received resources by itself, before
// any translation: a resource's own name (the key of its type's set), and
// the names a Listener or Cluster makes the client subscribe to next (its
// route configuration over RDS, its endpoints over EDS, its TLS material
// over SDS). Plain functions on the protos; no state, main thread or tests.

#include <set>
#include <string>
#include <string_view>

#include <google/protobuf/any.pb.h>

namespace sluice::ads {

// The name a resource is known by in its type: Listener.name,
// RouteConfiguration.name, Cluster.name, ClusterLoadAssignment.cluster_name,
// Secret.name. Empty, with `error` set, when `any` is not of `type_url` or
// does not parse.
std::string resourceName(std::string_view type_url, const google::protobuf::Any& any, std::string* error);

// Names one resource asks for, by the type they are fetched as.
struct ReferencedNames {
  std::set<std::string> route_configs;     // RDS: an HTTP connection manager's rds.route_config_name
  std::set<std::string> load_assignments;  // EDS: an EDS cluster's service_name (or its own name)
  std::set<std::string> secrets;           // SDS: TLS contexts' sds secret configs
  void merge(const ReferencedNames& other);
};

// From a Listener (every filter chain and the default one) or a Cluster;
// nothing for other types or for a resource that does not parse (which
// assembly rejects with its own message).
ReferencedNames referencedNames(std::string_view type_url, const google::protobuf::Any& any);

}  // namespace sluice::ads
