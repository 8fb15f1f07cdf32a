#pragma once
// http: the terminal network filter that speaks HTTP/1.1 and HTTP/2 to the downstream,
// runs each request through the HTTP filter chain and routes it. The engine
// (connection manager, streams) lives in proxy/http/; this half is its
// settings as plain data, their reader and their checks (config library).
//
//   http:
//     route_config_name: shared        # or route_config: {...} inline (named after the listener)
//     codec: auto                      # http1 | http2; auto: h2 by ALPN or by the h2c preface
//     http2: {max_concurrent_streams: 100, ...}   # config/http2_settings.h
//     http_filters: [{fault: {...}}, {header_mutation: {...}}]   # the router is added last
//     access_log: {path: /dev/stdout, format: json}               # or a list of them
//     max_request_headers_bytes: 61440
//     max_uri_bytes: 8192
//     max_headers_count: 100
//     max_request_body_mib: 0          # 0 = unlimited
//     request_headers_timeout: 10s
//     stream_idle_timeout: 5m
//     max_stream_duration: 0
//     idle_timeout: 1h
//     buffer_limit_bytes: 1048576
//     xff_num_trusted_hops: 0
//     generate_request_id: true
//     forward_client_cert_details: sanitize
//     normalize_path: true             # RFC 3986 6.2.2; see config/path_normalization.h
//     merge_slashes: true
//     path_with_escaped_slashes: reject   # keep | unescape_and_redirect | unescape_and_forward
//     reject_backslash: true
//     reject_path_parameters_dot_segments: true
//     reject_overlong_utf8: true
//     original_path_header: ""         # e.g. x-envoy-original-path; off when empty

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/filter_spec.h"
#include "config/http_connection.h"
#include "config/model.h"

namespace sluice::filters::http_cm {

// One entry of `http_filters`, found by name when read.
struct HttpFilterSpec {
  std::string name;
  const config::HttpFilterReader* reader = nullptr;
  std::shared_ptr<const config::FilterSpec> spec;  // null only in a config that failed to read
};

struct AccessLogSpec {
  std::string path;             // a file, or "/dev/stdout"
  std::string format = "json";  // or a format string (config/access_log_format.h), checked when read
};

// The connection settings (config/http_connection.h), and what the factory
// builds the rest of the runtime config from.
struct Spec final : config::FilterSpec, config::HttpConnectionSettings {
  config::SourceLoc route_config_loc;  // of route_config_name, or of the inline table
  // In order, without the router: every chain ends with it, so the factory appends it.
  std::vector<HttpFilterSpec> http_filters;
  std::vector<AccessLogSpec> access_logs;

  nlohmann::json toJson() const override;
  // By codec: auto offers h2 then http/1.1.
  std::vector<std::string> applicationProtocols() const override;
};

const config::NetworkFilterReader& reader();

}  // namespace sluice::filters::http_cm
