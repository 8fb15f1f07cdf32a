#pragma once
// String and header matchers (config/matchers.h) both ways with Envoy's
// type.matcher.v3.StringMatcher and route.v3.HeaderMatcher /
// QueryParameterMatcher: shared by route matches, retry policies and RBAC.
//
// Out: string_match (or present_match) only, which Envoy and gRPC's xDS
// client both take. In: also the deprecated header forms (exact_match,
// prefix_match, ...) other servers still send; range matches and
// ignore_case are rejected (Sluice's matchers have neither).

#include "config/matchers.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"
#include "xds/proto_values.h"

namespace sluice::xds {

// Kind::Present has no StringMatcher form: callers handle it.
void stringMatcherToEnvoy(const config::StringMatcher& m, envoy::type::matcher::v3::StringMatcher& out);
FieldError stringMatcherFromEnvoy(const envoy::type::matcher::v3::StringMatcher& in, std::string_view path,
                                  config::StringMatcher& out);

void headerMatcherToEnvoy(const config::HeaderMatcher& m, envoy::config::route::v3::HeaderMatcher& out);
FieldError headerMatcherFromEnvoy(const envoy::config::route::v3::HeaderMatcher& in, std::string_view path,
                                  config::HeaderMatcher& out);

void queryMatcherToEnvoy(const config::QueryParameterMatcher& m,
                         envoy::config::route::v3::QueryParameterMatcher& out);
FieldError queryMatcherFromEnvoy(const envoy::config::route::v3::QueryParameterMatcher& in, std::string_view path,
                                 config::QueryParameterMatcher& out);

}  // namespace sluice::xds
