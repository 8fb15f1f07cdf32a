#pragma once
// Route tables both ways between the config model (config/route_config.h)
// and Envoy v3's RouteConfiguration.
//
// What Envoy has a field for travels in that field: matches (prefix, path,
// safe_regex, headers, query parameters; methods as a ":method" header
// matcher), route actions, redirects, direct responses, header mutations,
// retry policies, per-filter overrides. The rest (a retry policy's body
// limit, a direct response's content type, overrides with no Envoy message)
// travels in io.sluice metadata (xds/sluice_metadata.h).
//
// A route without a hash policy of its own goes out with its cluster's
// (for weighted clusters, the first that has one), marked as such in
// io.sluice metadata: Envoy and gRPC clients hash by route, Sluice by
// cluster, and this makes them hash alike. Reading back, a policy so
// marked is dropped again (the cluster carries it).
//
// Each exact domain is also served as "domain:*": gRPC's xDS client matches
// virtual hosts against its target with the port ("echo:50051"), while
// Sluice and Envoy (ignore_port_in_host_matching) match without it. Reading
// back, a domain with a port is dropped when the same domain without it is
// there (Sluice matches without ports), and rejected otherwise.

#include <functional>
#include <string_view>
#include <vector>

#include "config/route_config.h"
#include "envoy/config/route/v3/route.pb.h"
#include "xds/proto_values.h"

namespace sluice::xds {

namespace envoy_route = envoy::config::route::v3;

// A cluster's hash policy by name; null when the cluster is unknown or has none.
using ClusterHashPolicies = std::function<const std::vector<config::HashPolicyConfig>*(std::string_view cluster)>;

void routeConfigToEnvoy(const config::RouteConfigEntry& rc, envoy_route::RouteConfiguration& out,
                        const ClusterHashPolicies& clusters = {});
// `out.path` is set to "RouteConfiguration 'name'" for messages. The table is
// read, not validated against other resources (validateResources does that).
FieldError routeConfigFromEnvoy(const envoy_route::RouteConfiguration& in, config::RouteConfigEntry& out);

}  // namespace sluice::xds
