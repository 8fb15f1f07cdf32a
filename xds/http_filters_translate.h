#pragma once
// An HTTP listener's filters, and their per-route overrides, both ways
// between their specs (filters/http/*/config.h) and Envoy's filter messages:
//   fault           <-> envoy.extensions.filters.http.fault.v3.HTTPFault
//   local_ratelimit <-> envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
//   authz           <-> envoy.extensions.filters.http.rbac.v3.RBAC (RBACPerRoute per route)
//   header_mutation <-> envoy.extensions.filters.http.header_mutation.v3.HeaderMutation
//                       (HeaderMutationPerRoute per route)
//   ratelimit       <-> envoy.extensions.filters.http.ratelimit.v3.RateLimit: domain,
//                       timeout and failure mode only; Sluice's limit counts in Redis,
//                       not in a rate limit service, so the limit itself travels in
//                       io.sluice metadata, and Envoy, lacking a rate_limit_service,
//                       refuses the listener rather than not limiting
//   (router)        <-> envoy.extensions.filters.http.router.v3.Router, always last
//
// A spec that its Envoy message cannot hold whole (an authz policy with rules of
// both actions, a per-key local limit) is also written whole, as its JSON, in
// io.sluice metadata, which Sluice reads in preference; the Envoy message then
// holds what maps (and, for authz, fails closed).
//
// Reading, a filter is recognised by its typed_config's type; an unknown one
// is skipped when is_optional (as Envoy does) and rejected otherwise.

#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/map.h>
#include <google/protobuf/struct.pb.h>

#include "config/route_config.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "filters/network/http/config.h"
#include "xds/proto_values.h"

namespace sluice::xds {

namespace envoy_hcm = envoy::extensions::filters::network::http_connection_manager::v3;
using TypedPerFilterConfig = google::protobuf::Map<std::string, google::protobuf::Any>;

inline constexpr std::string_view kRouterFilterName = "envoy.filters.http.router";

// The router, as every chain ends.
void routerToEnvoy(envoy_hcm::HttpFilter& out);

// `extras` is the chain's io.sluice http_filters Struct (keyed by the
// HttpFilter's name). `instance` > 0 for a second filter of the same kind:
// its name gets ".<instance>" (HttpFilter names are unique in a chain).
void httpFilterToEnvoy(const filters::http_cm::HttpFilterSpec& f, envoy_hcm::HttpFilter& out,
                       google::protobuf::Struct& extras, int instance = 0);
// What one received HttpFilter is. `extras` may be null.
struct HttpFilterRead {
  enum class Kind { Filter, Router, Skipped };
  Kind kind = Kind::Filter;
  filters::http_cm::HttpFilterSpec spec;  // Kind::Filter
};
FieldError httpFilterFromEnvoy(const envoy_hcm::HttpFilter& in, std::string_view path,
                               const google::protobuf::Struct* extras, HttpFilterRead& out);

// Route and virtual host overrides: into typed_per_filter_config (keyed by
// the Envoy filter name the listener side uses), or into `sluice` (the
// io.sluice Struct's per_filter_config) when no Envoy message fits. Each
// typed one but fault is wrapped in route.v3.FilterConfig{is_optional: true},
// so that a client without that filter (gRPC's) ignores it instead of
// refusing the whole table; fault, which gRPC's client implements, goes bare
// (it would hand the wrapper to its fault parser, which refuses it).
void perFilterConfigsToEnvoy(const config::PerFilterConfigs& in, TypedPerFilterConfig& typed,
                             google::protobuf::Struct& sluice);
// `sluice` may be null; `path` is the owner's (".typed_per_filter_config" is added).
FieldError perFilterConfigsFromEnvoy(const TypedPerFilterConfig& typed, const google::protobuf::Struct* sluice,
                                     std::string_view path, config::PerFilterConfigs& out);

}  // namespace sluice::xds
