#pragma once
// header_mutation: adds and removes request headers (before the router) and
// response headers (before the client), for every request on the listener.
//
//   http_filters:
//     - header_mutation:
//         request_headers_to_add: [{name: x-env, value: prod, append: false}]
//         request_headers_to_remove: [x-internal]
//         response_headers_to_add: [{name: x-served-by, value: sluice}]
//         response_headers_to_remove: [server]

#include "config/filter_spec.h"
#include "config/header_mutation.h"

namespace sluice::filters::header_mutation {

struct Spec final : config::FilterSpec {
  config::HeaderMutation mutation;
  nlohmann::json toJson() const override;
};

const config::HttpFilterReader& reader();

}  // namespace sluice::filters::header_mutation
