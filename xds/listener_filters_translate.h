#pragma once
// A filter chain's network filters both ways between their specs
// (filters/network/*/config.h) and Envoy's listener Filter messages:
//   http            <-> http_connection_manager.v3.HttpConnectionManager
//                       (xds/http_connection_translate.h)
//   tcp_proxy       <-> tcp_proxy.v3.TcpProxy (cluster, idle_timeout,
//                       max_connect_attempts; stat_prefix is the listener's name)
//   authz           <-> network rbac.v3.RBAC (xds/http_rbac_translate.h)
//   local_ratelimit <-> network local_ratelimit.v3.LocalRateLimit (shadow and
//                       per_key have no Envoy field: the whole spec is then also
//                       in the chain's io.sluice "network_filters")
// A filter is recognised by its typed_config's type; any other is rejected.

#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>

#include "config/model.h"
#include "envoy/config/listener/v3/listener_components.pb.h"
#include "xds/proto_values.h"

namespace sluice::xds {

namespace envoy_listener = envoy::config::listener::v3;

// `chain_sluice` is the chain's io.sluice Struct; `stat_prefix` the listener's name.
void networkFilterToEnvoy(const config::NetworkFilterEntry& f, const std::string& stat_prefix,
                          envoy_listener::Filter& out, google::protobuf::Struct& chain_sluice);

// `chain_sluice` may be null; inline route tables of an HTTP filter are
// appended to `inline_routes` (unnamed ones take `scope_name`).
FieldError networkFilterFromEnvoy(const envoy_listener::Filter& in, std::string_view path,
                                  const google::protobuf::Struct* chain_sluice, const std::string& scope_name,
                                  config::NetworkFilterEntry& out, std::vector<config::RouteConfigEntry>& inline_routes);

}  // namespace sluice::xds
