#pragma once
// HeaderMutationFilter: applies the listener's header mutation to each
// request on its way to the router and each response on its way out.

#include "filters/http/header_mutation/config.h"
#include "proxy/http/filter.h"
#include "proxy/http/route_config.h"

namespace sluice::filters::header_mutation {

struct HeaderMutationConfig final : sluice::http::HttpFilterConfig {
  explicit HeaderMutationConfig(const Spec& spec) : mutation(spec.mutation) {}
  const sluice::http::HeaderMutation mutation;
};

class HeaderMutationFilter final : public sluice::http::PassThroughDecoderFilter,
                                   public sluice::http::PassThroughEncoderFilter {
 public:
  explicit HeaderMutationFilter(const HeaderMutationConfig& config) : config_(config) {}
  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool) override;
  sluice::http::FilterHeadersStatus encodeHeaders(sluice::http::HeaderMap& headers, bool) override;

 private:
  const HeaderMutationConfig& config_;
};

// Builds a header_mutation's runtime config from its Spec, and its filters.
const sluice::http::HttpFilterFactory& factory();

}  // namespace sluice::filters::header_mutation
