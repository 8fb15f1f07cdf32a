#pragma once
// Sluice's own settings that no Envoy field holds travel in a resource's
// metadata, under filter_metadata["io.sluice"]: a Struct that sluice-control
// writes and sluice's ADS client reads, and that Envoy and gRPC ignore (as
// they ignore any metadata namespace they do not know). Where Envoy has a
// field, the field is used instead; the Struct only carries the rest.
//
// The keys, by where they sit (each written only when it differs from the
// model's default, so resources from other servers, which have none, read
// as the defaults; a key Sluice does not know is rejected, as on the
// cluster side, since it would be a newer sluice-control's value dropped):
//   Listener:      max_connections
//   FilterChain:   http {max_uri_bytes, max_request_body_mib, buffer_limit_bytes,
//                        max_request_headers_bytes (when not whole KiB),
//                        reject_backslash, reject_path_parameters_dot_segments,
//                        reject_overlong_utf8, original_path_header,
//                        http2 {max_frame_size, max_stream_resets_per_second,
//                        max_stream_resets_burst, keepalive_timeout_ms (only
//                        without a keepalive interval)}, access_logs [{path, format}]}
//                  http_filters {<HttpFilter.name>: <the spec's JSON>} for a filter
//                        its Envoy message cannot hold whole (ratelimit always, a
//                        per-key local_ratelimit, an authz policy of mixed actions)
//                  network_filters {<Filter.name>: <the spec's JSON>} likewise
//                        (a shadow or per-key local_ratelimit, mixed authz)
//   VirtualHost:   per_filter_config {<our filter name>: <the spec's JSON>} for
//                        overrides with no whole Envoy per-route message;
//                  retry_policy {max_request_body_bytes, retry_non_idempotent}
//   Route:         the same two, and methods [..] (with more than one method,
//                        beside the ":method" regex Envoy reads),
//                  direct_response {content_type}
// Sluice reads a spec's JSON with the filter's own YAML reader, so every
// check it makes applies to xDS too.

#include <string>
#include <string_view>

#include <google/protobuf/struct.pb.h>
#include <nlohmann/json.hpp>

#include "envoy/config/core/v3/base.pb.h"

namespace sluice::xds {

// The io.sluice Struct (kSluiceMetadataKey, xds/cluster_translate.h) of `m`, created empty when absent.
google::protobuf::Struct& sluiceMetadata(envoy::config::core::v3::Metadata& m);
// Null when `m` has none.
const google::protobuf::Struct* findSluiceMetadata(const envoy::config::core::v3::Metadata& m);

// JSON <-> Struct (numbers are doubles in a Struct; integral ones come back
// as integers).
google::protobuf::Value toStructValue(const nlohmann::json& j);
nlohmann::json fromStructValue(const google::protobuf::Value& v);
nlohmann::json fromStruct(const google::protobuf::Struct& s);
void toStruct(const nlohmann::json& object, google::protobuf::Struct& out);

}  // namespace sluice::xds
