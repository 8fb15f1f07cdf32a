#include "filters/http/header_mutation/filter.h"

namespace sluice::filters::header_mutation {

sluice::http::FilterHeadersStatus HeaderMutationFilter::decodeHeaders(sluice::http::HeaderMap& headers, bool) {
  config_.mutation.applyToRequest(headers);
  return sluice::http::FilterHeadersStatus::Continue;
}

sluice::http::FilterHeadersStatus HeaderMutationFilter::encodeHeaders(sluice::http::HeaderMap& headers, bool) {
  config_.mutation.applyToResponse(headers);
  return sluice::http::FilterHeadersStatus::Continue;
}

}  // namespace sluice::filters::header_mutation
