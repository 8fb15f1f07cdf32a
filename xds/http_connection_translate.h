#pragma once
// The `http` network filter's settings (filters/network/http/config.h) both
// ways with Envoy's HttpConnectionManager.
//
// Out, routes always come by RDS over ADS (route_config_name), the filters
// are the listener's followed by the router, and stat_prefix (which Envoy
// requires) is the listener's name. Settings Envoy has no field for go into
// the chain's io.sluice metadata under "http" (xds/sluice_metadata.h).
//
// In, an inline route_config is taken too: it becomes a named table (its
// own name, or the listener's when it has none) that the caller adds to the
// config. Fields that only change Envoy's statistics, tracing or logging
// are ignored; any other field Sluice does not implement is rejected.

#include <vector>

#include <google/protobuf/struct.pb.h>

#include "config/model.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "filters/network/http/config.h"
#include "xds/proto_values.h"

namespace sluice::xds {

namespace envoy_hcm = envoy::extensions::filters::network::http_connection_manager::v3;

// `chain_sluice` is the filter chain's io.sluice Struct.
void httpConnectionToEnvoy(const filters::http_cm::Spec& spec, const std::string& stat_prefix,
                           envoy_hcm::HttpConnectionManager& out, google::protobuf::Struct& chain_sluice);

// `chain_sluice` may be null. `scope_name` names an unnamed inline table;
// inline tables are appended to `inline_routes`.
FieldError httpConnectionFromEnvoy(const envoy_hcm::HttpConnectionManager& in, std::string_view path,
                                   const google::protobuf::Struct* chain_sluice, const std::string& scope_name,
                                   filters::http_cm::Spec& out, std::vector<config::RouteConfigEntry>& inline_routes);

}  // namespace sluice::xds
