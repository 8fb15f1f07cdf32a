#pragma once
// The HTTP authz filter's runtime half (its YAML and spec: config.h).
//
// AuthzConfig is what a snapshot (listener level) or a route table (per
// route or virtual host) holds: the enforcer built from a Spec, shared by
// every worker. The filter, one per stream, decides in decodeHeaders with
// the most specific config and is stateless otherwise.

#include "filters/http/authz/config.h"
#include "proxy/authz/enforcer.h"
#include "proxy/http/filter.h"

namespace sluice::filters::authz {

struct AuthzConfig final : sluice::http::HttpFilterConfig {
  explicit AuthzConfig(const Spec& spec)
      : enforcer(spec.stat_prefix, spec.policy, sluice::authz::Layer::Http) {}
  const sluice::authz::Enforcer enforcer;
};

class AuthzFilter final : public sluice::http::PassThroughDecoderFilter {
 public:
  explicit AuthzFilter(const AuthzConfig& config) : config_(config) {}
  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;

 private:
  const AuthzConfig& config_;  // listener level; a per-route config overrides it
};

// Builds runtime configs from Specs (listener level and per route), and the filters.
const sluice::http::HttpFilterFactory& factory();

}  // namespace sluice::filters::authz
