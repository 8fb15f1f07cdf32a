#pragma once
// Hash policies (config/hash_policy.h) both ways with Envoy's
// RouteAction.hash_policy. Sluice takes the first source that yields a
// key; Envoy combines them unless one is `terminal`. So every policy goes
// out terminal, and a list coming in must be terminal in all but its last.
// Header (no regex_rewrite), cookie (name only: Sluice sets no cookie),
// query parameter and connection_properties.source_ip travel; filter_state
// does not.

#include <google/protobuf/repeated_field.h>

#include <vector>

#include "config/hash_policy.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "xds/proto_values.h"

namespace sluice::xds {

using EnvoyHashPolicies = google::protobuf::RepeatedPtrField<envoy::config::route::v3::RouteAction::HashPolicy>;

void hashPolicyToEnvoy(const std::vector<config::HashPolicyConfig>& in, EnvoyHashPolicies& out);
FieldError hashPolicyFromEnvoy(const EnvoyHashPolicies& in, std::string_view path,
                               std::vector<config::HashPolicyConfig>& out);

}  // namespace sluice::xds
