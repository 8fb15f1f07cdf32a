#pragma once
// header_mutation: adds and removes request headers (before the router) and
// response headers (before the client), for every request on the listener.
//
//   header_mutation:
//     request_headers_to_add: [{name: x-env, value: prod, append: false}]
//     request_headers_to_remove: [x-internal]
//     response_headers_to_add: [{name: x-served-by, value: sluice}]
//     response_headers_to_remove: [server]

#include "proxy/http/filter.h"
#include "proxy/http/route_config.h"
#include "filters/legacy.h"

namespace sluice::filters::header_mutation {

struct HeaderMutationConfig final : sluice::http::HttpFilterConfig {
  sluice::http::HeaderMutation mutation;
  nlohmann::json toJson() const override;
};

class HeaderMutationFilter final : public sluice::http::PassThroughDecoderFilter,
                                   public sluice::http::PassThroughEncoderFilter {
 public:
  explicit HeaderMutationFilter(const HeaderMutationConfig& config) : config_(config) {}
  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool) override {
    config_.mutation.applyToRequest(headers);
    return sluice::http::FilterHeadersStatus::Continue;
  }
  sluice::http::FilterHeadersStatus encodeHeaders(sluice::http::HeaderMap& headers, bool) override {
    config_.mutation.applyToResponse(headers);
    return sluice::http::FilterHeadersStatus::Continue;
  }

 private:
  const HeaderMutationConfig& config_;
};

const legacy::HttpFactory& factory();

}  // namespace sluice::filters::header_mutation
